"""`tomledit.set_values`: only the named keys change; every other line and comment stays."""

from __future__ import annotations

import tomllib

import pytest

from filterd.install.configfile import Answers, render
from filterd.install.tomledit import EditError, set_values

TEACHER = '''# Konfigurimi i shkollës / edited by the teacher
[school]
name = "Shkolla \\"Çajupi\\""   # emri i plotë
code = "AL-TR-0042"

[dns]
listen = ["127.0.0.1:53",   # loopback
          "[::1]:53",
          "10.0.2.15:53"]  # gabim: karta e internetit
upstreams = ["9.9.9.9"]  # Quad9, e zgjodhi mësuesi
note = """shumë rreshta
lan_interface = "not a key" [firewall]
"""

[[lists]]
id = "shkolla"
path = "/var/lib/roja/lists/bllokuar.txt"

[report]
qark = "Korçë"
smtp.to = ["a@example.al"]

[firewall]
lan_interface = 'eth0' # karta e LAN-it
transparent_proxy = "off"
'''


def test_values_are_replaced_in_place_and_comments_stay() -> None:
    new = set_values(TEACHER, {("firewall", "lan_interface"): "eth1",
                               ("dns", "listen"): ["127.0.0.1:53", "[::1]:53", "192.168.50.1:53"],
                               ("school", "code"): "AL-TR-0043"})
    assert new == (TEACHER
                   .replace("lan_interface = 'eth0' #", 'lan_interface = "eth1" #')
                   .replace('"127.0.0.1:53",   # loopback\n          "[::1]:53",\n'
                            '          "10.0.2.15:53"]',
                            '["127.0.0.1:53", "[::1]:53", "192.168.50.1:53"]'[1:])
                   .replace('code = "AL-TR-0042"', 'code = "AL-TR-0043"'))
    data = tomllib.loads(new)
    assert data["dns"]["note"].startswith("shumë rreshta\nlan_interface")
    assert data["report"] == {"qark": "Korçë", "smtp": {"to": ["a@example.al"]}}


def test_dotted_keys_are_found_and_missing_keys_and_tables_added() -> None:
    new = set_values(TEACHER, {("report", "smtp", "to"): ["b@example.al", "c@example.al"],
                               ("school", "name"): "Shkolla e Re",
                               ("log", "level"): "debug",
                               ("firewall", "extra_ports"): [8080]})
    assert new == (TEACHER
                   .replace('name = "Shkolla \\"Çajupi\\""   #', 'name = "Shkolla e Re"   #')
                   .replace('smtp.to = ["a@example.al"]',
                            'smtp.to = ["b@example.al", "c@example.al"]')
                   + 'extra_ports = [8080]\n\n[log]\nlevel = "debug"\n')


@pytest.mark.parametrize("text", [
    '[report]\nsmtp = { to = ["a@example.al"], host = "x" }\n',   # inline table
    '[report]\nqark = "x"\n[report.smtp]\nto = 1\n[report.smtp]\n',  # broken file
])
def test_what_cannot_be_edited_exactly_is_refused(text: str) -> None:
    with pytest.raises(EditError) as caught:
        set_values(text, {("report", "smtp", "to"): ["b@example.al"]})
    assert caught.value.paths == [("report", "smtp", "to")]


def test_the_installers_own_template_is_editable_for_every_owned_key() -> None:
    text = render(Answers("eth0", "AL-1", (), "Shkolla", ("10.0.2.15",)))
    new = set_values(text, {("firewall", "lan_interface"): "eth1",
                            ("dns", "listen"): ["127.0.0.1:53"],
                            ("school", "name"): "Ç", ("school", "code"): "AL-2",
                            ("report", "smtp", "host"): "localhost",
                            ("report", "smtp", "to"): ["x@example.al"]})
    data = tomllib.loads(new)
    assert data["firewall"]["lan_interface"] == "eth1"
    assert data["report"]["smtp"] == {"host": "localhost", "to": ["x@example.al"]}
    def comments(t: str) -> list[str]:
        return [line for line in t.splitlines() if line.lstrip().startswith("#")]
    assert comments(new) == comments(text)
    assert len(new.splitlines()) == len(text.splitlines()) + 4  # "", [report.smtp], host, to


GROUPS = '''# Grupet / groups
[[groups]]
id = "mesuesit"   # stafi
profile = "staf"
safe_search = "off"

[[groups]]
id = "nxenesit"
networks = ["10.0.0.0/8"]

# Oraret / schedules
[[schedules]]
groups = ["nxenesit"]
windows = ["12:00-13:00"]  # dreka

# Pushimet / holidays
[policy]
default_group = "nxenesit"
'''


def test_entries_of_an_array_of_tables_are_edited_by_index() -> None:
    from filterd.install.tomledit import DELETE

    new = set_values(GROUPS, {("groups[1]", "profile"): "nxenes",
                              ("groups[0]", "safe_search"): DELETE,
                              ("schedules[0]", "windows"): ["12:00-13:30"],
                              ("policy", "holidays"): ["2026-12-25"]})
    assert new == (GROUPS.replace('safe_search = "off"\n', "")
                   .replace('networks = ["10.0.0.0/8"]\n',
                            'networks = ["10.0.0.0/8"]\nprofile = "nxenes"\n')
                   .replace('["12:00-13:00"]  # dreka', '["12:00-13:30"]  # dreka')
                   + 'holidays = ["2026-12-25"]\n')
    with pytest.raises(EditError):
        set_values(GROUPS, {("groups[2]", "profile"): "x"})  # no third group


def test_an_entry_is_appended_after_the_last_and_removed_with_its_lines() -> None:
    from filterd.install.tomledit import append_table, remove_table

    added = append_table(GROUPS, "schedules", {"groups": ("mesuesit",), "on_holidays": True})
    assert added == GROUPS.replace(
        '# dreka\n', '# dreka\n\n[[schedules]]\ngroups = ["mesuesit"]\non_holidays = true\n')
    assert tomllib.loads(added)["schedules"][1] == {"groups": ["mesuesit"], "on_holidays": True}
    assert remove_table(added, "schedules", 1) == GROUPS
    gone = remove_table(GROUPS, "groups", 0)
    assert gone.startswith('# Grupet / groups\n[[groups]]\nid = "nxenesit"')
    assert "# Oraret / schedules" in gone and len(tomllib.loads(gone)["groups"]) == 1
    first = append_table("[school]\nname = \"x\"\n", "schedules", {"groups": ["a"]})
    assert first == '[school]\nname = "x"\n\n[[schedules]]\ngroups = ["a"]\n'
