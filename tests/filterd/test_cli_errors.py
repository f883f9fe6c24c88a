"""Every `roja` command run as a user runs it: the installed entry point in a real process,
against services nobody listens on, missing or damaged files, bad input and a state directory
that cannot be used. Each must exit non-zero, name what failed (the file, host:port, list or
id) with an Albanian sentence, never print "OK", and never show a Python traceback."""

from __future__ import annotations

import functools
import http.server
import shlex
import socket
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from install_kit import REPO, ROJA

from blocklists.publish import keygen, publish
from filterd.testing import free_port

CONFIG = """
[school]
name = "Shkolla Provë"
code = "K1"
[state]
dir = "{state}"
[dns]
listen = ["127.0.0.1:{dns}"]
upstreams = ["127.0.0.1:{dead}"]
[metrics]
listen = ""
[[lists]]
id = "rrjete"
path = "{list}"
category = "social_media"
[[groups]]
id = "nxenesit"
networks = ["10.0.2.0/24"]
[feed]
url = "http://127.0.0.1:{feed}/"
public_key = "{pub}"
feed_id = "isigurt-al"
[report.smtp]
host = "127.0.0.1"
port = {smtp}
starttls = false
from_addr = "roja@shkolla.example.al"
to = ["zva@example.al"]
timeout = 5
[report.https]
url = "http://127.0.0.1:{https}/api/reports"
token = "tok-K1"
timeout = 5
"""
CASES_CSV = ("url,category,confirmed_at,case_id,confidential\n"
             "bad.example,hate_speech,2024-11-01,C-1,jo\n")
INCIDENT = ("--date 01.11.2024 --category other --platform other --age-band unknown --gender "
            "unknown --referral none --status open --description provë --by 'A. Hoxha'")


@dataclass(frozen=True)
class World:
    """The files and ports the commands below are pointed at, by name (`{name}` in a case)."""

    values: dict[str, str]

    def fill(self, text: str) -> str:
        return text.format(**self.values)


def _serve(root: Path) -> tuple[http.server.ThreadingHTTPServer, int]:
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *a: None  # type: ignore[attr-defined]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, int(server.server_address[1])


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp("cli-errors")
    (tmp / "social.txt").write_text("tiktok.com\n", encoding="utf-8")
    (tmp / "cases.csv").write_text(CASES_CSV, encoding="utf-8")
    (tmp / "blocker").write_text("a file where a directory should be\n", encoding="utf-8")
    key, pub = keygen(tmp / "keys")
    _, other_pub = keygen(tmp / "other")
    publish(tmp / "cases.csv", key, tmp / "www", "isigurt-al")
    server, served = _serve(tmp / "www")
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    corrupt = tmp / "corrupt"
    corrupt.mkdir()
    for name in ("incidents.sqlite", "outbox.sqlite", "overrides.sqlite", "audit.log"):
        (corrupt / name).write_bytes(b"\xc8\x00 not a database \xff" * 200)
    (corrupt / "feed").mkdir()
    (corrupt / "feed" / "current.json").write_text('{"serial": 3, "entr', encoding="utf-8")
    ports = {name: str(free_port()) for name in ("dns", "dead", "feed", "smtp", "https")}
    values = {"tmp": str(tmp), "served": f"http://127.0.0.1:{served}/",
              "other_pub": str(other_pub), "pub": str(pub), "busy": str(busy.getsockname()[1]),
              **ports}
    good = {"state": str(tmp / "state"), "list": str(tmp / "social.txt"), "pub": str(pub),
            **ports}
    variants = {
        "good": {},
        "missing_list": {"list": str(tmp / "mungon.txt")},
        "missing_pub": {"pub": str(tmp / "s'ka-çelës.pub")},
        "blocked_state": {"state": str(tmp / "blocker" / "state")},
        "corrupt_state": {"state": str(corrupt)},
        "busy_dns": {"dns": values["busy"]},
    }
    for name, changes in variants.items():
        (tmp / f"{name}.toml").write_text(CONFIG.format(**{**good, **changes}), encoding="utf-8")
    (tmp / "garbage.toml").write_text("[dns\nlisten = 5\n", encoding="utf-8")
    try:
        yield World(values)
    finally:
        server.shutdown()
        busy.close()


