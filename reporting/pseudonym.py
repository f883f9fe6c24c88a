"""Pseudonymous client identifiers: a keyed HMAC of the client address (decision 6).

Every installation has its own 32-byte key in `<state_dir>/pseudonym.key`, created at first
start (mode 0600) and kept afterwards, so the same pupil's device gets the same pseudonym in
every incident of that school, while a pseudonym from one school cannot be compared with another
school's or reversed by hashing all private addresses. The raw address is never written to disk:
only `pseudonym(key, client)` is.

Example:

    key = load_or_create_key(Path("/var/lib/roja"))
    pseudonym(key, "10.0.0.17")   # -> '3f9c0a...' (16 hex characters)
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import hmac
import ipaddress
import os
import secrets
from pathlib import Path

KEY_FILENAME = "pseudonym.key"
KEY_BYTES = 32
PSEUDONYM_CHARS = 16


class PseudonymKeyError(Exception):
    """The key file exists but cannot be used (wrong size, unreadable)."""


def load_or_create_key(state_dir: Path) -> bytes:
    """Return the installation's key, creating `state_dir/pseudonym.key` if it is missing.

    Creation is atomic and safe when several processes start at once: the key is written to a
    private temporary file and linked into place only if no key exists yet; a process that
    loses the race reads the winner's key.
    """
    path = state_dir / KEY_FILENAME
    key = _read_key(path)
    if key is not None:
        return key
    state_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(KEY_BYTES)
    tmp = state_dir / f".{KEY_FILENAME}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
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
