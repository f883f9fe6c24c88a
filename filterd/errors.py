"""How a `roja` command fails: Albanian first, then English, then the cause naming the thing.

    raise RojaError("Raporti nuk u dërgua", "the report was not sent",
                    "127.0.0.1:25: lidhja u refuzua / connection refused")

prints to stderr and exits 1:

    Gabim / Error: Raporti nuk u dërgua / the report was not sent
      127.0.0.1:25: lidhja u refuzua / connection refused

`filterd.cli.LazyGroup` passes whatever a command did not catch through `unexpected()`: an
OSError names its file (or the address a note on it names), a SQLite error the database a note
names (else the state directory), a store written by a newer Roja its file
(`reporting.sqlite_store.StoreTooNewError`), anything else its type; so commands catch only
what they can say more about. Code that opens a database or socket whose name the exception
would lose adds it as a PEP 678 note (`exc.add_note(str(path))`) before re-raising.
`usage_error()` gives click's usage errors (a bad option value, a missing option) an Albanian
headline; exit status 2.
`ROJA_TRACEBACK=1` lets an unexpected error through with its Python traceback, for a bug report.
"""

from __future__ import annotations

import errno
import sqlite3
from typing import IO, Any

import click

from reporting.sqlite_store import StoreTooNewError

# What the errors a teacher meets mean, in Albanian; the English is the system's own text.
ERRNO_SQ = {
    errno.ENOENT: "nuk ekziston",
    errno.EACCES: "nuk lejohet",
    errno.EPERM: "nuk lejohet",
    errno.ENOTDIR: "një pjesë e shtegut nuk është dosje",
    errno.EISDIR: "është dosje, jo skedar",
    errno.ENOSPC: "disku është plot",
    errno.EROFS: "disku lejon vetëm leximin",
    errno.EEXIST: "ekziston tashmë",
    errno.ECONNREFUSED: "lidhja u refuzua (askush nuk dëgjon)",
    errno.ECONNRESET: "lidhja u ndërpre",
    errno.ETIMEDOUT: "koha e pritjes mbaroi",
    errno.EADDRINUSE: "adresa është e zënë nga një program tjetër",
    errno.EADDRNOTAVAIL: "adresa nuk i përket kësaj makine",
    errno.EHOSTUNREACH: "hosti nuk arrihet",
    errno.ENETUNREACH: "rrjeti nuk arrihet",
    errno.ENODEV: "pajisja nuk ekziston",
}


class RojaError(click.ClickException):
    """The command did not do what was asked (exit status 1)."""

    def __init__(self, sq: str, en: str, cause: str = "") -> None:
        super().__init__(f"{sq} / {en}" + (f"\n  {cause}" if cause else ""))

    @classmethod
    def wrap(cls, exc: click.ClickException) -> RojaError:
        """A plain click.ClickException (its message already bilingual) in this form."""
        out = cls.__new__(cls)
        click.ClickException.__init__(out, exc.format_message())
        return out

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(f"Gabim / Error: {self.format_message()}", err=file is None, file=file)


class RojaUsageError(click.UsageError):
    """A click usage error shown Albanian first (the option's own message stays as it is)."""

    def show(self, file: IO[Any] | None = None) -> None:
        err = file is None
        click.echo(f"Gabim në përdorim / usage error: {self.format_message()}", err=err,
                   file=file)
        if self.ctx is not None:
            click.echo(f"Përdorimi / usage: {self.ctx.get_usage().removeprefix('Usage: ')}",
                       err=err, file=file)
            click.echo(f"Ndihmë / help: {self.ctx.command_path} --help", err=err, file=file)


def usage_error(exc: click.UsageError) -> RojaUsageError:
    return RojaUsageError(exc.format_message(), exc.ctx)


def hostport(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def describe(exc: BaseException) -> str:
    """The cause in one line: what it was about (file, address), Albanian, then English."""
    where = [str(exc.filename)] if isinstance(exc, OSError) and exc.filename is not None else []
    if isinstance(exc, OSError) and exc.filename2 is not None:
        where.append(str(exc.filename2))
    where += getattr(exc, "__notes__", [])
    if isinstance(exc, OSError) and exc.strerror:
        sq = ERRNO_SQ.get(exc.errno or 0)
        text = f"{sq} / {exc.strerror}" if sq else exc.strerror
    else:
        text = str(exc) or type(exc).__name__
        if isinstance(exc, sqlite3.Error):
            text = f"baza e të dhënave / database: {text}"
        elif not isinstance(exc, OSError):
            text = f"{type(exc).__name__}: {text}"
    return ": ".join([*where, text])


def unexpected(exc: Exception, command: str, state_dir: object = None) -> RojaError:
    """What a command did not catch, as a RojaError naming the file or address."""
    if isinstance(exc, StoreTooNewError):  # its message names the file, Albanian first
        return RojaError(f"`{command}` nuk u krye: {exc.sq}", f"did not complete: {exc.en}")
    cause = describe(exc)
    if isinstance(exc, sqlite3.Error) and not getattr(exc, "__notes__", None) and state_dir:
        cause += f" (dosja e gjendjes / state directory {state_dir})"
    if isinstance(exc, OSError | sqlite3.Error | UnicodeError):
        return RojaError(f"`{command}` nuk u krye", "did not complete", cause)
    return RojaError(f"Gabim i papritur në `{command}` (defekt në Roja)",
                     "unexpected error (a bug in Roja; ROJA_TRACEBACK=1 shows where)", cause)
