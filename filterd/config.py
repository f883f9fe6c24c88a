"""Load `/etc/roja/roja.toml` once into frozen dataclasses; every error names file, line, key.

Top-level tables: `[school]`, `[state]`, `[dns]` (+ `[dns.acl]`), `[[lists]]`, `[[groups]]`,
`[policy]`, `[incidents]`, `[feed]`, `[rpz]`, `[report]`, `[metrics]`, `[log]`, `[firewall]`,
`[proxy]`, `[selftest]`, `[console]`, `[isp]`.
Each unit parses its own table.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

import blocklists.feed_config
import blocklists.rpz_config
import dns_resolver.config
import filterd.console.config
import filterd.firewall.config
import filterd.proxy.config
import filterd.selftest.config
import policy.config
import reporting.config
import reporting.delivery_config
import reporting.isp_config
from configkit import ConfigError, Section, load_toml, parse_hostport, parse_toml_text

DEFAULT_PATH = Path("/etc/roja/roja.toml")
FEED_LIST_ID = "hotline"  # filterd.hotline.LIST_ID (not imported: it loads the feed's sync)


@dataclass(frozen=True)
class School:
    name: str = ""
    code: str = ""


@dataclass(frozen=True)
class RojaConfig:
    path: Path
    school: School
    state_dir: Path
    dns: dns_resolver.config.DnsSettings
    policy: policy.config.PolicySettings
    incidents: reporting.config.IncidentSettings
    feed: blocklists.feed_config.FeedSettings
    rpz: blocklists.rpz_config.RpzSettings
    report: reporting.delivery_config.ReportSettings
    metrics_listen: tuple[str, int] | None
    log_level: str
    firewall: filterd.firewall.config.FirewallSettings = field(
        default_factory=filterd.firewall.config.FirewallSettings)
    proxy: filterd.proxy.config.ProxySettings = field(
        default_factory=filterd.proxy.config.ProxySettings)
    selftest: filterd.selftest.config.SelftestSettings = field(
        default_factory=filterd.selftest.config.SelftestSettings)
    console: filterd.console.config.ConsoleSettings = field(
        default_factory=filterd.console.config.ConsoleSettings)
    isp: reporting.isp_config.IspSettings | None = None  # [isp]: the provider (roja isp report)


def load_config(path: Path) -> RojaConfig:
    data, source = load_toml(path)
    return _parse(Section(data, "", source), path)


def parse_config_text(text: str, path: Path) -> RojaConfig:
    data, source = parse_toml_text(text, str(path))
    return _parse(Section(data, "", source), path)


def _parse(root: Section, path: Path) -> RojaConfig:
    base = path.parent.resolve()
    school_s = root.section("school")
    school = School(school_s.str("name", ""), school_s.str("code", ""))
    school_s.done()
    state = root.section("state")
    state_dir = Path(state.str("dir", "/var/lib/roja"))
    state.done()
    dns = dns_resolver.config.parse(root.section("dns"), base)
    pol = policy.config.parse(root, base)
    incidents = reporting.config.parse(root.section("incidents"))
    feed = blocklists.feed_config.parse(root.section("feed"), base)
    _refuse_the_feed_list_id(root, pol, feed)
    rpz = blocklists.rpz_config.parse(root.section("rpz"))
    report = dataclasses.replace(
        reporting.delivery_config.parse(root.section("report")),
        group_names={g.id: g.name for g in (pol.default_group, *pol.groups)})
    metrics = root.section("metrics")
    listen_text = metrics.str("listen", "127.0.0.1:9153")
    metrics_listen = None
    if listen_text:
        try:
            metrics_listen = parse_hostport(listen_text, 9153)
        except ValueError:
            raise metrics.error("listen", f"{listen_text!r} is not host:port") from None
    metrics.done()
    log = root.section("log")
    level = log.choice("level", ("debug", "info", "warning", "error"), "info")
    log.done()
    firewall_section = root.section("firewall")
    firewall = filterd.firewall.config.parse(firewall_section)
    proxy = filterd.proxy.config.parse(root.section("proxy"), base,
                                       firewall.redirected_families)
    if firewall.redirected_families and not (proxy.enabled and proxy.mode == "transparent"):
        raise firewall_section.error("transparent_proxy", (
            '"all" ridrejton gjithë uebin e LAN-it te proxy-ja, por [proxy] nuk është në mënyrën '
            'transparente (enabled = true, mode = "transparent"): asnjë faqe nuk do të hapej / '
            '"all" sends all LAN web traffic to the proxy, but [proxy] is not in transparent '
            'mode (enabled = true, mode = "transparent"): no web page would open'))
    selftest = filterd.selftest.config.parse(root.section("selftest"))
    console = filterd.console.config.parse(root.section("console"))
    isp = reporting.isp_config.parse(root.section("isp"))
    root.done()
    return RojaConfig(path=path, school=school,
                      state_dir=state_dir if state_dir.is_absolute() else base / state_dir,
                      dns=dns, policy=pol, incidents=incidents, feed=feed, rpz=rpz, report=report,
                      metrics_listen=metrics_listen,
                      log_level=level, firewall=firewall, proxy=proxy,
                      selftest=selftest, console=console, isp=isp)


def _refuse_the_feed_list_id(root: Section, pol: policy.config.PolicySettings,
                              feed: blocklists.feed_config.FeedSettings) -> None:
    """With `[feed]` on, the synced entries form the list `hotline`: a `[[lists]]` of that id
    would be a second list with the same name (two rows in Listat, counts merged)."""
    if not feed.enabled:
        return
    for index, lc in enumerate(pol.lists):
        if lc.rule.id == FEED_LIST_ID:
            line = root.section("feed").error("url", "").line
            sq, en = (f" (rreshti {line})", f" (line {line})") if line else ("", "")
            raise root.error(f"lists[{index}].id", (
                f'id "{FEED_LIST_ID}" është edhe lista e linjës nga [feed] url{sq}: dy '
                f'lista me të njëjtin id. Jepini kësaj [[lists]] një id tjetër, p.sh. '
                f'"{FEED_LIST_ID}-vendore" / "{FEED_LIST_ID}" is also the id of the hotline '
                f"feed's list from [feed] url{en}: two lists with one id. Give this "
                f'[[lists]] another id, e.g. "{FEED_LIST_ID}-vendore"'))


def missing_lists(cfg: RojaConfig) -> list[policy.config.ListConfig]:
    """The `[[lists]]` whose file (a directory for `format = "ut1"`) is not there."""
    return [lc for lc in cfg.policy.lists
            if not (lc.path.is_dir() if lc.format == "ut1" else lc.path.is_file())]


def missing_files(cfg: RojaConfig) -> list[str]:
    """What `roja config check` finds missing beyond the text: list files, the feed's key."""
    problems = [f"lista {lc.rule.id!r} ([[lists]] path = {lc.path}): skedari mungon / file "
                "missing" for lc in missing_lists(cfg)]
    if cfg.feed.enabled and not cfg.feed.public_key.is_file():
        problems.append(f"[feed] public_key = {cfg.feed.public_key}: skedari mungon / file "
                        "missing")
    return problems


__all__ = ["ConfigError", "RojaConfig", "load_config", "missing_files", "missing_lists",
           "parse_config_text"]
