"""The running appliance: compiles the lists, builds the policy, starts the incident writer,
the DNS server and `/metrics`, reloads on SIGHUP and stops cleanly on SIGTERM/SIGINT.

A reload builds the new config, lists and policy completely before swapping them in; if any
step fails, the old policy keeps serving and the error is logged. The main process owns
"apply" (`filterd.list_apply`): after a start or reload it records what is enforced, refreshes
the RPZ zone and tells the other workers; a new synced feed file, whoever wrote it, is applied
the same way within a second or two.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
import time
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from threading import Thread
from typing import TYPE_CHECKING, Any
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, start_http_server

from blocklists.compiled import CompiledList
from blocklists.sync import status as feed_status
from dns_resolver.answer_cache import AnswerCache
from dns_resolver.chain import build_chain
from dns_resolver.engine import Resolver
from dns_resolver.metrics import DnsStats
from dns_resolver.server import DnsServer
from filterd.config import RojaConfig, load_config
from filterd.hotline import FeedMetrics, current_file, sync_loop
from filterd.list_apply import (
    WATCH_INTERVAL,
    build_policy,
    enforced_record,
    entry_counts,
    feed_stamp,
    list_outcome,
    list_sources,
    read_enforced,
    record_serial_change,
    write_enforced,
)
from filterd.metrics import ListGauge, SelftestGauge, list_rules
from filterd.policy_runtime import (
    PolicyRuntime,
    record_load,
    remove_pid,
    write_pid,
    write_reload_status,
)
from filterd.restart_tables import changed_tables, unit_for
from filterd.rpz_export import RpzExport
from filterd.traffic import HourlyTraffic
from filterd.workers import CombinedStats, WorkerPool
from policy import Policy
from policy.ref import PolicyRef
from reporting.events import record_event
from reporting.incidents import IncidentWriter
from reporting.pseudonym import load_or_create_key, yearly_keys
from reporting.retention import purge

if TYPE_CHECKING:
    from dns_resolver.tls_server import EncryptedDns
    from filterd.proxy.service import ProxyService

log = logging.getLogger("roja")
__all__ = ["Appliance", "build_policy", "list_sources", "run", "run_report_due"]


REPORT_DUE_TIMEOUT = 900.0
REPORT_FIRST_DELAY = 300.0  # seconds after start: off the busy start-up
STOP_PATIENCE = 20.0  # seconds the "stop" event waits for a locked incident database


async def run_report_due(config_path: Path, limit: float = REPORT_DUE_TIMEOUT) -> int:
    """`roja --config <config_path> report due` in a child process; its output goes to the log.
    Returns the exit status (-9 when it ran past `limit` seconds and was killed)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", "from filterd.cli import main; main()", "--config",
        str(config_path), "report", "due", stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT, stdin=asyncio.subprocess.DEVNULL)
    try:
        async with asyncio.timeout(limit):
            out, _ = await proc.communicate()
    except TimeoutError:
        proc.kill()
        await proc.wait()
        log.warning("report: `roja report due` ran over %.0f s and was stopped", limit)
        return -9
    for line in out.decode("utf-8", "replace").splitlines():
        log.info("report: %s", line)
    if proc.returncode:
        log.warning("report: `roja report due` exited with %s", proc.returncode)
    return proc.returncode or 0


