"""Tests for reporting.report_json: the document validates against report.schema.json (with
`jsonschema` when installed, else a small checker for the keywords the schema uses) and its
content hash covers everything but itself."""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from report_db import TIRANE, sample

from filterd.config import School
from reporting import report_json
from reporting.report_data import collect


def check(value: Any, schema: dict[str, Any], root: dict[str, Any], where: str = "$") -> None:
    """A small JSON Schema checker: $ref, const, enum, type, pattern, minimum, maximum,
    oneOf, required, properties, additionalProperties, items, maxItems."""
    if "$ref" in schema:
        schema = root["$defs"][schema["$ref"].rsplit("/", 1)[1]]
    if "oneOf" in schema:
        ok = 0
        for option in schema["oneOf"]:
            try:
                check(value, option, root, where)
                ok += 1
            except AssertionError:
                pass
        assert ok == 1, where
    assert "const" not in schema or value == schema["const"], where
    assert "enum" not in schema or value in schema["enum"], where
    types = schema.get("type")
    kinds: dict[str, type | tuple[type, ...]] = {
        "object": dict, "array": list, "string": str, "boolean": bool, "null": type(None),
        "integer": int, "number": (int, float)}
    if types:
        names = [types] if isinstance(types, str) else types
        assert any(isinstance(value, kinds[t]) and not (t in ("integer", "number") and
                   isinstance(value, bool)) for t in names), f"{where}: {value!r} not {types}"
    if isinstance(value, str) and "pattern" in schema:
        assert re.search(schema["pattern"], value), f"{where}: {value!r}"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        assert value >= schema.get("minimum", value) and value <= schema.get("maximum", value)
    if isinstance(value, dict):
        assert set(schema.get("required", ())) <= set(value), where
        props = schema.get("properties", {})
        if schema.get("additionalProperties") is False:
            assert set(value) <= set(props), f"{where}: {set(value) - set(props)}"
        for key, sub in props.items():
            if key in value:
                check(value[key], sub, root, f"{where}.{key}")
    if isinstance(value, list):
        assert len(value) <= schema.get("maxItems", len(value)), where
        for i, item in enumerate(value):
            check(item, schema.get("items", {}), root, f"{where}[{i}]")


def validate(document: dict[str, Any]) -> None:
    schema = report_json.json_schema(document["schema"])
    try:
        import jsonschema  # type: ignore[import-untyped]
    except ImportError:
        check(document, schema, schema)
    else:
        jsonschema.validate(document, schema)


@pytest.mark.parametrize("period", ["2026-10", "2026"])
def test_document_validates_and_hash_verifies(tmp_path: Path, period: str) -> None:
    data = collect(sample(tmp_path / "i.sqlite"), period, School("Shkolla", "K1"), "", "", "",
                   datetime(2026, 11, 2, tzinfo=TIRANE))
    raw = report_json.render(data)
    document = report_json.verify(raw)
    validate(document)
    assert document["schema"] == "roja.report/2"
    assert document["report"]["header"]["generated_at"] == "02.11.2026 00:00"
    assert document["report"]["header"]["qark"] == "—"
    tampered = json.loads(raw)
    tampered["report"]["blocked"]["total"] += 1
    with pytest.raises(ValueError, match="content_sha256"):
        report_json.verify(json.dumps(tampered).encode())
    with pytest.raises(AssertionError):
        check({**document, "extra": 1}, report_json.json_schema(), report_json.json_schema())


V1 = Path(__file__).parent / "inbox" / "data" / "report-v1.json"


def test_previous_version_still_verifies_against_its_own_schema() -> None:
    """A report written by Roja before roja.report/2 (a file kept from that release)."""
    document = report_json.verify(V1.read_bytes())
    assert document["schema"] == "roja.report/1" and "generated_at" not in document["report"][
        "header"]
    validate(document)
    with pytest.raises(AssertionError):  # it is not a valid version 2 document
        check(document, report_json.json_schema(), report_json.json_schema())
    assert report_json.json_schema()["properties"]["schema"] == {"const": "roja.report/2"}


def test_unknown_versions_are_refused() -> None:
    raw = V1.read_bytes().replace(b'"roja.report/1"', b'"roja.report/3"')
    with pytest.raises(ValueError, match=r"roja\.report/1, roja\.report/2"):
        report_json.verify(raw)
    with pytest.raises(KeyError):
        report_json.json_schema("roja.report/3")
