"""The JSON form of a report: versioned (`roja.report/2`), canonical, with a content hash.

    {"schema": "roja.report/2", "content_sha256": "<hex>", "report": {...ReportData...}}

`content_sha256` is the SHA-256 of the canonical JSON (UTF-8, keys sorted, no whitespace,
non-ASCII kept) of the document without the `content_sha256` field. The education-office inbox
recomputes it with `content_hash()` and checks the document against the JSON Schema of its
version (`json_schema(document["schema"])`); delivery uses (school, period, hash) as its
idempotency key.

Versions: `roja.report/2` (`report.schema.json`) added `header.generated_at`, the build time to
the minute, which the PDF also carries as its creation date, and the manual-incident category
`cyberbullying`. `roja.report/1` (`report.schema.v1.json`) is what earlier releases send; the
inbox still accepts it. Both are hashed the same way.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from reporting.report_data import ReportData

SCHEMA_ID = "roja.report/2"
_HERE = Path(__file__).parent
SCHEMA_PATH = _HERE / "report.schema.json"
# Every version the inbox accepts, oldest first, with its schema file.
SCHEMAS = {"roja.report/1": _HERE / "report.schema.v1.json", SCHEMA_ID: SCHEMA_PATH}
ACCEPTED = ", ".join(SCHEMAS)


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
    """Parse a report file (any accepted version) and check its schema id and hash; raises
    ValueError if wrong."""
    document = json.loads(raw)
    if not isinstance(document, dict) or document.get("schema") not in SCHEMAS:
        raise ValueError(f"not a report document ({ACCEPTED})")
    if document.get("content_sha256") != content_hash(document):
        raise ValueError("content_sha256 does not match the content")
    return document


def json_schema(schema_id: str = SCHEMA_ID) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a version; KeyError for a version not accepted."""
    schema: dict[str, Any] = json.loads(SCHEMAS[schema_id].read_text(encoding="utf-8"))
    return schema
