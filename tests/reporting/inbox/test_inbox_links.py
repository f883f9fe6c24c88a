"""The URLs printed by `roja inbox token issue` and `roja inbox user link` point at the inbox
as it is really served: a running `roja inbox serve` on a non-default port (given by flag,
by config, or port 0 chosen by the kernel), or the config's public_url. The printed login
link is opened over HTTP and logs the user in."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from dns_resolver.testing import free_port
from filterd.cli import main
from reporting.inbox.auth import SESSION_COOKIE
from reporting.inbox.config import InboxConfig, remember_served

ROJA = str(Path(sys.executable).parent / "roja")


def roja(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["inbox", *args], catch_exceptions=False)
    return result.exit_code, result.output


def prepare(data: Path, *config: str) -> None:
    csv_file = data.parent / "schools.csv"
    csv_file.write_text("code,name,qark,municipality,email\n"
                        "BR-001,Shkolla A,Berat,Berat,a@example.al\n", encoding="utf-8")
    password = data.parent / "pw"
    password.write_text("shume-i-fshehte\n", encoding="utf-8")
    for args in (["schools", "import", str(csv_file)],
                 ["user", "add", "zyra.berat", "--role", "office", "--qark", "Berat",
                  "--password-file", str(password)]):
        code, out = roja(*args, "--data-dir", str(data), *config)
        assert code == 0, out


@contextmanager
def serving(*args: str) -> Iterator[str]:
    """`roja inbox serve ARGS` in a subprocess; yields the URL it says it listens on."""
    proc = subprocess.Popen([ROJA, "inbox", "serve", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        found = re.search(r"listening on (\S+)", line)
        assert found is not None, line + proc.stdout.read() if proc.poll() is not None else line
        yield found.group(1)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def printed_urls(*args: str) -> tuple[str, str]:
    code, out = roja("token", "issue", "BR-001", *args)
    assert code == 0, out
    api = re.search(r'^url = "(\S+)"$', out, re.M)
    assert api is not None, out
    code, out = roja("user", "link", "zyra.berat", *args)
    link = re.search(r"^(\S+/hyr/lidhje/\S+)$", out, re.M)
    assert code == 0 and link is not None, out
    return api.group(1), link.group(1)


def logs_in(link: str) -> bool:
    """Opening the link starts a staff session (303 + the session cookie)."""
    response = httpx.get(link, follow_redirects=False, timeout=10)
    return response.status_code == 303 and f"{SESSION_COOKIE}=" in response.headers.get(
        "set-cookie", "")


def test_links_follow_the_listen_flag_of_the_running_inbox(tmp_path: Path) -> None:
    data = tmp_path / "d"
    prepare(data)
    port = free_port()
    with serving("--listen", f"127.0.0.1:{port}", "--data-dir", str(data)) as url:
        assert url == f"http://127.0.0.1:{port}"
        api, link = printed_urls("--data-dir", str(data))
        assert api == f"http://127.0.0.1:{port}/api/reports"
        assert link.startswith(f"http://127.0.0.1:{port}/hyr/lidhje/")
        assert logs_in(link)


def test_links_use_the_port_the_kernel_chose(tmp_path: Path) -> None:
    data = tmp_path / "d"
    config = tmp_path / "inbox.toml"
    config.write_text(f'[inbox]\nlisten = "127.0.0.1:0"\ndata_dir = "{data}"\n',
                      encoding="utf-8")
    prepare(data, "--config", str(config))
    with serving("--config", str(config)) as url:
        port = int(url.rsplit(":", 1)[1])
        assert port != 0
        api, link = printed_urls("--config", str(config))
        assert api == f"{url}/api/reports" and link.startswith(f"{url}/hyr/lidhje/")
        assert logs_in(link)


@pytest.mark.parametrize("public_url", ["", "https://inbox.example.al/"])
def test_links_follow_the_config_when_nothing_was_served(tmp_path: Path,
                                                         public_url: str) -> None:
    data = tmp_path / "d"
    port = free_port()
    config = tmp_path / "inbox.toml"
    config.write_text(f'[inbox]\nlisten = "127.0.0.1:{port}"\ndata_dir = "{data}"\n'
                      + (f'public_url = "{public_url}"\n' if public_url else ""),
                      encoding="utf-8")
    prepare(data, "--config", str(config))
    base = public_url.rstrip("/") or f"http://127.0.0.1:{port}"
    api, link = printed_urls("--config", str(config))
    assert api == f"{base}/api/reports" and link.startswith(f"{base}/hyr/lidhje/")
    if not public_url:
        with serving("--config", str(config)):
            api, link = printed_urls("--config", str(config))
            assert link.startswith(f"{base}/hyr/lidhje/") and logs_in(link)
    else:  # the public address wins over where it listens
        with serving("--config", str(config)):
            assert printed_urls("--config", str(config))[0] == f"{base}/api/reports"


def test_an_inbox_on_every_address_is_named_localhost_with_a_warning(tmp_path: Path) -> None:
    data = tmp_path / "d"
    prepare(data)
    remember_served(InboxConfig(data_dir=data), "https://[::]:8443")  # what serve records
    result = CliRunner().invoke(main, ["inbox", "user", "link", "zyra.berat", "--data-dir",
                                       str(data)])
    assert result.exit_code == 0
    assert re.search(r"^https://localhost:8443/hyr/lidhje/\S+$", result.stdout, re.M)
    assert "public_url" in result.stderr
