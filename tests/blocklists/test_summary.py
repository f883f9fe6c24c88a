"""`roja lists status` says per list what the last compile took and skipped."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from blocklists.compiled import CompiledList
from blocklists.store import ACTIVE_NAME, ListSource, compile_sources
from filterd.commands.lists import lists


def test_lists_status_shows_domains_urls_addresses_and_skipped_kinds(tmp_path: Path) -> None:
    listed = tmp_path / "urlhaus.txt"
    listed.write_text("! URLhaus style\n1.2.3.4\n5.6.7.8\nbad.example\n"
                      "||evil.example/x/payload.sh^$all\n||ad.example^$script\n"
                      "example.org##.ad\n")
    sources = [ListSource("urlhaus", listed, "adblock", "malware")]
    compile_sources(sources, tmp_path / ACTIVE_NAME, "fp")
    result = CliRunner().invoke(lists, ["status"], obj={"state_dir": tmp_path})
    assert result.exit_code == 0, result.output
    assert ("Lista / list urlhaus: 1 domene / domains, 1 URL, 2 adresa / addresses; "
            "anashkaluar / skipped: 2 (cosmetic 1, script 1)") in result.output
    result = CliRunner().invoke(lists, ["status", "--json"], obj={"state_dir": tmp_path})
    item = json.loads(result.output)["lists"]["urlhaus"]
    assert (item["domains"], item["urls"], item["addresses"]) == (1, 1, 2)


def test_steering_cap_drops_url_entries_beyond_it_and_says_so(tmp_path: Path) -> None:
    listed = tmp_path / "urls.txt"
    listed.write_text("".join(f"||h{i}.example/p^$all\n||h{i}.example/q^$all\n"
                              for i in range(5)))
    compile_sources([ListSource("u", listed, "adblock", "malware", max_steered_hosts=3)],
                    tmp_path / ACTIVE_NAME, "fp")
    result = CliRunner().invoke(lists, ["status"], obj={"state_dir": tmp_path})
    assert "0 domene / domains, 6 URL, 0 adresa" in result.output
    assert "4 URL mbi kufirin e drejtimit / URL entries over the steering cap" in result.output


def test_never_steer_hosts_keep_their_url_entries_out_of_the_proxy(tmp_path: Path) -> None:
    listed = tmp_path / "urlhaus.txt"
    listed.write_text("||github.com/evil/x/raw/a.exe$all\n||raw.github.com/b.sh$all\n"
                      "||bad.example/c.sh$all\n")
    compile_sources([ListSource("u", listed, "adblock", "malware",
                                never_steer=("github.com",))], tmp_path / ACTIVE_NAME, "fp")
    compiled = CompiledList(tmp_path / ACTIVE_NAME)
    assert [compiled.has_url_entries(h) for h in ("github.com", "raw.github.com",
                                                  "bad.example")] == [False, False, True]
    result = CliRunner().invoke(lists, ["status"], obj={"state_dir": tmp_path})
    assert "0 domene / domains, 1 URL" in result.output
    assert "2 URL në emra që nuk drejtohen / URL entries on never-steer hosts" in result.output


def test_public_suffixes_and_address_exceptions_are_shown(tmp_path: Path) -> None:
    listed = tmp_path / "badware.txt"
    listed.write_text("||pages.dev/x$all\n||foo.pages.dev/y$all\n1.2.3.4\n"
                      "||5.6.7.8^$important\n@@||9.9.9.9^\n")
    compile_sources([ListSource("b", listed, "adblock", "malware")], tmp_path / ACTIVE_NAME,
                    "fp")
    result = CliRunner().invoke(lists, ["status"], obj={"state_dir": tmp_path})
    assert "0 domene / domains, 1 URL, 2 adresa / addresses" in result.output
    assert "1 adresa të përjashtuara / address exceptions" in result.output
    assert "1 URL në prapashtesa publike / URL entries on public suffixes" in result.output
