"""Tests for reporting.isp_data: the family-filter counts of the configured groups (pure) and
a report of a year with no database at all (every section present, nothing invented)."""

from __future__ import annotations

import ipaddress
from datetime import datetime
from pathlib import Path

from report_db import TIRANE

from policy.engine import Group
from reporting.isp_config import IspSettings
from reporting.isp_data import collect_isp, family_counts


def net(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    return ipaddress.ip_network(text)


def test_family_counts_networks_and_addresses_and_their_share() -> None:
    groups = [Group("f", "F", (net("10.0.0.0/16"), net("2001:db8::/48")), family=True,
                    addresses=("192.0.2.1",)),
              Group("b", "B", (net("10.1.0.0/16"),)), Group("x", "X")]
    f = family_counts(groups)
    assert (f.groups, f.networks, f.addresses, f.all_networks, f.percent) == (1, 2, 1, 4, 75.0)
    assert family_counts([Group("x", "X")]).percent is None


def test_a_year_without_a_database_reports_nothing_made_up(tmp_path: Path) -> None:
    r = collect_isp(tmp_path / "none.sqlite", "2026",
                    IspSettings("R", "L12345678A", "c", "s"), [], [], [], 60, False, 48,
                    datetime(2026, 3, 1, tzinfo=TIRANE))
    assert not r.header.complete and r.blocked_total == 0 and r.blocked_by_category == ()
    assert not r.propagation.monitored and r.propagation.serials == ()
    assert r.selftests.runs == 0 and r.feed.outages == () and len(r.months) == 12
