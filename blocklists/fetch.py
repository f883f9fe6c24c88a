"""Downloads for the feed sync: limited in size (a limit per file) and time (`timeout` per read,
DEADLINE per file), http(s) only, with If-None-Match; every failure is a `FetchError`
(Albanian, then English). `progress(done, total)` is called as the bytes arrive."""

from __future__ import annotations

import http.client
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from urllib.parse import urlsplit

from blocklists.feed import FetchError

Progress = Callable[[int, int | None], None]
DEADLINE = 600.0


class Fetcher:
    def __init__(self, progress: Progress | None, timeout: float) -> None:
        self.progress, self.timeout, self.downloaded = progress, timeout, 0

    def get(self, url: str, limit: int, etag: str | None = None) -> tuple[int, bytes, str | None]:
        """(status, body, ETag); 304 gives an empty body. Network trouble is a FetchError."""
        if urlsplit(url).scheme not in ("http", "https"):
            raise FetchError(f"Vetëm http(s) / only http(s) URLs are allowed: {url}")
        headers = {"User-Agent": "roja-sync/1", "Accept-Encoding": "identity"}
        if etag:
            headers["If-None-Match"] = etag
        request = urllib.request.Request(url, headers=headers)
        deadline = time.monotonic() + DEADLINE
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                length = response.headers.get("Content-Length", "")
                total = int(length) if length.isdigit() else None
                if total is not None and total > limit:
                    raise _too_big(url, limit)
                body = bytearray()
                while chunk := response.read(64 * 1024):
                    body += chunk
                    self.downloaded += len(chunk)
                    if len(body) > limit:
                        raise _too_big(url, limit)
                    if time.monotonic() > deadline:
                        raise FetchError(f"Shkarkimi zgjati shumë / download too slow: {url}")
                    if self.progress:
                        self.progress(len(body), total)
                if total is not None and len(body) != total:
                    raise _truncated(url)
                return response.status, bytes(body), response.headers.get("ETag")
        except urllib.error.HTTPError as exc:
            if exc.code == 304:
                return 304, b"", etag
            raise FetchError(f"Serveri u përgjigj HTTP {exc.code} / the server answered "
                             f"HTTP {exc.code}: {url}") from None
        except http.client.IncompleteRead:
            raise _truncated(url) from None
        except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
            reason = getattr(exc, "reason", exc)
            raise FetchError(f"Lista nuk u shkarkua / could not download {url}: {reason}"
                             ) from None


def _too_big(url: str, limit: int) -> FetchError:
    return FetchError(f"Skedari është më i madh se {limit // 2**20} MiB / the file is larger "
                      f"than {limit // 2**20} MiB: {url}")


def _truncated(url: str) -> FetchError:
    return FetchError(f"Skedari erdhi i cunguar / the file arrived truncated: {url}")
