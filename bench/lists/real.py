"""``python -m bench lists --real``: the four real filter lists Debian ships with uBlock Origin
(package ``webext-ublock-origin-chromium``; never downloaded), next to the synthetic 5M figures.

    python -m bench lists --real                      # 5 compiles a set, 20,000 lookups
    python -m bench lists --real --quick              # 1 compile of all four, 2,000 lookups
    python -m bench lists --real --synthetic 1000000  # also a generated list, measured alike

For each list alone and for all four together, ``--repeat`` compiles, each in a fresh process
(``bench.lists.real_child``, ``format = "adblock"``): median wall and CPU seconds of the
compile, and its peak RSS read from ``/proc/self/status`` ``VmHWM`` of that process (not
``ru_maxrss``, which carries the parent's peak across fork and exec: see the child). Printed:
per list what was taken (domains, URL entries, addresses) and skipped by rule kind, the hosts
its URL entries steer to the proxy and their share of the list's hosts, the biggest of them;
the compile figures; and the in-process lookup cost per name (listed, unlisted) and per
address (listed, unlisted), as the resolver pays it for every answer. The synthetic 5M
figures are the ones recorded in bench/RESULTS.md unless ``--synthetic N`` measures a
generated list of N domains the same way here.
"""

from __future__ import annotations

import argparse
import json
import shlex
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

ASSETS = Path("/usr/share/chromium/extensions/ublock-origin/assets")
REAL_LISTS = {
    "badware": ASSETS / "ublock/badware.min.txt",
    "urlhaus": ASSETS / "thirdparties/urlhaus-filter/urlhaus-filter-online.txt",
    "easylist": ASSETS / "thirdparties/easylist/easylist.txt",
    "easyprivacy": ASSETS / "thirdparties/easylist/easyprivacy.txt",
}
REPO = Path(__file__).resolve().parents[2]
TOP_KINDS = 6
TOP_HOSTS = 4
# bench/RESULTS.md, "Compiled list at 5,000,000 domains" (2026-11-23, format 3). Its peak RSS
# was wait4's ru_maxrss, which can carry the harness's own peak across fork/exec; measured
# here as VmHWM of a fresh process (2026-12-07, --synthetic 5000000) it was 710 MiB, so the
# figure is the compiler's own.
RECORDED_5M = {"entries": 5_000_000, "compile_s": 17.5, "peak": "702 MiB (VmHWM 710 MiB "
               "on 2026-12-07)", "file": "71 MiB", "lookup_listed_us": 6.42,
               "lookup_10k_us": 2.96, "source": "bench/RESULTS.md 2026-11-23"}


@dataclass
class Run:
    wall_s: float
    cpu_s: float
    hwm_kib: int
    hwm_before_kib: int
    file_bytes: int


@dataclass
class SetResult:
    """The compiles of one set of lists (one list alone, or all together)."""

    name: str
    runs: list[Run] = field(default_factory=list)
    summary: dict[str, dict[str, object]] = field(default_factory=dict)
    steered: dict[str, dict[str, int]] = field(default_factory=dict)
    lookups: dict[str, float] = field(default_factory=dict)
    reason: str = ""

    def median(self, attr: str) -> float:
        return statistics.median(float(getattr(r, attr)) for r in self.runs)

    def spread(self, attr: str) -> str:
        values = [float(getattr(r, attr)) for r in self.runs]
        return f"{min(values):.2f}-{max(values):.2f}"


def _parse(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench lists --real",
                                description=__doc__.split("\n")[0])
    p.add_argument("--real", action="store_true", help="(this mode)")
    p.add_argument("--repeat", type=int, default=5, help="compiles per set, medians (5)")
    p.add_argument("--lookups", type=int, default=20_000, help="names/addresses asked (20000)")
    p.add_argument("--lists", default=",".join(REAL_LISTS), help="comma list (%(default)s)")
    p.add_argument("--quick", action="store_true",
                   help="one compile of the lists together, 2,000 lookups (for the tests)")
    p.add_argument("--synthetic", type=int, default=0,
                   help="also compile N generated domains here (0: the recorded 5M figures)")
    p.add_argument("--workdir", type=Path, default=REPO / "bench" / "out" / "dns",
                   help="where generated data is cached (--synthetic)")
    p.add_argument("--out", type=Path, help="also write a Markdown report to this file")
    args = p.parse_args(argv)
    if args.quick:
        args.repeat, args.lookups = 1, min(args.lookups, 2_000)
    return args


