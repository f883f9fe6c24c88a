"""Issue 22, "done when": kill -9 of the whole path. Blocked DNS queries → incidents → month end
→ report → outbox → inbox, with the real appliance (`roja serve` in a child process, its
`[report]` step every second) killed with SIGKILL at a random point and started again.

The appliance's wall clock is shifted (tests/shifted_clock) so that October 2026 ends a few
seconds after it starts; its DNS listens on a free loopback port; the real inbox
(tests/inbox_kit) receives the reports over HTTP through a relay on loopback, which lets a run
kill the appliance while a delivery is on the wire. The whole process group is killed, as
systemd does with the service's control group, so a `roja report due` child dies too. Kill
points, one per run in turn: during the blocked queries (incident writes), during October's
report build, once October's delivery is queued, and during the delivery (before the inbox has
it, or after it answered and before the appliance heard). After the restart the pupil keeps
asking for October's names in November, and the appliance's step runs once more.

After each run: every period has exactly one revision at the inbox and at the appliance, with
its JSON and PDF, and October's counts equal the incident store's; the store has every block
the DNS answered, except at most the writer's batch in flight at the kill and the repeat counts
it held in memory (`[incidents] repeat_flush_seconds`, here 1 s: repeats answered in the last
REPEAT_FLUSH seconds before the kill, issue 21); no row is lost beyond the batch. Each run
prints its seed, its kill point and what it lost; `ROJA_KILL_SEED=<n>` repeats the runs.
October's report is built SETTLE seconds after October ended, once the writers have written
their last October batch: built at once, a kill after it was queued left a second revision
(CI, issue 21).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from inbox_kit import Inbox, running_inbox

from dns_resolver.testing import ask_udp, free_port, make_query
from filterd.commands.report import SETTLE_MARGIN
from filterd.testing import blocked_answer
from reporting.bundles import substance
from reporting.inbox import submissions
from reporting.inbox.registry import School
from reporting.report_data import TIRANE

ROOT = Path(__file__).resolve().parents[2]
CLOCK = ROOT / "tests" / "shifted_clock"
PERIOD = "2026-10"
MONTH_END = datetime(2026, 11, 1, tzinfo=TIRANE).timestamp()
LEAD = 11.0  # the shifted clock starts this many seconds before October ends (start-up 2-8 s)
AFTER = 1.0  # queries go on this long into November
BATCH = 50  # [incidents] batch_size: what one kill may lose
REPEAT_FLUSH = 1.0  # [incidents] repeat_flush_seconds: repeat counts one kill may lose
FLUSH_INTERVAL = 0.05  # [incidents] flush_interval
# October's report is built this long after October ended (the writers' last writes first)
SETTLE = FLUSH_INTERVAL + SETTLE_MARGIN
PHASES = ("incidents", "build", "queued", "delivery")
RUNS = 20
GROUP = 4  # runs side by side in one test
BASE_SEED = int(os.environ.get("ROJA_KILL_SEED", "0")) or random.randrange(1, 10**9)
NAMES = 10
NOTHING = "Nothing due now"  # what a report step with nothing to do logs

CONFIG = """
[school]
name = "Shkolla Kill {n}"
code = "{code}"
[state]
dir = "{state}"
[dns]
listen = ["127.0.0.1:{port}"]
upstreams = ["127.0.0.1:9"]
[incidents]
flush_interval = {flush_interval}
batch_size = {batch}
repeat_flush_seconds = {repeat_flush}
[[lists]]
id = "bixhoz"
path = "{deny}"
format = "domains"
kind = "deny"
category = "gambling"
[report]
qark = "Korçë"
municipality = "Pogradec"
check_every = 1
[report.https]
url = "http://127.0.0.1:{relay}/api/reports"
token = "{token}"
timeout = 10
[metrics]
listen = ""
[log]
level = "info"
"""


@dataclass
class Outcome:
    seed: int
    phase: str
    point: str = ""  # what the state was when the kill came
    answered: dict[str, int] = field(default_factory=dict)  # blocked name -> answers
    answered_at: list[float] = field(default_factory=list)  # time.monotonic() of each answer
    killed_at: float = 0.0  # time.monotonic() of the kill
    october: list[str] = field(default_factory=list)  # names answered before October ended
    lost: int = 0
    revisions: int = 0


class Relay:
    """A TCP relay in front of the inbox: `hook(stage)` runs when a request arrives
    ("request") and when the inbox's answer comes back ("answer"), before it is passed on."""

    def __init__(self, target: int) -> None:
        self.target = target
        self.hook: Callable[[str], Awaitable[bool]] | None = None  # True: drop the connection
        self.port = 0
        self.killed = asyncio.Event()  # the hook killed the appliance
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            first = await reader.read(65536)
            if self.hook is not None and await self.hook("request"):
                return
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target)
            up_writer.write(first)

            async def pump() -> None:
                while data := await reader.read(65536):
                    up_writer.write(data)
                    await up_writer.drain()

            task = asyncio.create_task(pump())
            answer = await up_reader.read(65536)
            if self.hook is not None and await self.hook("answer"):
                task.cancel()
                up_writer.close()
                return
            writer.write(answer)
            while data := await up_reader.read(65536):
                writer.write(data)
            await writer.drain()
            task.cancel()
            up_writer.close()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()


