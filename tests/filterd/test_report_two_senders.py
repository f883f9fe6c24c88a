"""Two report senders at once, as real processes: `roja report send` started while another
sender (the roja-report timer's run, a second teacher's command) is inside SMTP DATA holding
the outbox's sender lock waits for it and then tells the real outcome (sent: exit 0, one copy
at the server), instead of exiting 1 with the delivery "queued". When the other sender keeps
the lock past the bound (one SMTP attempt: command timeout + DATA timeout), it says that
another sender is delivering the report right now and exits 0."""

from __future__ import annotations

import fcntl
import os
import subprocess
import threading
import time
from pathlib import Path

from install_kit import ROJA
from peers.mailbox import smtp_sink

MONTH = "2026-10"  # ended: the gateway's clock is later
TO = "zva@example.al"


def write_config(tmp_path: Path, port: int, timeout: float, data_timeout: float) -> Path:
    config = tmp_path / "roja.toml"
    config.write_text(f'[school]\nname = "Shkolla Provë"\ncode = "K1"\n'
                      f'[state]\ndir = "{tmp_path / "state"}"\n'
                      f'[report.smtp]\nhost = "127.0.0.1"\nport = {port}\nstarttls = false\n'
                      f'from_addr = "roja@shkolla.example.al"\nto = ["{TO}"]\n'
                      f"timeout = {timeout}\ndata_timeout = {data_timeout}\n",
                      encoding="utf-8")
    return config


def send(config: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([ROJA, "--config", str(config), "report", "send", "--month", MONTH],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_a_second_sender_waits_for_the_first_and_tells_the_real_outcome(
        tmp_path: Path) -> None:
    with smtp_sink(hold_first=True) as sink:
        config = write_config(tmp_path, sink.port, 10.0, 30.0)
        first = send(config)
        assert sink.in_data.wait(60), "the first sender never reached DATA"
        second = send(config)
        lines: list[str] = []
        said_waiting = threading.Event()

        def read() -> None:
            assert second.stdout is not None
            for line in second.stdout:
                lines.append(line)
                if line.startswith("Një dërgues tjetër po dërgon"):
                    said_waiting.set()

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        assert said_waiting.wait(60), "".join(lines)  # it found the lock held and waits
        assert second.poll() is None
        sink.release.set()
        out1, err1 = first.communicate(timeout=60)
        second.wait(timeout=60)
        reader.join(timeout=10)
        out2 = "".join(lines)
        err2 = second.stderr.read() if second.stderr else ""
    assert first.returncode == 0, out1 + err1
    assert second.returncode == 0, out2 + err2
    assert "Një dërgues tjetër po dërgon raportet tani; pritet deri në 40 s" in out2
    assert f"smtp → {TO}: " in out2 and "Traceback" not in err2
    assert "nuk u dërgua" not in out2 + err2 and "queued" not in out2 + err2
    assert len(sink.messages) == 1  # one copy: the second sender found it sent


def test_a_sender_past_the_bound_says_another_is_delivering_and_exits_0(
        tmp_path: Path) -> None:
    with smtp_sink() as sink:
        config = write_config(tmp_path, sink.port, 1.0, 1.0)  # waits up to 2 s
        (tmp_path / "state").mkdir()
        fd = os.open(tmp_path / "state" / "outbox.sqlite.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)  # this process is the sender that holds it
            started = time.monotonic()
            result = subprocess.run([ROJA, "--config", str(config), "report", "send", "--month",
                                     MONTH], capture_output=True, text=True, timeout=120)
            waited = time.monotonic() - started
        finally:
            os.close(fd)
        assert not sink.messages
    assert result.returncode == 0, result.stdout + result.stderr
    assert "po e dërgon raportin tani, edhe pas 2 s" in result.stdout
    assert "is still delivering the report after 2 s" in result.stdout
    assert "roja report status" in result.stdout and "Traceback" not in result.stderr
    assert 2.0 <= waited < 60
