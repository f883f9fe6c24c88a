"""The JSON form of a report: versioned (`roja.report/1`), canonical, with a content hash.

    {"schema": "roja.report/1", "content_sha256": "<hex>", "report": {...ReportData...}}

`content_sha256` is the SHA-256 of the canonical JSON (UTF-8, keys sorted, no whitespace,
non-ASCII kept) of the document without the `content_sha256` field. The education-office inbox
recomputes it with `content_hash()` and checks the document against `report.schema.json` (next
to this module); delivery uses (school, period, hash) as its idempotency key.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from reporting.report_data import ReportData

SCHEMA_ID = "roja.report/1"
SCHEMA_PATH = Path(__file__).with_name("report.schema.json")


def canonical(value: Any) -> bytes:
    """Canonical JSON bytes: sorted keys, no insignificant whitespace, UTF-8."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


def content_hash(document: dict[str, Any]) -> str:
    """The hex SHA-256 over the canonical document without its `content_sha256` field."""
    content = {k: v for k, v in document.items() if k != "content_sha256"}
    return hashlib.sha256(canonical(content)).hexdigest()


def to_document(data: ReportData) -> dict[str, Any]:
    """The report as a JSON document, hash included."""
    document: dict[str, Any] = {"schema": SCHEMA_ID, "report": data.to_dict()}
    document["content_sha256"] = content_hash(document)
    return document


def render(data: ReportData) -> bytes:
    """The file's bytes: the document indented for people, keys sorted, newline at the end.
    (Indentation does not change the hash, which is over the canonical form.)"""
    text = json.dumps(to_document(data), sort_keys=True, indent=2, ensure_ascii=False)
    return (text + "\n").encode("utf-8")


def verify(raw: bytes) -> dict[str, Any]:
    """Parse a report file and check its schema id and hash; raises ValueError if wrong."""
    document = json.loads(raw)
    if not isinstance(document, dict) or document.get("schema") != SCHEMA_ID:
        raise ValueError(f"not a {SCHEMA_ID} document")
    if document.get("content_sha256") != content_hash(document):
        raise ValueError("content_sha256 does not match the content")
    return document


def json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) the inbox validates uploads against."""
    schema: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return schema
