"""The explicit proxy with real clients: URL decisions, the tunnel, DoH, bad input."""

from __future__ import annotations

from pathlib import Path

from proxy_kit import curl, rig


async def test_plain_http_listed_path_blocked_other_paths_pass(tmp_path: Path) -> None:
    async with rig(tmp_path) as r:
        ok = await curl("-x", r.proxy_url, r.url("listed.roja-proxy.test", "/tjeter"))
        assert ok.status == 200, ok
        assert "origin: /tjeter" in ok.body
        blocked = await curl("-x", r.proxy_url,
                             r.url("listed.roja-proxy.test", "/shembull/faqe?x=1"))
        assert blocked.status == 403, blocked
        assert "Kjo faqe u bllokua" in blocked.body
        assert "Pornografi" in blocked.body
