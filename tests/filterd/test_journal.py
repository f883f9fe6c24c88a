"""filterd.journal: native journal datagrams on a real unix socket, priority prefixes."""

from __future__ import annotations

import logging
import os
import socket
import struct
from pathlib import Path

from filterd.journal import JournalHandler, PriorityFormatter, make_handler, under_journal


def parse_datagram(data: bytes) -> dict[str, str]:
    fields: dict[str, str] = {}
    i = 0
    while i < len(data):
        nl = data.index(b"\n", i)
        line = data[i:nl]
        if b"=" in line:
            key, _, value = line.partition(b"=")
            fields[key.decode()] = value.decode()
            i = nl + 1
        else:
            (size,) = struct.unpack("<Q", data[nl + 1:nl + 9])
            fields[line.decode()] = data[nl + 9:nl + 9 + size].decode()
            i = nl + 9 + size + 1
    return fields


def test_records_arrive_as_structured_fields(tmp_path: Path) -> None:
    path = tmp_path / "journal.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as server:
        server.bind(str(path))
        handler = JournalHandler(path)
        logger = logging.getLogger("roja.feed")
        logger.addHandler(handler)
        logger.propagate = False
        try:
            logger.warning("sync refused: serial %d", 7, extra={"journal": {"roja_serial": 7}})
            logger.error("two\nlines ë")
        finally:
            logger.removeHandler(handler)
            logger.propagate = True
            handler.close()
        first = parse_datagram(server.recv(65536))
        second = parse_datagram(server.recv(65536))
    assert first["MESSAGE"] == "sync refused: serial 7"
    assert first["PRIORITY"] == "4"
    assert first["SYSLOG_IDENTIFIER"] == "roja"
    assert first["ROJA_UNIT"] == "feed"
    assert first["ROJA_SERIAL"] == "7"
    assert first["CODE_FUNC"] == "test_records_arrive_as_structured_fields"
    assert second["MESSAGE"] == "two\nlines ë"
    assert second["PRIORITY"] == "3"


def test_journal_stream_must_match_stderr(tmp_path: Path) -> None:
    path = tmp_path / "err.log"
    with path.open("w") as f:
        st = os.fstat(f.fileno())
        env = {"JOURNAL_STREAM": f"{st.st_dev}:{st.st_ino}"}
        assert under_journal(env, f.fileno())
        assert not under_journal({"JOURNAL_STREAM": "1:2"}, f.fileno())
        assert not under_journal({}, f.fileno())


def test_handler_choice_without_socket_uses_priority_prefixes(tmp_path: Path) -> None:
    st = os.fstat(2)
    env = {"JOURNAL_STREAM": f"{st.st_dev}:{st.st_ino}"}
    handler = make_handler(env, tmp_path / "missing.sock")
    assert isinstance(handler.formatter, PriorityFormatter)
    record = logging.LogRecord("roja", logging.INFO, __file__, 1, "a\nb", None, None)
    assert handler.format(record) == "<6>roja: a\n<6>b"
    assert not isinstance(make_handler({}, tmp_path / "missing.sock"), JournalHandler)