class Gateway:
    """One school's appliance: `roja serve` in its own process group."""

    def __init__(self, tmp: Path, n: int, inbox: Inbox, relay: Relay) -> None:
        self.tmp, self.n = tmp, n
        self.code = f"KT-{n:03d}"
        self.state = tmp / "state"
        self.port = free_port()
        self.config = tmp / "roja.toml"
        inbox.store.put_schools([School(self.code, f"Shkolla Kill {n}", "korce", "Pogradec",
                                        "")])
        token = inbox.store.issue_token(self.code)
        (tmp / "deny.txt").write_text("".join(f"bixhoz{i}.example\n" for i in range(NAMES)),
                                      encoding="utf-8")
        self.config.write_text(CONFIG.format(
            n=n, code=self.code, state=self.state, port=self.port, batch=BATCH,
            repeat_flush=REPEAT_FLUSH, flush_interval=FLUSH_INTERVAL,
            deny=tmp / "deny.txt", relay=relay.port, token=token), encoding="utf-8")
        self.offset = MONTH_END - LEAD - time.time()
        self.proc: subprocess.Popen[bytes] | None = None
        self.killed_at = 0.0  # time.monotonic() of the last kill
        self.log = tmp / "roja.log"
        self.starts = 0

    def now(self) -> float:
        """The appliance's (shifted) clock."""
        return time.time() + self.offset

    def start(self) -> None:
        env = dict(os.environ, ROJA_TEST_CLOCK_OFFSET=repr(self.offset),
                   PYTHONPATH=os.pathsep.join([str(CLOCK), str(ROOT)]))
        self.starts += 1
        with self.log.open("ab") as log:
            log.write(f"--- start {self.starts}\n".encode())
            log.flush()
            self.proc = subprocess.Popen(
                [sys.executable, "-c", "from filterd.cli import main; main()", "--config",
                 str(self.config), "serve"], env=env, stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True)

    def kill(self) -> None:
        """SIGKILL to the whole process group (the appliance and a `report due` child)."""
        assert self.proc is not None
        self.killed_at = time.monotonic()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(30)
        finally:
            self.kill()

    def has_child(self) -> bool:
        """A `roja report due` child is running."""
        assert self.proc is not None
        try:
            children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text()
        except OSError:
            return False
        return bool(children.split())

    async def ready(self) -> None:
        for _ in range(300):
            if self.proc is not None and self.proc.poll() is not None:
                raise AssertionError(f"roja exited: {self.log.read_text()[-3000:]}")
            answer = await asyncio.to_thread(ask_udp, ("127.0.0.1", self.port),
                                             make_query("ready.example"), 0.2)
            if answer is not None:
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"roja did not answer: {self.log.read_text()[-3000:]}")

    def outbox(self) -> list[tuple[str, str]]:
        """(period, status) of every delivery."""
        path = self.state / "outbox.sqlite"
        if not path.is_file():
            return []
        try:
            with contextlib.closing(sqlite3.connect(path, timeout=5)) as db:
                return [(str(p), str(s)) for p, s in db.execute(
                    "SELECT period, status FROM deliveries ORDER BY id")]
        except sqlite3.Error:
            return []

    def revisions(self) -> list[dict[str, object]]:
        folder = self.state / "reports" / PERIOD
        found = []
        for meta in sorted(folder.glob("r*/revision.json")):
            found.append(json.loads(meta.read_bytes()))
        return found

    def store(self) -> tuple[set[str], int, int, int]:
        """(names, blocked requests, October's blocked requests, October's incident rows) of
        the incident store."""
        with contextlib.closing(sqlite3.connect(self.state / "incidents.sqlite")) as db:
            names = {str(r[0]) for r in db.execute("SELECT name FROM incidents")}
            every = int(db.execute("SELECT COALESCE(SUM(count), 0) FROM incidents").fetchone()[0])
            total, rows = db.execute(
                "SELECT COALESCE(SUM(count), 0), COUNT(*) FROM incidents WHERE first_at >= ? "
                "AND first_at < ?", (MONTH_END - 31 * 86400, MONTH_END)).fetchone()
        return names, every, int(total), int(rows)

    def log_count(self, text: str) -> int:
        return self.log.read_text(encoding="utf-8", errors="replace").count(text)


