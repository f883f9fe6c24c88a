"""Tests for `roja incidents list|tail` (filterd.commands.incidents) with click's CliRunner, over
a real incident database written by reporting.incidents."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from cli_kit import invoke
from click.testing import Result

from filterd.commands import incidents as cmd
from reporting.config import IncidentSettings
from reporting.incidents import Incident, IncidentWriter, db_path
from reporting.pseudonym import load_or_create_key, pseudonym

TIRANE = ZoneInfo("Europe/Tirane")


def run(state: Path, *args: str) -> Result:
    return invoke(cmd.incidents, state, *args, catch_exceptions=False)


def add(state: Path, *items: tuple[float, str, str]) -> None:
    """Write incidents (seconds ago, client, name) with the installation's real key."""
    now = time.time()

    async def write() -> None:
        writer = IncidentWriter(db_path(state), load_or_create_key(state), IncidentSettings())
        await writer.start()
        for ago, client, name in items:
            writer.submit(Incident(now - ago, client, "nxënësit", name, "adult", "ut1-adult",
                                   "blocked", "dns", "listed"))
        await writer.stop()

    asyncio.run(write())


@pytest.fixture
def state(tmp_path: Path) -> Path:
    add(tmp_path, (3 * 3600, "10.0.0.5", "old.example"), (600, "10.0.0.5", "bad.example"),
        (590, "10.0.0.5", "bad.example"), (60, "10.0.0.9", "porn.example"))
    return tmp_path


def test_list_shows_a_table_with_albanian_first_headers(state: Path) -> None:
    result = run(state, "list")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    for header in ("Koha / Time", "Klienti / Client", "Grupi / Group", "Emri / Name",
                   "Kategoria / Category", "Lista / List", "Herë / Count"):
        assert header in lines[0]
    assert set(lines[1]) == {"-", " "}
    body = lines[2:5]
    assert ["old.example" in body[0], "bad.example" in body[1], "porn.example" in body[2]] == [
        True, True, True]
    assert body[1].split()[-1] == "2"  # the repeat within 60 s is one row, twice
    key = load_or_create_key(state)
    assert pseudonym(key, "10.0.0.5") in body[1]
    assert "nxënësit" in body[1]
    assert "10.0.0.5" not in result.output and "10.0.0.9" not in result.output
    assert "3 incidente, 4 herë gjithsej / 3 incidents, 4 times in all" in result.output


def test_list_shows_tirane_local_time(state: Path) -> None:
    result = run(state, "list", "--json")
    newest = json.loads(result.output)[-1]
    shown = datetime.fromtimestamp(newest["last_at"], TIRANE).strftime("%d.%m.%Y %H:%M:%S")
    assert shown in run(state, "list").output


@pytest.mark.parametrize(("unix", "text"), [
    (1_719_900_000, "02.07.2024 08:00:00"),  # summer: UTC+2
    (1_733_000_000, "30.11.2024 21:53:20"),  # winter: UTC+1
])
def test_local_time_is_europe_tirane(unix: float, text: str) -> None:
    assert cmd.local_time(unix) == text


@pytest.mark.parametrize(("since", "names"), [
    ("30m", ["bad.example", "porn.example"]),
    ("5m", ["porn.example"]),
    ("2h", ["bad.example", "porn.example"]),
    ("1h30m", ["bad.example", "porn.example"]),
    ("1d", ["old.example", "bad.example", "porn.example"]),
])
def test_list_since(state: Path, since: str, names: list[str]) -> None:
    result = run(state, "list", "--since", since, "--json")
    assert [r["name"] for r in json.loads(result.output)] == names


def test_list_limit_keeps_the_newest(state: Path) -> None:
    result = run(state, "list", "--limit", "1", "--json")
    assert [r["name"] for r in json.loads(result.output)] == ["porn.example"]


def test_list_json_has_every_field(state: Path) -> None:
    rows = json.loads(run(state, "list", "--json").output)
    bad = rows[1]
    assert bad["count"] == 2
    assert bad["client"] == pseudonym(load_or_create_key(state), "10.0.0.5")
    assert {"id", "first_at", "last_at", "group", "name", "category", "list_id", "action",
            "source", "reason", "first_time", "last_time"} <= set(bad)
    assert bad["group"] == "nxënësit"
    assert datetime.fromisoformat(bad["last_time"]).timestamp() == pytest.approx(bad["last_at"])


