"""The inbox's work off the event loop: database threads with their own connections to a real
SQLite file, and a hashing pool that refuses instead of queueing without bound."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

import pytest

from reporting.inbox.offload import BusyError, Offload
from reporting.inbox.store import DB_FILE, Store


async def test_database_work_runs_on_its_threads_and_sees_the_same_file(tmp_path: Path) -> None:
    path = tmp_path / DB_FILE
    with Store(path) as store:
        store.audit("zyra", "login", "", "10.0.0.1", 1.0)
        work = Offload(path)
        try:
            rows = await work.db(Store.audit_rows, 10)
            where = await work.db(lambda _store: threading.current_thread().name)
            assert rows[0][1:3] == ("zyra", "login") and where.startswith("inbox-db-")
            await work.db(Store.audit, "masr", "export_csv", "", "", 2.0)
            assert store.audit_rows(1)[0][1] == "masr"  # written through another connection
            with pytest.raises(KeyError):  # errors reach the awaiting request
                await work.db(lambda _store: {}["x"])
        finally:
            work.close()


async def test_the_hashing_pool_refuses_when_full(tmp_path: Path) -> None:
    work = Offload(tmp_path / DB_FILE, hash_threads=1, hash_queue=2)
    try:
        slow = [asyncio.create_task(work.hash(time.sleep, 0.3)) for _ in range(2)]
        await asyncio.sleep(0.05)
        with pytest.raises(BusyError):
            await work.hash(time.sleep, 0)
        await asyncio.gather(*slow)
        await work.hash(time.sleep, 0)  # room again
    finally:
        work.close()


async def test_an_unopenable_database_fails_each_job_instead_of_hanging(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    work = Offload(blocker / DB_FILE)
    try:
        with pytest.raises(OSError):
            await asyncio.wait_for(work.db(Store.audit_rows, 1), 10)
    finally:
        work.close()