class Appliance:
    def __init__(self, cfg: RojaConfig, spawn_workers: bool = True) -> None:
        self.cfg = cfg
        self.spawn_workers = spawn_workers  # False inside an extra worker process
        self.registry = CollectorRegistry()
        self.stats = DnsStats()
        self.lists = ListGauge()
        self.combined = CombinedStats(self.stats, None)
        self.registry.register(self.combined)
        self.registry.register(self.lists)
        self.registry.register(SelftestGauge(cfg.state_dir / "incidents.sqlite"))
        self.feed_metrics = FeedMetrics(cfg.feed, cfg.state_dir, lambda: self.enforced)
        self.enforced: dict[str, Any] | None = None  # what DNS enforces (enforced.json)
        self._feed_stamp: tuple[int, int, int] | None = None  # the feed file last compiled
        self._apply_lock = asyncio.Lock()
        self._watch_task: asyncio.Task[None] | None = None
        self.registry.register(self.feed_metrics)
        self._feed_task: asyncio.Task[None] | None = None
        self._housekeeping: asyncio.Task[None] | None = None
        self._reporting: asyncio.Task[None] | None = None
        self.traffic: HourlyTraffic | None = None  # the console's per-hour chart (main only)
        self._traffic_task: asyncio.Task[None] | None = None
        self.rpz = RpzExport(cfg.rpz, current_file(cfg.state_dir))
        self.registry.register(self.rpz)
        self.workers: WorkerPool | None = None
        self.stopped = asyncio.Event()
        self.server: DnsServer | None = None
        self.encrypted: EncryptedDns | None = None
        self.writer: IncidentWriter | None = None
        self.resolver: Resolver | None = None
        self.policy_ref: PolicyRef | None = None
        self.runtime: PolicyRuntime | None = None
        self._runtime_task: asyncio.Task[None] | None = None
        self._compiled: CompiledList | None = None
        self._metrics_server: tuple[WSGIServer, Thread] | None = None
        self.proxy: ProxyService | None = None

    async def start(self) -> None:
        cfg = self.cfg
        cfg.state_dir.mkdir(parents=True, exist_ok=True)
        self._feed_stamp = feed_stamp(cfg.state_dir)
        feed = await asyncio.to_thread(feed_status, cfg.state_dir)
        policy, compiled = await asyncio.to_thread(build_policy, cfg)
        self._compiled = compiled
        self.lists.counts, self.lists.rules = entry_counts(compiled, cfg), list_rules(cfg)
        if self.spawn_workers:
            self.enforced = await asyncio.to_thread(read_enforced, cfg.state_dir)  # last run's
            await asyncio.to_thread(self._enforce, cfg, compiled, feed)
        key = load_or_create_key(cfg.state_dir)
        self.writer = IncidentWriter(cfg.state_dir / "incidents.sqlite", key, cfg.incidents,
                                     shared=cfg.dns.workers > 1,
                                     key_for_year=yearly_keys(cfg.state_dir))
        self.combined.incidents = self.writer
        await self.writer.start()
        self.runtime = PolicyRuntime(cfg.state_dir, policy, self._policy_changed,
                                     main=self.spawn_workers)
        self.policy_ref = PolicyRef(self.runtime.current)
        chain = build_chain(cfg.dns, self.policy_ref, self.stats, cfg.proxy.steering())
        self.resolver = Resolver(admission=chain.admission, chain=chain.entry,
                                 policy=self.policy_ref,
                                 answers=AnswerCache(cfg.dns.answer_cache_size,
                                                     int(cfg.dns.answer_cache_max_mb * 2**20)),
                                 stats=self.stats, incidents=self.writer, quick=chain.quick)
        self.server = DnsServer(self.resolver, cfg.dns.listen, cfg.dns.tcp,
                                reuse_port=cfg.dns.workers > 1, allowed=chain.acl.allowed)
        await self.server.start()
        if cfg.dns.encrypted.enabled and self.spawn_workers:   # DoT/DoH: main process only
            from filterd.encrypted_dns import start_encrypted
            self.encrypted = await start_encrypted(cfg, self.resolver, chain)
        if cfg.dns.workers > 1 and self.spawn_workers:
            self.workers = WorkerPool(cfg.path, self.server.bound, cfg.dns.workers,
                                      self.combined)
            self.workers.start()
        self._runtime_task = asyncio.create_task(self.runtime.run(), name="roja-policy")
        if self.spawn_workers:
            write_pid(cfg.state_dir)
            await asyncio.to_thread(record_load, cfg.state_dir, cfg.path, None,
                                    self.runtime.current, "start")
            await asyncio.to_thread(record_event, self.db_path, "start")
            self._housekeeping = asyncio.create_task(self._daily(), name="roja-housekeeping")
            self._reporting = asyncio.create_task(self._reports(), name="roja-reports")
            self.traffic = HourlyTraffic(cfg.state_dir, self.combined.results)
            self._traffic_task = asyncio.create_task(self.traffic.run(), name="roja-traffic")
        if cfg.proxy.enabled and self.spawn_workers:  # one proxy, in the main process
            # Imported here: mitmproxy adds ~45 MiB to the process, which a resolver
            # without the proxy (an ISP's, say) should not carry.
            from filterd.proxy.service import ProxyService
            self.proxy = ProxyService(cfg.proxy, cfg.state_dir, self.policy_ref, self.writer,
                                      cfg.dns.upstream.servers, school=cfg.school.name,
                                      transparent_ports=(cfg.firewall.proxy_http_port,
                                                         cfg.firewall.proxy_https_port))
            await self.proxy.start()
        if cfg.rpz.enabled and self.spawn_workers:
            await self.rpz.refresh(self.enforced["serial"] if self.enforced else None)
            self.rpz.watch_fleet(cfg.state_dir)
        if cfg.feed.enabled and self.spawn_workers:
            self._feed_task = asyncio.create_task(self._sync_feed(), name="roja-feed-sync")
            self._watch_task = asyncio.create_task(self._watch_feed(), name="roja-feed-watch")
        if cfg.metrics_listen is not None:
            host, port = cfg.metrics_listen
            self._metrics_server = start_http_server(port, host, registry=self.registry)
            log.info("metrics on http://%s:%d/metrics", host, port)
        if not cfg.dns.upstream.servers:
            log.warning("no upstream resolver configured or found in /etc/resolv.conf: "
                        "allowed names will get SERVFAIL")

    async def reload(self, path: Path | None = None) -> bool:
        """Re-read the config and lists; swap the policy only if everything loaded."""
        async with self._apply_lock:
            return await self._reload(path)

    async def _reload(self, path: Path | None) -> bool:
        try:
            cfg = await asyncio.to_thread(load_config, path or self.cfg.path)
            stamp = feed_stamp(cfg.state_dir)
            feed = await asyncio.to_thread(feed_status, cfg.state_dir)
            policy, compiled = await asyncio.to_thread(build_policy, cfg)
        except Exception as exc:
            log.error("reload failed, the old policy stays in force: %s", exc)
            if self.spawn_workers:
                await asyncio.to_thread(write_reload_status, self.cfg.state_dir, False, str(exc))
            return False
        assert self.runtime is not None
        old = self.runtime.base
        self.runtime.set_base(policy)
        # Only the policy and the lists swap; self.cfg (what started) is what still runs.
        restart = changed_tables(self.cfg, cfg)
        if self.spawn_workers:
            outcome = list_outcome(self._compiled, compiled, cfg)
            await asyncio.to_thread(self._enforce, cfg, compiled, feed)
            await asyncio.to_thread(record_load, cfg.state_dir, cfg.path, old, policy, "reload")
            await asyncio.to_thread(write_reload_status, cfg.state_dir, True, "", restart,
                                    outcome)
        self.lists.counts, self.lists.rules = entry_counts(compiled, cfg), list_rules(cfg)
        self._compiled = compiled
        self._feed_stamp = stamp
        if self.spawn_workers and self.cfg.rpz.enabled:  # the zone follows every change
            await self.rpz.refresh(self.enforced["serial"] if self.enforced else None)
        for table in restart:
            log.warning("[%s] ndryshoi: duhet `systemctl restart %s` / [%s] changed: restart "
                        "it to apply (the new lists and policy apply now)", table,
                        unit_for(table), table)
        log.info("reloaded %s", cfg.path)
        return True

    def _policy_changed(self, policy: Policy) -> None:
        """A new policy from the runtime (unblocks, schedule boundary, neighbours, reload)."""
        if self.policy_ref is not None:
            self.policy_ref.current = policy
        if self.resolver is not None:
            self.resolver.policy_changed()

    def _enforce(self, cfg: RojaConfig, compiled: CompiledList, feed: dict[str, Any]) -> None:
        """Record what the main process now enforces (enforced.json), and a newly enforced
        hotline serial as the `sync_ok` event."""
        old = self.enforced.get("serial") if self.enforced else None
        self.enforced = enforced_record(cfg, compiled, feed, self.enforced)
        write_enforced(cfg.state_dir, self.enforced)
        record_serial_change(cfg.state_dir, old, self.enforced["serial"])

    async def apply_everywhere(self) -> bool:
        """Reload here (RPZ included) and in every other DNS worker."""
        ok = await self.reload()
        if ok and self.workers is not None:
            self.workers.signal(signal.SIGHUP)
        return ok

    async def _watch_feed(self) -> None:
        """Apply a new synced feed file within WATCH_INTERVAL, whoever wrote it."""
        failed: tuple[int, int, int] | None = None
        while True:
            await asyncio.sleep(WATCH_INTERVAL)
            stamp = feed_stamp(self.cfg.state_dir)
            if stamp is None or stamp in (self._feed_stamp, failed):
                continue
            log.info("the synced hotline list changed; applying it")
            try:
                ok = await self.apply_everywhere()
            except Exception:  # the watch must not die; the last good policy stays
                log.exception("applying the synced hotline list failed")
                ok = False
            failed = None if ok else stamp

    async def _sync_feed(self) -> None:
        try:
            await sync_loop(self.cfg.feed, self.cfg.state_dir, self.feed_metrics,
                            self.apply_everywhere)
        except asyncio.CancelledError:
            raise
        except Exception:  # the loop must not die silently; the list stays last-known-good
            log.exception("hotline feed sync loop stopped")

    @property
    def db_path(self) -> Path:
        return self.cfg.state_dir / "incidents.sqlite"

    async def _daily(self) -> None:
        """Retention and the free-text purge once a day (the first run an hour after start,
        off the busy start-up)."""
        await asyncio.sleep(3600)
        while True:
            try:
                settings = self.cfg.incidents
                counts = await asyncio.to_thread(
                    purge, self.db_path, time.time(), keep_days=settings.retention_days,
                    free_text_days=settings.free_text_days)
                log.info("retention: deleted %s", counts)
            except Exception:  # housekeeping must not stop the filter
                log.exception("retention run failed")
            await asyncio.sleep(86400)

    async def _reports(self) -> None:
        """Last month's report on or after `[report] send_day`, and retries of due deliveries
        (hourly; `roja report due` catches up after downtime and never queues a bundle twice).
        It runs as a child process: building a PDF and sending it over HTTPS loads ~20 MiB of
        libraries that would otherwise stay in this process for good. `[report] check_every`
        (default an hour) sets the interval; the first step comes 5 minutes after start, or
        after one interval when that is shorter."""
        every = self.cfg.report.check_every
        await asyncio.sleep(min(REPORT_FIRST_DELAY, every))
        while True:
            try:
                await run_report_due(self.cfg.path)
            except Exception:  # delivery must not stop the filter; the outbox retries
                log.exception("report delivery failed")
            await asyncio.sleep(every)

    async def stop(self) -> None:
        if self._runtime_task is not None:
            self._runtime_task.cancel()
        if self.runtime is not None:
            self.runtime.close()
            if self.spawn_workers:
                remove_pid(self.cfg.state_dir)
        if self._reporting is not None:
            self._reporting.cancel()
        if self._traffic_task is not None and self.traffic is not None:
            self._traffic_task.cancel()
            self.traffic.sample_now()  # the queries since the last sample
        if self._housekeeping is not None:
            self._housekeeping.cancel()
            # bounded: a stop must not hang behind another program's lock
            await asyncio.to_thread(record_event, self.db_path, "stop", patience=STOP_PATIENCE)
        if self._feed_task is not None:
            self._feed_task.cancel()
        if self._watch_task is not None:
            self._watch_task.cancel()
        await self.rpz.stop()
        if self.workers is not None:
            await self.workers.stop()
        if self.server is not None:
            await self.server.stop()
        if self.encrypted is not None:
            await self.encrypted.stop()
        if self.proxy is not None:
            await self.proxy.stop()
        if self.writer is not None:
            await self.writer.stop()
        if self._metrics_server is not None:
            self._metrics_server[0].shutdown()
            self._metrics_server[0].server_close()

    async def run_until_signalled(
            self, after_start: Callable[[], Awaitable[None]] | None = None) -> None:
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, self.stopped.set)
        loop.add_signal_handler(signal.SIGINT, self.stopped.set)
        reloads: set[asyncio.Task[bool]] = set()

        def on_hup() -> None:
            if self.workers is not None:
                self.workers.signal(signal.SIGHUP)
            task = loop.create_task(self.reload())
            reloads.add(task)
            task.add_done_callback(reloads.discard)

        loop.add_signal_handler(signal.SIGHUP, on_hup)
        try:
            await self.start()
            if after_start is not None:
                await after_start()
            await self.stopped.wait()
        finally:
            await self.stop()  # also after a failed start: the writer thread must not linger


def event_loop_runner() -> Callable[[Coroutine[Any, Any, None]], None]:
    """uvloop's runner where installed (faster sockets), else asyncio's."""
    try:
        import uvloop
    except ImportError:  # uvloop is optional; the standard loop is correct, only slower
        return asyncio.run
    return uvloop.run


def run(cfg: RojaConfig,
        after_start: Callable[[], Awaitable[None]] | None = None) -> None:
    event_loop_runner()(Appliance(cfg).run_until_signalled(after_start))