def test_list_with_nothing_in_the_window(state: Path) -> None:
    result = run(state, "list", "--since", "10s")
    assert result.exit_code == 0
    assert "Nuk ka incidente që nga" in result.output
    assert "No incidents since" in result.output


NOW = datetime(2024, 11, 20, 12, 0, tzinfo=TIRANE).timestamp()


@pytest.mark.parametrize(("text", "expected"), [
    ("30m", NOW - 1800),
    ("1h", NOW - 3600),
    ("2d", NOW - 2 * 86400),
    ("1w", NOW - 7 * 86400),
    ("45s", NOW - 45),
    ("1h30m", NOW - 5400),
    (" 2H ", NOW - 7200),
    ("01.11.2024", datetime(2024, 11, 1, tzinfo=TIRANE).timestamp()),
    ("01.11.2024 08:30", datetime(2024, 11, 1, 8, 30, tzinfo=TIRANE).timestamp()),
    ("2024-07-01", datetime(2024, 7, 1, tzinfo=TIRANE).timestamp()),
    ("2024-07-01T08:00", datetime(2024, 7, 1, 8, tzinfo=TIRANE).timestamp()),
    ("2024-07-01T08:00+00:00", datetime(2024, 7, 1, 10, tzinfo=TIRANE).timestamp()),
])
def test_parse_since(text: str, expected: float) -> None:
    assert cmd.parse_since(text, NOW) == expected


@pytest.mark.parametrize("text", ["", "1", "h", "1x", "-1h", "0h", "1.5h", "yesterday",
                                  "31.02.2024"])
def test_bad_since_is_a_clear_usage_error(tmp_path: Path, text: str) -> None:
    result = run(tmp_path, "list", "--since", text)
    assert result.exit_code == 2
    assert "Invalid value for '--since'" in result.output
    assert "30m, 1h, 2d" in result.output or "longer than zero" in result.output


@pytest.mark.parametrize("args", [["list"], ["tail", "--once"], ["tail"]])
def test_no_database_yet_is_a_friendly_message(tmp_path: Path, args: list[str]) -> None:
    result = run(tmp_path, *args)
    assert result.exit_code == 0
    assert result.output == "Nuk ka ende incidente. / No incidents yet.\n"
    assert list(tmp_path.iterdir()) == []  # nothing created


def test_no_database_yet_with_json_prints_an_empty_list(tmp_path: Path) -> None:
    result = invoke(cmd.incidents, tmp_path, "list", "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == []
    assert "No incidents yet" in result.stderr


def test_a_damaged_database_is_an_error_not_a_traceback(tmp_path: Path) -> None:
    db_path(tmp_path).write_text("not sqlite\n" * 100)
    result = run(tmp_path, "list")
    assert result.exit_code == 1
    assert "not a Roja incident database" in result.output


def test_tail_once_prints_the_latest_rows_and_exits(state: Path) -> None:
    result = run(state, "tail", "--once")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert "Koha / Time" in lines[0]
    assert [n for n in ("old.example", "bad.example", "porn.example")
            if any(n in line for line in lines[2:])] == ["old.example", "bad.example",
                                                         "porn.example"]
    only_last = run(state, "tail", "--once", "-n", "1").output.splitlines()[2:]
    assert len(only_last) == 1 and "porn.example" in only_last[0]


def test_tail_follows_new_rows_until_ctrl_c(state: Path, monkeypatch: pytest.MonkeyPatch
                                           ) -> None:
    sleeps: list[float] = []

    def fake_sleep(seconds: float) -> None:
        sleeps.append(seconds)
        if len(sleeps) == 1:
            add(state, (0, "10.0.0.7", "new.example"))
        elif len(sleeps) == 3:
            raise KeyboardInterrupt

    monkeypatch.setattr(time, "sleep", fake_sleep)
    result = run(state, "tail", "-n", "0", "--interval", "0.2")
    assert result.exit_code == 0
    body = result.output.splitlines()[2:]
    assert len(body) == 1 and "new.example" in body[0]
    assert pseudonym(load_or_create_key(state), "10.0.0.7") in body[0]
    assert sleeps == [0.2, 0.2, 0.2]