def compile_once(specs: dict[str, Path], lookups: int, fmt: str = "adblock") -> dict[str, Any]:
    """One compile in a fresh ``bench.lists.real_child`` process; its JSON answer."""
    with tempfile.TemporaryDirectory(prefix="roja-bench-real-") as tmp:
        argv = [sys.executable, "-m", "bench.lists.real_child", str(Path(tmp) / "lists.compiled"),
                str(lookups), fmt, *(f"{lid}={path}" for lid, path in specs.items())]
        done = subprocess.run(argv, capture_output=True, text=True, cwd=REPO, timeout=1800,
                              check=False)
    if done.returncode != 0 or not done.stdout.strip():
        raise RuntimeError(f"the compile exited with {done.returncode}: "
                           f"{done.stderr.strip()[-400:]}")
    got: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return got


def measure(name: str, specs: dict[str, Path], repeat: int, lookups: int,
            fmt: str = "adblock") -> SetResult:
    """``repeat`` compiles of ``specs``; the first one also measures lookups."""
    result = SetResult(name)
    for i in range(repeat):
        try:
            got = compile_once(specs, lookups if i == 0 else 0, fmt)
        except (RuntimeError, subprocess.TimeoutExpired) as exc:
            result.reason = str(exc)
            return result
        result.runs.append(Run(float(got["wall_s"]), float(got["cpu_s"]), int(got["hwm_kib"]),
                               int(got["hwm_before_kib"]), int(got["file_bytes"])))
        if i == 0:
            result.summary, result.steered = got["summary"], got["steered"]
            result.lookups = got.get("lookups", {})
        print(f"  {name}: {got['wall_s']:.2f} s, peak {int(got['hwm_kib']) // 1024} MiB",
              flush=True)
    return result


def _num(item: dict[str, object], key: str) -> int:
    value = item.get(key, 0)
    return value if isinstance(value, int) else 0


def lists_table(together: SetResult) -> list[list[str]]:
    rows = [["list", "domains", "URL entries", "addresses", "of them (allow, badfilter...)",
             "bad lines", "skipped (top kinds)",
             "URL entries over cap / on never-steer hosts", "steered hosts (share)",
             "biggest steered hosts (URL entries)"]]
    for lid, item in together.summary.items():
        skipped = item.get("skipped")
        skipped = skipped if isinstance(skipped, dict) else {}
        kinds = sorted(((str(k), v) for k, v in skipped.items() if isinstance(v, int)),
                       key=lambda kv: (-kv[1], kv[0]))
        total = sum(n for _, n in kinds)
        other = sum(n for _, n in kinds[TOP_KINDS:])
        shown = ", ".join([f"{k} {n:,}" for k, n in kinds[:TOP_KINDS]]
                          + ([f"{len(kinds) - TOP_KINDS} other kinds {other:,}"] if other else []))
        kind_counts = item.get("kinds")
        kind_counts = kind_counts if isinstance(kind_counts, dict) else {}
        over = kind_counts.get("url over steering cap", 0)
        never = kind_counts.get("url on never-steer host", 0)
        notable = ", ".join(f"{k} {n:,}" for k, n in sorted(kind_counts.items())
                            if not k.startswith("url ") and isinstance(n, int)) or "-"
        hosts = together.steered.get(lid, {})
        domains = _num(item, "domains")
        share = len(hosts) / (domains + len(hosts)) if domains + len(hosts) else 0.0
        biggest = sorted(hosts.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_HOSTS]
        rows.append([lid, f"{domains:,}", f"{_num(item, 'urls'):,}",
                     f"{_num(item, 'addresses'):,}", notable, f"{_num(item, 'bad'):,}",
                     f"{total:,} ({shown})" if total else "0", f"{over:,} / {never:,}",
                     f"{len(hosts):,} ({100 * share:.1f}%)",
                     ", ".join(f"{h} {n:,}" for h, n in biggest) or "-"])
    return rows


