"""Test kit for the audit log: a consistent rewrite, as someone with write access to the state
directory could make it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from filterd import audit


def rewrite(state: Path, seq: int, who: str) -> None:
    """Change entry `seq` and re-chain everything after it, head included: a consistent
    rewrite that the hash chain alone cannot see."""
    lines = (state / audit.LOG_NAME).read_text(encoding="utf-8").splitlines()
    entries: list[dict[str, Any]] = [json.loads(line) for line in lines]
    entries[seq - 1]["who"] = who
    prev = entries[seq - 2]["hash"] if seq > 1 else audit.GENESIS
    for e in entries[seq - 1:]:
        e["prev"] = prev
        e["hash"] = prev = audit.entry_hash(e)
    (state / audit.LOG_NAME).write_text(
        "".join(json.dumps(e, ensure_ascii=False, sort_keys=True) + "\n" for e in entries),
        encoding="utf-8")
    (state / audit.HEAD_NAME).write_text(f"{entries[-1]['seq']} {prev}\n", encoding="ascii")
