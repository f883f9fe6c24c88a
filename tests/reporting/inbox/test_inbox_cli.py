"""`roja inbox` commands: schools import (line-numbered errors), token issue, user add/link,
the access log, `serve`'s TLS refusal, and `roja inbox demo` end to end (a subprocess whose
demo school's report arrives through the real delivery path and shows as submitted)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
from click.testing import CliRunner

from filterd.cli import main
from reporting.inbox.store import DB_FILE, Store


def roja(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["inbox", *args], catch_exceptions=False)
    return result.exit_code, result.output


def test_import_token_user_link_and_log(tmp_path: Path) -> None:
    data = ["--data-dir", str(tmp_path / "d")]
    csv_file = tmp_path / "schools.csv"
    csv_file.write_text("code,name,qark,municipality,email\n"
                        "BR-001,Shkolla A,Berat,Berat,a@example.al\n"
                        "VL-001,Shkolla B,Vlorë,Vlorë,b@example.al\n", encoding="utf-8")
    code, out = roja("schools", "import", str(csv_file), *data)
    assert code == 0 and "U shtuan 2 shkolla, u përditësuan 0 shkolla / 2 schools added" in out
    code, out = roja("token", "issue", "BR-001", *data)
    token = re.search(r"^(roja_\S+)$", out, re.M)
    assert code == 0 and token is not None and "[report.https]" in out
    code, out = roja("token", "issue", "XX-9", *data)
    assert code == 1 and "nuk është në regjistër" in out
    password = tmp_path / "pw"
    password.write_text("shume-i-fshehte\n", encoding="utf-8")
    code, out = roja("user", "add", "zyra.berat", "--role", "office", "--qark", "berat",
                     "--password-file", str(password), *data)
    assert code == 0 and "Berat" in out
    code, out = roja("user", "add", "zyra.x", "--role", "office", "--qark", "Prishtinë",
                     "--password-file", str(password), *data)
    assert code == 2 and "Vlorë" in out
    result = CliRunner().invoke(main, ["inbox", "user", "add", "masr", "--role", "ministry",
                                       *data], input="ministria-2026\nministria-2026\n")
    assert result.exit_code == 0 and "masr (ministry" in result.output
    result = CliRunner().invoke(main, ["inbox", "user", "add", "x", "--role", "ministry",
                                       *data], input="shkurt\nshkurt\n")
    assert result.exit_code == 1 and "të paktën 10" in result.output
    code, out = roja("user", "link", "zyra.berat", *data)
    assert code == 0 and re.match(r"http://127\.0\.0\.1:8470/hyr/lidhje/\S+", out)
    with Store(tmp_path / "d" / DB_FILE) as store:
        assert store.school_for_token(token.group(1)).code == "BR-001"  # type: ignore[union-attr]
        user = store.user("zyra.berat")
        assert user is not None and user.password_hash.startswith("$argon2")
        assert "shume-i-fshehte" not in (tmp_path / "d" / DB_FILE).read_bytes().decode("latin-1")
    code, out = roja("log", *data)
    assert "schools_import" in out and "token_issue" in out and "user_add" in out


def test_import_refuses_a_bad_file_with_line_numbers(tmp_path: Path) -> None:
    csv_file = tmp_path / "schools.csv"
    csv_file.write_text("BR-001,Shkolla A,Berat,Berat,a@example.al\n"
                        "VL-001,Shkolla B,Vlora e Re,Vlorë,b@example.al\n", encoding="utf-8")
    code, out = roja("schools", "import", str(csv_file), "--data-dir", str(tmp_path / "d"))
    assert code == 1 and "asgjë nuk u importua" in out and "line 2" in out
    with Store(tmp_path / "d" / DB_FILE) as store:
        assert store.schools() == []


def test_serve_refuses_plain_http_off_loopback(tmp_path: Path) -> None:
    code, out = roja("serve", "--listen", "0.0.0.0:8443", "--data-dir", str(tmp_path))
    assert code == 2 and "TLS is required" in out


def test_demo_school_shows_as_submitted_and_the_others_missing(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-c", "from filterd.cli import main; main()", "inbox", "demo",
               "--port", "0", "--data-dir", str(tmp_path / "demo")]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env=env,
                            cwd=Path(__file__).resolve().parents[3])
    lines: list[str] = []
    try:
        deadline = time.monotonic() + 90
        assert proc.stdout is not None
        while not any(line.startswith("Ctrl+C") for line in lines):
            line = proc.stdout.readline()
            assert line and time.monotonic() < deadline, "".join(lines)
            lines.append(line)
        text = "".join(lines)
        assert "sent {\"receipt\": \"RJ-" in text, text
        board = re.search(r"Paneli / dashboard: (\S+)", text).group(1)  # type: ignore[union-attr]
        password = re.search(r"emri ministria, fjalëkalimi (\S+)", text).group(1)  # type: ignore[union-attr]
        base = board.split("/muaji/")[0]
        with httpx.Client(base_url=base, timeout=20) as c:
            page = c.get("/hyr").text
            csrf = page.split('name="csrf" value="', 1)[1].split('"', 1)[0]
            c.post("/hyr", data={"csrf": csrf, "name": "ministria", "password": password})
            data = c.get(f"/api/v1/months/{board.rsplit('/', 1)[1]}").json()
        status = {s["code"]: s["status"] for s in data["schools"]}
        assert status.pop("BR-001") == "submitted"
        assert set(status.values()) == {"missing"} and len(status) == 15
        assert len({s["qark"] for s in data["schools"]}) == 9
        assert [d["drap"] for d in data["offices"]] == ["durres", "fier", "korce", "lezhe"]
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_office_users_for_a_drap_or_a_zva(tmp_path: Path) -> None:
    data = ["--data-dir", str(tmp_path / "d")]
    password = tmp_path / "pw"
    password.write_text("shume-i-fshehte\n", encoding="utf-8")
    pw = ["--password-file", str(password)]
    code, out = roja("user", "add", "drap.durres", "--role", "office", "--drap", "Durrës",
                     *pw, *data)
    assert code == 0 and "DRAP Durrës" in out, out
    code, out = roja("user", "add", "zva.kavaje", "--role", "office", "--zva", "ZVA Kavajë",
                     *pw, *data)
    assert code == 0 and "ZVA Kavajë" in out, out
    code, out = roja("user", "add", "x", "--role", "office", "--drap", "tirane", *pw, *data)
    assert code == 2 and "durres, fier, korce, lezhe" in out
    code, out = roja("user", "add", "x", "--role", "office", "--drap", "durres", "--zva",
                     "kavaje", *pw, *data)
    assert code == 2 and "--drap, --qark, --zva" in out
    code, out = roja("user", "add", "x", "--role", "office", *pw, *data)
    assert code == 2 and "--drap, --qark, --zva" in out
    code, out = roja("user", "add", "x", "--role", "ministry", "--zva", "kavaje", *pw, *data)
    assert code == 2
    with Store(tmp_path / "d" / DB_FILE) as store:
        drap, zva = store.user("drap.durres"), store.user("zva.kavaje")
        assert drap is not None and (drap.drap, drap.qark, drap.zva) == ("durres", "", "")
        assert zva is not None and (zva.drap, zva.qark, zva.zva) == ("", "", "kavaje")
        assert store.user("x") is None
