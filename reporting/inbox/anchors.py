"""The audit anchors a school's reports carried, back to that school (`roja audit verify
--against-inbox`).

    GET /api/v1/anchors   Authorization: Bearer <the school's upload token>
      200 {"school": "BR-001", "anchors": [{"period": "2026-10", "revision": 1,
           "receipt": "RJ-…", "length": 17, "head": "<sha256>"}, ...]}   oldest first
      401 {"error": "..."}

Each report's JSON carries `report.audit` (the school's audit log length and head hash when it
was built, reporting.report_data.AuditHead); the inbox keeps every revision's JSON as it
arrived, so the anchors are read from there, never from anything the school could change
later. A token answers only for its own school. Runs on the database threads.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from reporting.inbox.app import OFFLOAD, address, now
from reporting.inbox.store import Store


def anchors(store: Store, code: str) -> list[dict[str, Any]]:
    """The anchors in the school's stored report files, oldest report first."""
    rows = store.db.execute(
        "SELECT s.period, s.revision, s.receipt, f.data FROM submissions s JOIN "
        "submission_files f ON f.submission_id = s.id AND f.kind = 'json' "
        "WHERE s.school_code = ? ORDER BY s.received_at, s.id", (code,))
    out: list[dict[str, Any]] = []
    for period, revision, receipt, data in rows:
        try:
            audit = json.loads(bytes(data).decode("utf-8-sig"))["report"].get("audit")
        except (ValueError, KeyError, TypeError, AttributeError):
            continue
        if isinstance(audit, dict):
            out.append({"period": str(period), "revision": int(revision),
                        "receipt": str(receipt), "length": int(audit["length"]),
                        "head": str(audit["head"])})
    return out


async def anchors_api(request: web.Request) -> web.StreamResponse:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    at, where = now(request), address(request)

    def run(store: Store) -> dict[str, Any] | None:
        school = store.school_for_token(token.strip()) if scheme.lower() == "bearer" else None
        if school is None:
            store.audit("?", "anchors_refused", "token", where, at)
            return None
        found = anchors(store, school.code)
        store.audit(f"shkolla:{school.code}", "anchors", f"{len(found)}", where, at)
        return {"school": school.code, "anchors": found}

    body = await request.app[OFFLOAD].db(run)
    if body is None:
        return web.json_response(
            {"error": "tokeni mungon ose nuk vlen / missing or invalid token"}, status=401,
            headers={"WWW-Authenticate": "Bearer"})
    return web.json_response(body)
