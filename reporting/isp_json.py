"""The JSON form of the Code of Conduct annual report: versioned (`roja.isp-report/1`,
`isp_report.schema.json`), canonical and hashed exactly as the school report
(`reporting.report_json.canonical` / `content_hash`):

    {"schema": "roja.isp-report/1", "content_sha256": "<hex>", "report": {...IspReport...}}
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from reporting.isp_data import IspReport
from reporting.report_json import content_hash

SCHEMA_ID = "roja.isp-report/1"
SCHEMA_PATH = Path(__file__).parent / "isp_report.schema.json"


def to_document(r: IspReport) -> dict[str, Any]:
    """The report as a JSON document, hash included."""
    document: dict[str, Any] = {"schema": SCHEMA_ID, "report": r.to_dict()}
    document["content_sha256"] = content_hash(document)
    return document


def render(r: IspReport) -> bytes:
    """The file's bytes: indented, keys sorted, newline at the end (the hash is over the
    canonical form)."""
    text = json.dumps(to_document(r), sort_keys=True, indent=2, ensure_ascii=False)
    return (text + "\n").encode("utf-8")


def json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of `roja.isp-report/1`."""
    schema: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return schema