def query_loop(gw: Gateway, rng: random.Random, out: Outcome, stop: list[bool]) -> None:
    """Blocked queries (new names, and repeats of recent ones) until AFTER seconds into
    November on the appliance's clock, or until `stop`."""
    recent: list[str] = []
    i = 0
    while gw.now() < MONTH_END + AFTER and not stop[0]:
        if recent and rng.random() < 0.3:
            name = rng.choice(recent[-20:])
        else:
            name = f"q{i}.bixhoz{i % NAMES}.example"
            recent.append(name)
        i += 1
        at = gw.now()
        if blocked_answer(ask_udp(("127.0.0.1", gw.port), make_query(name), 0.3)):
            out.answered[name] = out.answered.get(name, 0) + 1
            out.answered_at.append(time.monotonic())
            if at < MONTH_END - 0.5 and name not in out.october:
                out.october.append(name)
        time.sleep(0.004)


def late_repeats(gw: Gateway, out: Outcome) -> None:
    """A pupil still retrying October's names in November, after October's report went."""
    for name in out.october[-30:]:
        if blocked_answer(ask_udp(("127.0.0.1", gw.port), make_query(name), 1.0)):
            out.answered[name] = out.answered.get(name, 0) + 1


async def until(condition: Callable[[], bool], every: float, limit: float = 90.0) -> None:
    deadline = time.monotonic() + limit
    for _ in iter(condition, True):
        if time.monotonic() > deadline:
            raise AssertionError("the kill point never came")
        await asyncio.sleep(every)


async def kill_at_random(gw: Gateway, relay: Relay, rng: random.Random, out: Outcome,
                         stop: list[bool]) -> None:
    """Wait for the run's kill point, then kill the appliance."""
    if out.phase == "incidents":
        wait = rng.uniform(0.2, max(0.3, MONTH_END - gw.now() - 0.2))
        await asyncio.sleep(wait)
        out.point = f"incidents: {wait:.2f} s into the queries, {MONTH_END - gw.now():.2f} s " \
                    "before October ended"
        gw.kill()
        stop[0] = True
        return
    if out.phase == "build":  # October's report (September's is made before October ends)
        # a step that began before SETTLE had passed builds nothing
        await until(lambda: gw.now() >= MONTH_END + SETTLE + 0.5 and gw.has_child(), 0.005)
        wait = rng.uniform(0.0, 4.0)
        await asyncio.sleep(wait)
        gw.kill()
        out.point = (f"build: {wait:.2f} s after `report due` started; revisions "
                     f"{len(gw.revisions())}, outbox {gw.outbox()}")
        return
    if out.phase == "queued":
        await until(lambda: any(p == PERIOD for p, _ in gw.outbox()), 0.002)
        gw.kill()
        out.point = f"queued: outbox {gw.outbox()}"
        return
    assert relay.hook is not None, "armed before the appliance started"
    await asyncio.wait_for(relay.killed.wait(), 90)


def arm(relay: Relay, gw: Gateway, out: Outcome) -> None:
    """For a "delivery" run: kill the appliance when October's report reaches the relay
    (before the inbox has it) or when the inbox's answer comes back (the inbox has it). Armed
    before the appliance starts, so that no delivery can slip past."""
    stage = ("request", "answer")[(out.seed - BASE_SEED) // len(PHASES) % 2]

    async def hook(at: str) -> bool:
        if at != stage or relay.killed.is_set() or gw.now() < MONTH_END:
            return False
        await asyncio.to_thread(gw.kill)
        out.point = f"delivery: at the {at} (inbox " \
                    f"{'has' if at == 'answer' else 'does not have'} it)"
        relay.killed.set()
        return True

    relay.hook = hook


async def settled(gw: Gateway, quiet: bool) -> None:
    """Until October's report went and nothing is left to send; with `quiet`, also until a
    report step that began after this call found nothing to do."""
    quiet_lines = gw.log_count(NOTHING) + gw.has_child()
    for _ in range(1200):
        rows = gw.outbox()
        if [p for p, _ in rows if p == PERIOD] and not [
                s for _, s in rows if s in ("queued", "sending")] \
                and (not quiet or gw.log_count(NOTHING) > quiet_lines):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"not delivered: {gw.outbox()}\n{gw.log.read_text()[-4000:]}")


