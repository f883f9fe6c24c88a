"""Tests for reporting.delivery_config: the `[report]` table, its defaults and its errors."""

from __future__ import annotations

import pytest

from configkit import ConfigError, Section, parse_toml_text
from reporting.delivery_config import ReportSettings, SmtpSettings, parse


def settings(text: str) -> ReportSettings:
    data, source = parse_toml_text(text, "roja.toml")
    root = Section(data, "", source)
    out = parse(root.section("report"))
    root.done()
    return out


def test_defaults_build_only() -> None:
    s = settings("")
    assert s == ReportSettings()
    assert (s.send_day, s.check_every, s.recipients()) == (1, 3600.0, [])


def test_full_table() -> None:
    s = settings("""
[report]
qark = "Korçë"
municipality = "Pogradec"
ict_teacher = "Drita Çela"
send_day = 3
check_every = 600

[report.smtp]
host = "smtp.example.al"
username = "shkolla"
password = "sekret"
from_addr = "roja@shkolla.example.al"
to = ["zva@example.al", "dar@example.al"]

[report.https]
url = "https://inbox.example.al/api/reports"
token = "tok-123"
""")
    assert (s.qark, s.municipality, s.ict_teacher, s.send_day, s.check_every) == (
        "Korçë", "Pogradec", "Drita Çela", 3, 600.0)
    assert s.smtp == SmtpSettings("smtp.example.al", "roja@shkolla.example.al",
                                  ("zva@example.al", "dar@example.al"), 587, True, "shkolla",
                                  "sekret")
    assert s.recipients() == [("smtp", "zva@example.al"), ("smtp", "dar@example.al"),
                              ("https", "https://inbox.example.al/api/reports")]


def test_plain_http_and_smtp_auth_without_tls_only_on_loopback() -> None:
    s = settings("""
[report.smtp]
host = "127.0.0.1"
port = 2525
starttls = false
username = "u"
password = "p"
from_addr = "a@b.al"
[report.https]
url = "http://127.0.0.1:8080/api/reports"
token = "t"
""")
    assert s.https is not None and s.https.url.startswith("http://")


@pytest.mark.parametrize(("text", "line", "key", "words"), [
    ("[report]\nsend_day = 31\n", 2, "report.send_day", "at most 28"),
    ("[report]\ncheck_every = 0\n", 2, "report.check_every", "at least 1"),
    ("[report]\nqark = 1\n", 2, "report.qark", "must be a string"),
    ("[report]\nlanguage = 'sq'\n", 2, "report.language", "unknown key"),
    ("[report.smtp]\nfrom_addr = 'a@b.al'\n", 1, "report.smtp.host", "is required"),
    ("[report.smtp]\nhost = 'mx'\nfrom_addr = 'a@b.al'\nto = ['nope']\n", 4, "report.smtp.to",
     "not an e-mail address"),
    ("[report.smtp]\nhost = 'mx.example.al'\nstarttls = false\nusername = 'u'\n"
     "from_addr = 'a@b.al'\n", 3, "report.smtp.starttls", "in clear"),
    ("[report.https]\nurl = 'http://inbox.example.al/x'\ntoken = 't'\n", 2,
     "report.https.url", "https://"),
    ("[report.https]\nurl = 'https://inbox.example.al/x'\ntoken = ''\n", 3,
     "report.https.token", "token"),
    ("[report.https]\nurl = 'https://inbox.example.al/x'\ntoken = 't'\n"
     "ca_file = '/nonexistent/ca.pem'\n", 4, "report.https.ca_file", "no such file"),
])
def test_errors_name_file_line_and_key(text: str, line: int, key: str, words: str) -> None:
    with pytest.raises(ConfigError) as info:
        settings(text)
    err = info.value
    assert (err.file, err.line, err.key) == ("roja.toml", line, key), str(err)
    assert words in err.message

