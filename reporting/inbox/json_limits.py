"""Reading JSON that strangers send, within limits: a size and a nesting depth.

    document = loads(raw)     # JsonLimitError (a ValueError) when too big or too deep

Python's parser turns a few hundred kilobytes of `[[[[...` into a RecursionError, which the
server would answer with 500; here it is a `JsonLimitError` with a message in Albanian and
English, which the upload answers with 400. A report is a few kilobytes and at most six levels
deep, so `MAX_BYTES` (2 MiB) and `MAX_DEPTH` (32) leave room for growth.
"""

from __future__ import annotations

import json
from typing import Any

MAX_BYTES = 2 << 20
MAX_DEPTH = 32


class JsonLimitError(ValueError):
    """JSON over a limit: the message is Albanian, then English."""


def depth(value: Any) -> int:
    """How deeply lists and objects nest in `value` (a scalar: 0), without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, dict):
            node = node.values()
        elif not isinstance(node, list):
            continue
        deepest = max(deepest, level)
        if level <= MAX_DEPTH:
            stack.extend((child, level + 1) for child in node
                         if isinstance(child, dict | list))
    return deepest


def loads(raw: bytes, max_bytes: int = MAX_BYTES, max_depth: int = MAX_DEPTH) -> Any:
    """The parsed document; JsonLimitError when over a limit, ValueError when not JSON."""
    if len(raw) > max_bytes:
        raise JsonLimitError(f"JSON-i është më i madh se {max_bytes / (1 << 20):g} MB / the "
                             f"JSON is too large (over {max_bytes / (1 << 20):g} MB)")
    too_deep = JsonLimitError(f"JSON-i është i futur shumë thellë (më shumë se {max_depth} "
                              f"nivele) / the JSON is nested too deeply (over {max_depth} "
                              f"levels)")
    try:
        document = json.loads(raw.decode("utf-8-sig"))
    except RecursionError:
        raise too_deep from None
    if depth(document) > max_depth:
        raise too_deep
    return document