def compile_table(sets: list[SetResult], synthetic: SetResult | None) -> list[list[str]]:
    rows = [["lists", "compiles", "wall s, median (min-max)", "CPU s, median",
             "peak RSS (VmHWM)", "of which interpreter + imports", "compiled file"]]
    for s in sets + ([synthetic] if synthetic else []):
        if s.reason or not s.runs:
            rows.append([f"{s.name}: not available ({s.reason or 'no runs'})"] + [""] * 6)
            continue
        rows.append([s.name, str(len(s.runs)), f"{s.median('wall_s'):.2f} "
                     f"({s.spread('wall_s')})", f"{s.median('cpu_s'):.2f}",
                     f"{s.median('hwm_kib') / 1024:,.0f} MiB",
                     f"{s.median('hwm_before_kib') / 1024:,.0f} MiB",
                     f"{s.runs[0].file_bytes / 1e6:,.2f} MB"])
    if synthetic is None:
        r = RECORDED_5M
        rows.append([f"synthetic {r['entries']:,} domains", f"recorded ({r['source']})",
                     str(r["compile_s"]), "", str(r["peak"]), "", str(r["file"])])
    return rows


def lookup_table(sets: list[SetResult], synthetic: SetResult | None) -> list[list[str]]:
    rows = [["lists", "names asked", "listed name (share matched)", "unlisted name",
             "address entries", "listed address", "unlisted address"]]
    for s in sets + ([synthetic] if synthetic else []):
        lk = s.lookups
        if not lk:
            continue
        rows.append([s.name, f"{int(lk['names']):,}",
                     f"{lk['name_listed_us']:.2f} µs ({100 * lk['name_hit_share']:.0f}%)",
                     f"{lk['name_unlisted_us']:.2f} µs", f"{int(lk['address_entries']):,}",
                     f"{lk['address_listed_us']:.2f} µs" if lk["address_entries"] else "-",
                     f"{lk['address_unlisted_us']:.2f} µs" if lk["address_entries"] else "-"])
    if synthetic is None:
        r = RECORDED_5M
        rows.append([f"synthetic 5,000,000 domains (recorded, {r['source']})", "200,000",
                     f"{r['lookup_listed_us']} µs (10,000 domains: {r['lookup_10k_us']} µs)",
                     "", "", "", ""])
    return rows


def render(rows: list[list[str]], *, markdown: bool) -> str:
    from bench.lists.run import render as render_rows

    return render_rows(rows, markdown=markdown)


def main(argv: list[str]) -> int:
    args = _parse(argv)
    wanted = [x.strip() for x in args.lists.split(",") if x.strip()]
    if unknown := set(wanted) - set(REAL_LISTS):
        print(f"unknown lists {sorted(unknown)}; choose from {list(REAL_LISTS)}",
              file=sys.stderr)
        return 2
    specs = {lid: REAL_LISTS[lid] for lid in wanted}
    if missing := [str(p) for p in specs.values() if not p.is_file()]:
        print(f"Listat reale mungojnë / the real lists are missing: {missing} (Debian: "
              "apt-get install webext-ublock-origin-chromium)", file=sys.stderr)
        return 2
    sets: list[SetResult] = []
    print(f"{len(specs)} lists together, {args.repeat} compile(s)", flush=True)
    sets.append(measure("together", specs, args.repeat, args.lookups))
    if not args.quick and len(specs) > 1:
        for lid, path in specs.items():
            sets.append(measure(lid, {lid: path}, args.repeat, args.lookups))
    synthetic = None
    if args.synthetic:
        from bench.dns import lists

        data = lists.build(args.workdir.resolve(), args.synthetic, 1, 1000, 200_000)
        synthetic = measure(f"synthetic {args.synthetic:,} domains",
                            {"synthetic": data.domains}, args.repeat, args.lookups, "domains")
    if any(s.reason for s in sets):
        for s in sets:
            if s.reason:
                print(f"{s.name}: {s.reason}", file=sys.stderr)
        return 1
    tables = [("Taken and skipped per list", lists_table(sets[0])),
              ("Compile (each in a fresh process)", compile_table(sets, synthetic)),
              ("Lookup cost, in-process (best of 3 passes)", lookup_table(sets, synthetic))]
    cmd = shlex.join(["python", "-m", "bench", "lists", *argv])
    print()
    for title, rows in tables:
        print(f"{title}\n{render(rows, markdown=False)}\n")
    print(f"command: {cmd}\nlists: " + "; ".join(f"{k} {v}" for k, v in specs.items()))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        body = "\n\n".join(f"{title}\n\n{render(rows, markdown=True)}" for title, rows in tables)
        args.out.write_text(f"Real filter lists, {date.today().isoformat()}\n\n{body}\n\n"
                            f"- Command: `{cmd}`\n")
        print(f"wrote {args.out}")
    return 0
