"""A small JSON Schema (draft 2020-12) checker for the keywords report.schema.json uses.

    problem = first_problem(document, report_json.json_schema())   # None when valid
    # "report.header.period: '2026-13' does not match ^[0-9]{4}(-(0[1-9]|1[0-2]))?$"

Supported: type, const, enum, pattern, minimum, maximum, maxItems, items, properties, required,
additionalProperties (false), oneOf and local `$ref` (`#/$defs/...`). An unknown keyword in the
schema raises ValueError, so a schema change cannot silently weaken the inbox's checks.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

_KNOWN = {"$schema", "$id", "$defs", "title", "description", "type", "const", "enum", "pattern",
          "minimum", "maximum", "maxItems", "items", "properties", "required",
          "additionalProperties", "oneOf", "$ref"}


@cache
def _regex(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _is_type(value: Any, name: str) -> bool:
    if name == "object":
        return isinstance(value, dict)
    if name == "array":
        return isinstance(value, list)
    if name == "string":
        return isinstance(value, str)
    if name == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if name == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if name == "boolean":
        return isinstance(value, bool)
    if name == "null":
        return value is None
    raise ValueError(f"unknown JSON Schema type {name!r}")


def _where(path: str) -> str:
    return path or "(dokumenti / document)"


def first_problem(value: Any, schema: dict[str, Any], root: dict[str, Any] | None = None,
                  path: str = "") -> str | None:
    """The first way `value` breaks `schema` ('path: why'), or None when it conforms."""
    root = schema if root is None else root
    unknown = set(schema) - _KNOWN
    if unknown:
        raise ValueError(f"schema keyword(s) not supported: {sorted(unknown)}")
    if "$ref" in schema:
        ref = str(schema["$ref"])
        if not ref.startswith("#/$defs/"):
            raise ValueError(f"only local $defs references are supported, not {ref!r}")
        return first_problem(value, root["$defs"][ref.removeprefix("#/$defs/")], root, path)
    if "oneOf" in schema:
        matches = [s for s in schema["oneOf"] if first_problem(value, s, root, path) is None]
        if len(matches) != 1:
            return f"{_where(path)}: {value!r:.60} does not match exactly one allowed form"
    if "type" in schema:
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(_is_type(value, t) for t in types):
            return f"{_where(path)}: must be {' or '.join(types)}, not {type(value).__name__}"
    if "const" in schema and value != schema["const"]:
        return f"{_where(path)}: must be {schema['const']!r}"
    if "enum" in schema and value not in schema["enum"]:
        return f"{_where(path)}: {value!r:.60} is not one of {schema['enum']}"
    if isinstance(value, str) and "pattern" in schema and not _regex(
            schema["pattern"]).search(value):
        return f"{_where(path)}: {value!r:.60} does not match {schema['pattern']}"
    if _is_type(value, "number"):
        if "minimum" in schema and value < schema["minimum"]:
            return f"{_where(path)}: must be at least {schema['minimum']}"
        if "maximum" in schema and value > schema["maximum"]:
            return f"{_where(path)}: must be at most {schema['maximum']}"
    if isinstance(value, list):
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            return f"{_where(path)}: at most {schema['maxItems']} items"
        if "items" in schema:
            for i, item in enumerate(value):
                if (problem := first_problem(item, schema["items"], root,
                                             f"{path}[{i}]")) is not None:
                    return problem
    if isinstance(value, dict):
        return _object_problem(value, schema, root, path)
    return None


def _object_problem(value: dict[str, Any], schema: dict[str, Any], root: dict[str, Any],
                    path: str) -> str | None:
    properties: dict[str, Any] = schema.get("properties", {})
    for name in schema.get("required", []):
        if name not in value:
            return f"{_where(path)}: required field {name!r} is missing"
    if schema.get("additionalProperties") is False:
        extra = sorted(set(value) - set(properties))
        if extra:
            return f"{_where(path)}: unexpected field {extra[0]!r}"
    for name, sub in properties.items():
        if name in value:
            child = f"{path}.{name}" if path else name
            if (problem := first_problem(value[name], sub, root, child)) is not None:
                return problem
    return None
