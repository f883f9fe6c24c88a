"""The inbox keeps the audit anchors the reports carry and gives each school its own; `roja
audit verify --against-inbox` catches a consistent rewrite of the school's log with them."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from audit_kit import rewrite
from click.testing import CliRunner
from inbox_kit import report_doc, running_inbox, upload

from filterd import audit
from filterd.cli import main
from reporting import report_json
from reporting.delivery import audit_head


def anchored_report(state: Path, code: str, period: str = "2026-10") -> bytes:
    doc = report_doc(code, period)
    head = audit_head(state)
    assert head is not None
    doc["report"]["audit"] = {"length": head.length, "head": head.head}
    doc["content_sha256"] = report_json.content_hash(doc)
    return json.dumps(doc).encode()


async def test_anchors_are_kept_and_given_only_to_their_school(tmp_path: Path) -> None:
    state = tmp_path / "state"
    for i in range(3):
        audit.append(state, who="mësues", what=f"unblock add #{i}")
    async with running_inbox(tmp_path) as inbox, inbox.client() as c:
        r = await upload(c, inbox.tokens["BR-001"], anchored_report(state, "BR-001"))
        assert r.status_code == 201, r.text  # the schema accepts the new field
        r = await upload(c, inbox.tokens["BR-002"], json.dumps(report_doc("BR-002")).encode())
        assert r.status_code == 201, r.text  # and reports without it, as before
        got = (await c.get("/api/v1/anchors", headers={
            "Authorization": f"Bearer {inbox.tokens['BR-001']}"})).json()
        assert got["school"] == "BR-001"
        assert [(a["period"], a["revision"], a["length"]) for a in got["anchors"]] == [
            ("2026-10", 1, 3)]
        assert got["anchors"][0]["head"] == audit.read(state)[-1].hash
        other = (await c.get("/api/v1/anchors", headers={
            "Authorization": f"Bearer {inbox.tokens['BR-002']}"})).json()
        assert other == {"school": "BR-002", "anchors": []}
        r = await c.get("/api/v1/anchors", headers={"Authorization": "Bearer guess"})
        assert r.status_code == 401


async def test_verify_against_the_inbox_catches_a_consistent_rewrite(tmp_path: Path) -> None:
    state = tmp_path / "state"
    cfg = tmp_path / "roja.toml"
    cfg.write_text(f'[state]\ndir = "{state}"\n', encoding="utf-8")
    for i in range(4):
        audit.append(state, who="mësues", what=f"unblock add #{i}")
    async with running_inbox(tmp_path) as inbox, inbox.client() as c:
        token = inbox.tokens["BR-001"]
        assert (await upload(c, token, anchored_report(state, "BR-001"))).status_code == 201

        def verify() -> tuple[int, str]:
            r = CliRunner().invoke(main, ["--config", str(cfg), "audit", "verify",
                                          "--against-inbox", inbox.url, "--token", token])
            return r.exit_code, r.output

        code, out = await asyncio.to_thread(verify)
        assert code == 0 and "1 anchors" in out, out
        rewrite(state, 2, "dikush tjetër")
        code, out = await asyncio.to_thread(verify)
        assert code == 1, out
        assert "hyrja 4" in out and "entry 4" in out and "2026-10 r1" in out
