"""Pseudonymous client identifiers: a keyed HMAC of the client address (decision 6).

Every installation has its own 32-byte key in `<state_dir>/pseudonym.key`, created at first
start (mode 0600) and kept afterwards, so the same pupil's device gets the same pseudonym in
every incident of that school, while a pseudonym from one school cannot be compared with another
school's or reversed by hashing all private addresses. The raw address is never written to disk:
only `pseudonym(key, client)` is.

Yearly rotation (issue 7): `load_or_create_key(state_dir, 2026)` keeps one key per calendar year
in `<state_dir>/pseudonym-2026.key` (same creation scheme), so the pseudonyms of one year cannot
be linked with another year's. `yearly_keys(state_dir)` gives the writer's `key_for_year`, and
`TiraneYear` says which year (Europe/Tirane) a unix time falls in.

Example:

    key = load_or_create_key(Path("/var/lib/roja"))
    pseudonym(key, "10.0.0.17")   # -> '3f9c0a...' (16 hex characters)
    key_for_year = yearly_keys(Path("/var/lib/roja"))
    pseudonym(key_for_year(TiraneYear()(time.time())), "10.0.0.17")
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import hmac
import ipaddress
import os
import secrets
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

KEY_FILENAME = "pseudonym.key"
KEY_BYTES = 32
PSEUDONYM_CHARS = 16
TIRANE = ZoneInfo("Europe/Tirane")


class PseudonymKeyError(Exception):
    """The key file exists but cannot be used (wrong size, unreadable)."""


def key_filename(year: int | None = None) -> str:
    """`pseudonym.key`, or `pseudonym-<year>.key` for one year's key."""
    if year is None:
        return KEY_FILENAME
    if not 1970 <= year <= 9999:
        raise ValueError(f"year {year} is out of range (1970..9999)")
    return f"pseudonym-{year}.key"


def load_or_create_key(state_dir: Path, year: int | None = None) -> bytes:
    """Return the installation's key, creating `state_dir/pseudonym.key` if it is missing;
    with `year`, that year's own key in `state_dir/pseudonym-<year>.key`.

    Creation is atomic and safe when several processes start at once: the key is written to a
    private temporary file and linked into place only if no key exists yet; a process that
    loses the race reads the winner's key.
    """
    name = key_filename(year)
    path = state_dir / name
    key = _read_key(path)
    if key is not None:
        return key
    state_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(KEY_BYTES)
    tmp = state_dir / f".{name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as f:
            os.fchmod(f.fileno(), 0o600)
            f.write(key)
            f.flush()
            os.fsync(f.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass  # another process created it first; use theirs
        except OSError as exc:
            if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV):
                raise
            if not path.exists():  # a filesystem without hard links
                os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    _fsync_dir(state_dir)
    stored = _read_key(path)
    if stored is None:  # pragma: no cover - only if someone deletes it right now
        raise PseudonymKeyError(f"{path}: the key file disappeared while it was created")
    return stored


def yearly_keys(state_dir: Path) -> Callable[[int], bytes]:
    """A `key_for_year` for `IncidentWriter`: each year's key, loaded (or created) once."""
    cache: dict[int, bytes] = {}

    def key_for_year(year: int) -> bytes:
        key = cache.get(year)
        if key is None:
            key = cache[year] = load_or_create_key(state_dir, year)
        return key

    return key_for_year


class TiraneYear:
    """The Europe/Tirane calendar year of a unix time. The last year's bounds are kept, so the
    common call is two comparisons (the writer asks once per incident)."""

    def __init__(self) -> None:
        self._start = float("inf")
        self._end = float("-inf")
        self._year = 0

    def __call__(self, at: float) -> int:
        if self._start <= at < self._end:
            return self._year
        year = datetime.fromtimestamp(at, TIRANE).year
        self._start = datetime(year, 1, 1, tzinfo=TIRANE).timestamp()
        self._end = datetime(year + 1, 1, 1, tzinfo=TIRANE).timestamp()
        self._year = year
        return year


class TiraneMonth:
    """The Europe/Tirane calendar month of a unix time, as `year * 12 + month - 1`; like
    `TiraneYear`, the last month's bounds are kept."""

    def __init__(self) -> None:
        self._start = float("inf")
        self._end = float("-inf")
        self._month = 0

    def __call__(self, at: float) -> int:
        if self._start <= at < self._end:
            return self._month
        local = datetime.fromtimestamp(at, TIRANE)
        self._start = datetime(local.year, local.month, 1, tzinfo=TIRANE).timestamp()
        after = (local.year + 1, 1) if local.month == 12 else (local.year, local.month + 1)
        self._end = datetime(*after, 1, tzinfo=TIRANE).timestamp()
        self._month = local.year * 12 + local.month - 1
        return self._month

    def end_of(self, at: float) -> float:
        """The end (unix time) of the month of `at`."""
        self(at)
        return self._end


def pseudonym(key: bytes, client: str) -> str:
    """First 16 hex characters of HMAC-SHA256(key, client address text).

    The address is put in one canonical text form first (`::ffff:10.0.0.1` and `10.0.0.1` are
    the same client, and so are differently written forms of one IPv6 address); text that is
    not an address is used as it is.
    """
    return hmac.new(key, _canonical(client).encode(), hashlib.sha256).hexdigest()[
        :PSEUDONYM_CHARS]


def _canonical(client: str) -> str:
    try:
        address = ipaddress.ip_address(client.strip())
    except ValueError:
        return client
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return str(address)


def _read_key(path: Path) -> bytes | None:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise PseudonymKeyError(f"{path}: cannot read the pseudonym key ({exc.strerror})") from exc
    if len(data) != KEY_BYTES:
        raise PseudonymKeyError(
            f"{path}: the pseudonym key must be {KEY_BYTES} bytes, found {len(data)}; "
            "restore it from a backup, or delete it to start new pseudonyms")
    return data


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # pragma: no cover - e.g. platforms without directory fds
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)
