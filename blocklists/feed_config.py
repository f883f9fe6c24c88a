"""The `[feed]` part of roja.toml: where the signed hotline feed comes from and how often.

```
[feed]
url = "https://feed.example.al/roja/"   # empty or absent: no feed
public_key = "/etc/roja/hotline.pub"     # the hotline's pinned Ed25519 public key
feed_id = "isigurt-al"
interval = 3600        # seconds between syncs (a random jitter of up to `jitter` is added)
jitter = 300
max_age_days = 14      # refuse a feed created longer ago than this (a frozen publisher)
stale_hours = 48       # warn and raise `roja_list_stale` when the active list is older
```
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from configkit import Section


@dataclass(frozen=True)
class FeedSettings:
    url: str = ""
    public_key: Path = Path("/etc/roja/hotline.pub")
    feed_id: str = "isigurt-al"
    interval: int = 3600
    jitter: int = 300
    max_age_days: int = 14
    stale_hours: int = 48

    @property
    def enabled(self) -> bool:
        return bool(self.url)


def parse(s: Section, base_dir: Path) -> FeedSettings:
    url = s.str("url", "")
    if url and not url.startswith(("https://", "http://")):
        raise s.error("url", "must start with https:// (or http:// on a trusted network)")
    key = Path(s.str("public_key", "/etc/roja/hotline.pub"))
    settings = FeedSettings(
        url=url,
        public_key=key if key.is_absolute() else base_dir / key,
        feed_id=s.str("feed_id", "isigurt-al"),
        interval=s.int("interval", 3600, min=60),
        jitter=s.int("jitter", 300, min=0),
        max_age_days=s.int("max_age_days", 14, min=1),
        stale_hours=s.int("stale_hours", 48, min=1),
    )
    s.done()
    return settings