# (case id, config variant or "" for none, arguments, what the output must name)
CASES: list[tuple[str, str, str, list[str]]] = [
    # services nobody listens on
    ("report-send-unreachable", "good", "report send --month 2024-10",
     ["nuk u dërgua", "127.0.0.1:{smtp}", "127.0.0.1:{https}"]),
    ("report-due-unreachable", "good", "report due", ["nuk u dërgua", "127.0.0.1:{smtp}"]),
    ("lists-sync-unreachable", "good", "lists sync", ["nuk u shkarkua", "127.0.0.1:{feed}"]),
    ("lists-sync-bad-signature", "good",
     "lists sync --url {served} --pubkey {other_pub} --feed-id isigurt-al",
     ["çelës", "{served}"]),
    ("serve-port-busy", "busy_dns", "serve", ["Nuk u nis", "127.0.0.1:{busy}"]),
    ("inbox-serve-port-busy", "", "inbox serve --data-dir {tmp}/inbox --listen 127.0.0.1:{busy}",
     ["Nuk u nis", "127.0.0.1:{busy}"]),
    # missing and bad files
    ("config-check-missing-list", "", "config check {tmp}/missing_list.toml",
     ["mungon", "rrjete", "{tmp}/mungon.txt"]),
    ("config-check-bad-toml", "", "config check {tmp}/garbage.toml",
     ["Gabim", "garbage.toml:1"]),
    ("config-missing", "", "--config {tmp}/nope.toml audit list", ["Gabim", "nope.toml"]),
    ("lists-sync-missing-pubkey", "missing_pub", "lists sync",
     ["Gabim", "public_key", "s'ka-çelës.pub"]),
    ("policy-explain-missing-list", "missing_list", "policy explain --client 10.0.2.3 --host x.al",
     ["nuk u ngarkuan", "{tmp}/mungon.txt"]),
    ("reload-missing-list", "missing_list", "reload", ["mungon", "{tmp}/mungon.txt"]),
    ("selftest-missing-list", "missing_list", "selftest", ["nuk u nis", "{tmp}/mungon.txt"]),
    ("report-build-out-unwritable", "good", "report build --month 2024-10 --out {tmp}/blocker/out",
     ["Gabim", "{tmp}/blocker/out"]),
    ("lists-keygen-out-unwritable", "", "lists keygen --out {tmp}/blocker/keys",
     ["Gabim", "{tmp}/blocker/keys"]),
    ("lists-publish-out-unwritable", "",
     "lists publish --cases {tmp}/cases.csv --key {tmp}/keys/feed.key --out {tmp}/blocker/www "
     "--feed-id isigurt-al", ["Gabim", "{tmp}/blocker/www"]),
    ("inbox-demo-dir-unwritable", "", "inbox demo --data-dir {tmp}/blocker/demo --port 0",
     ["Gabim", "{tmp}/blocker/demo"]),
    # a state directory that cannot be used
    ("audit-list-state-unusable", "blocked_state", "audit list", ["Gabim", "{tmp}/blocker/state"]),
    ("audit-verify-state-unusable", "blocked_state", "audit verify",
     ["Gabim", "{tmp}/blocker/state"]),
    ("unblock-list-state-unusable", "blocked_state", "unblock list",
     ["Gabim", "{tmp}/blocker/state"]),
    ("unblock-requests-state-unusable", "blocked_state", "unblock requests",
     ["Gabim", "{tmp}/blocker/state"]),
    ("unblock-remove-state-unusable", "blocked_state", "unblock remove 1 --by A",
     ["Gabim", "{tmp}/blocker/state"]),
    ("report-send-state-unusable", "blocked_state", "report send --month 2024-10",
     ["Gabim", "{tmp}/blocker/state"]),
    ("incident-add-state-unusable", "blocked_state", f"incident add {INCIDENT}",
     ["incidenteve", "{tmp}/blocker/state"]),
    ("selftest-state-unusable", "blocked_state", "selftest", ["Gabim", "{tmp}/blocker/state"]),
    ("lists-sync-state-unusable", "blocked_state", "lists sync --url {served}",
     ["Lista e mëparshme mbetet aktive", "{tmp}/blocker/state"]),
    ("lists-status-state-unusable", "blocked_state", "lists status",
     ["Gabim", "{tmp}/blocker/state"]),
    # damaged state files
    ("report-status-corrupt-outbox", "corrupt_state", "report status",
     ["Gabim", "{tmp}/corrupt/outbox.sqlite"]),
    ("report-build-corrupt-incidents", "corrupt_state", "report build --month 2024-10 --out "
     "{tmp}/out", ["Gabim", "{tmp}/corrupt/incidents.sqlite"]),
    ("incidents-list-corrupt", "corrupt_state", "incidents list",
     ["Nuk lexohen", "{tmp}/corrupt/incidents.sqlite"]),
    ("unblock-list-corrupt", "corrupt_state", "unblock list",
     ["Gabim", "{tmp}/corrupt/overrides.sqlite"]),
    ("audit-verify-corrupt", "corrupt_state", "audit verify", ["NUK është i paprekur", "1"]),
    ("lists-status-corrupt", "corrupt_state", "lists status",
     ["dëmtuar", "{tmp}/corrupt/feed/current.json"]),
    # bad input
    ("report-send-bad-month", "good", "report send --month 2024-13", ["Gabim", "2024-13"]),
    ("report-build-bad-month", "good", "report build --month 10-2024", ["Gabim", "10-2024"]),
    ("incidents-list-bad-since", "good", "incidents list --since dje", ["Gabim", "dje"]),
    ("incident-list-bad-month", "good", "incident list --month 2024-13", ["Gabim", "2024-13"]),
    ("incident-add-no-answers", "good", "incident add", ["ndërpre", "incident add"]),
    ("incident-update-unknown-id", "good", "incident update 999 --status resolved",
     ["Nuk ka incident", "999"]),
    ("unblock-remove-unknown-id", "good", "unblock remove 999 --by A", ["Nuk ka", "#999"]),
    ("unblock-accept-unknown-id", "good", "unblock requests accept 999 --for 1h --by A",
     ["Nuk ka kërkesë", "#999"]),
    ("unblock-add-unknown-group", "good",
     "unblock add --group nope --host x.al --for 1h --by A --reason r", ["Nuk ka grup", "nope"]),
    ("unblock-add-bad-duration", "good",
     "unblock add --group nxenesit --host x.al --for 2vjet --by A --reason r",
     ["Gabim", "2vjet"]),
    ("policy-explain-bad-time", "good", "policy explain --client 10.0.2.3 --host x.al --at nesër",
     ["Gabim", "nesër"]),
    ("policy-explain-bad-client", "good", "policy explain --client 10.0.2.999 --host x.al",
     ["nuk është adresë IP", "10.0.2.999"]),
    ("inbox-revoke-unknown-school", "", "inbox token revoke XX-999 --data-dir {tmp}/inbox",
     ["nuk është në regjistër", "XX-999"]),
    ("inbox-token-unknown-school", "", "inbox token issue XX-999 --data-dir {tmp}/inbox",
     ["nuk është në regjistër", "XX-999"]),
    ("firewall-render-off", "good", "firewall render", ["i fikur", "lan_interface"]),
]


@pytest.mark.parametrize(("variant", "args", "names"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_a_failed_command_says_what_failed(world: World, variant: str, args: str,
                                          names: list[str]) -> None:
    argv = [ROJA] + (["--config", world.fill(f"{{tmp}}/{variant}.toml")] if variant else [])
    argv += [world.fill(word) for word in shlex.split(args)]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=120, cwd=REPO,
                            stdin=subprocess.DEVNULL, env={"PATH": "/usr/bin:/bin",
                                                           "LANG": "C.UTF-8"})
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "Traceback" not in output, output
    assert "Në rregull" not in output, output
    for name in names:
        assert world.fill(name) in output, f"{world.fill(name)!r} not named in:\n{output}"