async def one_run(tmp: Path, n: int, inbox: Inbox) -> Outcome:
    began = time.monotonic()
    seed = BASE_SEED + n
    rng = random.Random(seed)
    out = Outcome(seed, PHASES[n % len(PHASES)])
    relay = Relay(int(inbox.url.rsplit(":", 1)[1].split("/")[0]))
    await relay.start()
    gw = Gateway(tmp, n, inbox, relay)
    if out.phase == "delivery":
        arm(relay, gw, out)
    gw.start()
    try:
        await gw.ready()
        stop = [False]
        queries = asyncio.create_task(asyncio.to_thread(query_loop, gw, random.Random(seed),
                                                        out, stop))
        await kill_at_random(gw, relay, rng, out, stop)
        out.killed_at = gw.killed_at
        relay.hook = None
        await queries
        with gw.log.open("a") as log:
            log.write("--- killed\n")
        gw.start()
        await gw.ready()
        await settled(gw, quiet=False)
        await asyncio.to_thread(late_repeats, gw, out)
        await asyncio.sleep(0.3)  # the writer's flush interval, and more
        await settled(gw, quiet=True)
    finally:
        await asyncio.to_thread(gw.stop)
        await relay.stop()
    print(f"run {n}: {time.monotonic() - began:.1f} s")
    check(gw, inbox, out)
    return out


def check(gw: Gateway, inbox: Inbox, out: Outcome) -> None:
    names, stored, total, rows = gw.store()
    lost = set(out.answered) - names
    out.lost = len(lost)
    lost_answers = sum(out.answered.values()) - stored
    history = submissions.history(inbox.store, gw.code)
    got = [s for s in history if s.period == PERIOD]
    out.revisions = len(got)
    print(f"run seed={out.seed} kill point: {out.point}; answered {len(out.answered)} names, "
          f"lost {len(lost)} ({lost_answers} of {sum(out.answered.values())} answers); "
          f"gateway revisions {len(gw.revisions())}, outbox {gw.outbox()}; inbox revisions "
          f"of October {len(got)}, of all periods {[(s.period, s.revision) for s in history]}")
    assert len(lost) <= BATCH, f"{len(lost)} answered blocks are not in the store"
    # Repeats answered shortly before the kill may still have been held in memory (a
    # repeat's count is written up to REPEAT_FLUSH seconds later; the margin covers the write).
    held = sum(1 for at in out.answered_at if at >= out.killed_at - REPEAT_FLUSH - 0.5)
    assert lost_answers <= BATCH + held, \
        f"{lost_answers} answered blocks are not counted in the store ({held} were answered " \
        f"in the last {REPEAT_FLUSH + 0.5} s before the kill)"
    assert len(gw.revisions()) == 1, f"the appliance made {len(gw.revisions())} revisions"
    assert got, "the inbox has no report of October"
    for period in {s.period for s in history}:
        one_period(inbox, [s for s in history if s.period == period])
    documents = one_period(inbox, got)
    current = [d for d, s in zip(documents, got, strict=True) if s.current]
    assert len(current) == 1
    blocked_section = current[0]["report"]["blocked"]
    assert (blocked_section["total"], blocked_section["incidents"]) == (total, rows), \
        "the current revision's counts differ from the incident store"


def one_period(inbox: Inbox, got: list[submissions.Submission]) -> list[dict[str, Any]]:
    """The revisions' documents; each revision complete, no two with the same content."""
    assert len(got) == 1, f"{got[0].period} has {len(got)} revisions at the inbox"
    documents = []
    for sub in got:
        files = {kind: submissions.file(inbox.store, sub.id, kind) for kind in ("json", "pdf")}
        assert all(files.values()), f"revision {sub.revision} lacks a file: {files.keys()}"
        found = files["json"]
        assert found is not None
        documents.append(json.loads(found[1]))
    kinds = [substance(d) for d in documents]
    assert len(set(kinds)) == len(kinds), \
        f"the inbox has {len(kinds)} revisions of {got[0].period}, {len(set(kinds))} different"
    return documents


@pytest.mark.timeout(240)  # 4 appliances side by side: ~35 s, ~100 s on a crowded machine
@pytest.mark.parametrize("group", range(RUNS // GROUP))
async def test_a_kill_9_anywhere_loses_no_report_and_at_most_the_batch_in_flight(
        tmp_path: Path, group: int) -> None:
    print(f"ROJA_KILL_SEED={BASE_SEED}")
    # the query loops hold threads for seconds: the default pool (cores + 4) would make the
    # other runs' short calls (readiness, kills) wait behind them
    asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor(8 * GROUP))
    for n in range(group * GROUP, (group + 1) * GROUP):
        (tmp_path / f"run{n}").mkdir()
    async with running_inbox(tmp_path) as inbox:
        outcomes = await asyncio.gather(*(one_run(tmp_path / f"run{n}", n, inbox)
                                          for n in range(group * GROUP, (group + 1) * GROUP)),
                                        return_exceptions=True)  # every appliance stopped
    failed = [o for o in outcomes if isinstance(o, BaseException)]
    for error in failed:
        print(f"FAILED: {error!r}"[:400])
    if failed:
        raise failed[0]
    for o in outcomes:
        assert isinstance(o, Outcome) and o.point, "the kill point was never reached"
