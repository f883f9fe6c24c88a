"""Logging for `roja serve`: structured journald records under systemd, plain lines elsewhere.

Under systemd (`JOURNAL_STREAM` names our stderr) each record goes to the native journal
socket `/run/systemd/journal/socket` as one datagram of `KEY=value` fields:

    MESSAGE, PRIORITY (syslog 0..7), SYSLOG_IDENTIFIER=roja, ROJA_UNIT (the part of the
    logger name after `roja.`, e.g. `events`; `core` for `roja` itself), ROJA_LOGGER,
    CODE_FILE, CODE_LINE, CODE_FUNC, and any `extra={"journal": {"ROJA_X": ...}}` fields.

so `journalctl -u roja ROJA_UNIT=feed` or `-p warning` filter without parsing text. When the
socket is missing, lines go to stderr with `<N>` priority prefixes, which journald also
understands. Outside systemd: the usual `time LEVEL name: message` lines.
"""

from __future__ import annotations

import logging
import os
import socket
import struct
import sys
from collections.abc import Mapping
from pathlib import Path

JOURNAL_SOCKET = Path("/run/systemd/journal/socket")
IDENTIFIER = "roja"
MAX_DATAGRAM = 200_000  # journald accepts larger ones only through a memfd; we truncate
PLAIN_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def priority(levelno: int) -> int:
    """Python level → syslog priority (3 err, 4 warning, 6 info, 7 debug)."""
    if levelno >= logging.CRITICAL:
        return 2
    if levelno >= logging.ERROR:
        return 3
    if levelno >= logging.WARNING:
        return 4
    if levelno >= logging.INFO:
        return 6
    return 7


def _field(key: str, value: str) -> bytes:
    data = value.encode("utf-8", "replace")
    if b"\n" not in data:
        return key.encode() + b"=" + data + b"\n"
    return key.encode() + b"\n" + struct.pack("<Q", len(data)) + data + b"\n"


def journal_fields(record: logging.LogRecord, message: str) -> dict[str, str]:
    name = record.name
    unit = name.split(".", 1)[1] if name.startswith("roja.") else "core"
    fields = {"MESSAGE": message, "PRIORITY": str(priority(record.levelno)),
              "SYSLOG_IDENTIFIER": IDENTIFIER, "ROJA_UNIT": unit, "ROJA_LOGGER": name,
              "CODE_FILE": record.pathname, "CODE_LINE": str(record.lineno),
              "CODE_FUNC": record.funcName}
    extra = getattr(record, "journal", None)
    if isinstance(extra, Mapping):
        for key, value in extra.items():
            k = str(key).upper()
            if k.replace("_", "").isalnum() and not k.startswith("_") and k[0].isalpha():
                fields[k] = str(value)
    return fields


class JournalHandler(logging.Handler):
    """Sends each record as one native-protocol datagram; never raises into the caller."""

    def __init__(self, path: Path = JOURNAL_SOCKET) -> None:
        super().__init__()
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            fields = journal_fields(record, self.format(record))
            payload = b"".join(_field(k, v) for k, v in fields.items())
            if len(payload) > MAX_DATAGRAM:
                fields["MESSAGE"] = fields["MESSAGE"][: MAX_DATAGRAM // 2] + " …"
                payload = b"".join(_field(k, v) for k, v in fields.items())
            self.sock.sendto(payload, str(self.path))
        except Exception:
            self.handleError(record)

    def close(self) -> None:
        self.sock.close()
        super().close()


class PriorityFormatter(logging.Formatter):
    """`<N>name: message`: the stderr form journald reads priorities from."""

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        prefix = f"<{priority(record.levelno)}>"
        return "\n".join(prefix + line for line in text.splitlines() or [""])


def under_journal(environ: Mapping[str, str] | None = None, stream_fd: int = 2) -> bool:
    """Is `stream_fd` the journal stream systemd gave us (`JOURNAL_STREAM=dev:inode`)?"""
    value = (os.environ if environ is None else environ).get("JOURNAL_STREAM", "")
    dev, _, ino = value.partition(":")
    if not (dev.isdigit() and ino.isdigit()):
        return False
    try:
        st = os.fstat(stream_fd)
    except OSError:
        return False
    return st.st_dev == int(dev) and st.st_ino == int(ino)


def make_handler(environ: Mapping[str, str] | None = None,
                 socket_path: Path = JOURNAL_SOCKET) -> logging.Handler:
    """The handler `roja serve` logs through, chosen as the module docstring says."""
    if under_journal(environ):
        if socket_path.exists():
            handler: logging.Handler = JournalHandler(socket_path)
            handler.setFormatter(logging.Formatter("%(message)s"))
            return handler
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(PriorityFormatter("%(name)s: %(message)s"))
        return handler
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(PLAIN_FORMAT))
    return handler


def setup_logging(level: str, environ: Mapping[str, str] | None = None) -> logging.Handler:
    """Route the root logger through `make_handler` at `level` ("info", "debug", ...)."""
    handler = make_handler(environ)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    return handler
