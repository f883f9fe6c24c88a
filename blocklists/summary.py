"""What each list gave at the last compile, for `roja lists status`: one line per list.

The compile stores per list (`CompiledList.meta["summary"]`, see `blocklists.store`): domains
(DNS entries), URL entries (for the proxy), addresses (IPs and networks, kept apart), bad lines,
and rules skipped by kind (`cosmetic`, `third-party`, `script`...).
"""

from __future__ import annotations

from pathlib import Path

from blocklists.compiled import CompiledList

TOP_SKIPPED = 6  # kinds named on a line; the rest are summed as "other"


def read_summaries(compiled_path: Path) -> dict[str, dict[str, object]]:
    """The per-list summary of the compiled file (empty when there is none or it has none)."""
    try:
        compiled = CompiledList(compiled_path)
    except (OSError, ValueError):
        return {}
    try:
        found = compiled.meta.get("summary")
        return {str(k): v for k, v in found.items() if isinstance(v, dict)} \
            if isinstance(found, dict) else {}
    finally:
        compiled.close()


def summary_line(list_id: str, item: dict[str, object]) -> str:
    """`Lista / list urlhaus: 602 domene / domains, 3345 URL, 2307 adresa / addresses, ...`"""
    def num(key: str) -> int:
        value = item.get(key, 0)
        return value if isinstance(value, int) else 0

    line = (f"Lista / list {list_id}: {num('domains')} domene / domains, {num('urls')} URL, "
            f"{num('addresses')} adresa / addresses")
    if num("bad"):
        line += f", {num('bad')} rreshta të gabuar / bad lines"
    skipped = item.get("skipped")
    if isinstance(skipped, dict) and skipped:
        counts = sorted(((str(k), v) for k, v in skipped.items() if isinstance(v, int)),
                        key=lambda kv: (-kv[1], kv[0]))
        shown = [f"{k} {n}" for k, n in counts[:TOP_SKIPPED]]
        other = sum(n for _, n in counts[TOP_SKIPPED:])
        if other:
            shown.append(f"tjera / other {other}")
        line += f"; anashkaluar / skipped: {sum(n for _, n in counts)} (" + ", ".join(shown) + ")"
    kinds = item.get("kinds")
    kinds = kinds if isinstance(kinds, dict) else {}
    for kind, text in (
            ("allow address", "adresa të përjashtuara / address exceptions"),
            ("url over steering cap", "URL mbi kufirin e drejtimit / URL entries over the "
                                      "steering cap"),
            ("url on never-steer host", "URL në emra që nuk drejtohen / URL entries on "
                                        "never-steer hosts"),
            ("url on public suffix", "URL në prapashtesa publike / URL entries on public "
                                     "suffixes")):
        n = kinds.get(kind)
        if isinstance(n, int) and n:
            line += f"; {n} {text}"
    return line
