"""`roja lists keygen|publish|sync|status`: the signed hotline feed from both ends.

The hotline (ISIGURT.AL) makes a key once and publishes its confirmed cases; the directory it
writes is static files for any web server. A school gateway pins the public key and syncs:

    roja lists keygen --out /etc/roja-hotline
    roja lists publish --cases confirmed.csv --key /etc/roja-hotline/feed.key \\
        --out /srv/feed --feed-id isigurt-al
    roja lists sync --url https://feed.example.al/ --pubkey /etc/roja/hotline.pub \\
        --feed-id isigurt-al
    roja lists status

`sync` and `status` use the state directory from `ctx.obj["state_dir"]` (the main `roja`
group provides it). Exit status: 0 done, 1 refused or failed (the last good list stays active).
"""

from __future__ import annotations

import json
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, NoReturn

import click

from blocklists.feed import REASONLESS_LIMIT, FeedError, key_id
from blocklists.publish import MAX_REMOVALS, keygen, publish
from blocklists.summary import summary_line
from blocklists.sync import CURRENT_NAME, feed_dir
from filterd.errors import RojaError, describe
from filterd.list_apply import TIRANE
from filterd.list_state import lists_status, sync_now
from reporting.plural import ROW, count, form

ENTRY_EN = ("entry", "entries")

PROGRESS_MIN_BYTES = 1024 * 1024  # smaller downloads need no bar


class DownloadBar:
    """The `progress` callback of `sync`: one click progress bar per large file."""

    def __init__(self, min_bytes: int = PROGRESS_MIN_BYTES) -> None:
        self.min_bytes = min_bytes
        self.bar: Any = None
        self.done = 0

    def __call__(self, done: int, total: int | None) -> None:
        if total is None or total < self.min_bytes:
            return
        if self.bar is None or done < self.done:
            self.close()
            self.bar = click.progressbar(length=total, label="Po shkarkohet / downloading",
                                         file=sys.stderr)
            self.bar.__enter__()
        self.bar.update(done - self.done)
        self.done = done

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
        self.bar, self.done = None, 0


def _fail(exc: Exception) -> NoReturn:
    raise RojaError("Lista nuk u publikua", "the feed was not published",
                    describe(exc) if isinstance(exc, OSError) else str(exc)) from None


@click.group("lists", short_help="Listat dhe burimi i linjës / lists, hotline feed.")
def lists() -> None:
    """Listat dhe burimi i nënshkruar i linjës / lists and the signed hotline feed."""


@lists.command("keygen", short_help="Krijo çelësin e publikuesit / make the feed key.")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False,
              path_type=Path), help="Dosja për feed.key dhe feed.pub / directory for the keys.")
def keygen_cmd(out_dir: Path) -> None:
    """Krijo çelësin Ed25519 të publikuesit / make the publisher's Ed25519 key pair."""
    try:
        key_path, pub_path = keygen(out_dir)
    except (FeedError, OSError) as exc:
        raise RojaError("Çelësi nuk u krijua", "no key was made",
                        describe(exc) if isinstance(exc, OSError) else str(exc)) from None
    click.echo(f"Çelësi privat / private key: {key_path} (0600, mbajeni sekret / keep it "
               "secret)")
    click.echo(f"Çelësi publik / public key: {pub_path} (id {key_id(pub_path.read_bytes())}); "
               "jepjani shkollave / give it to the gateways")


@lists.command("publish", short_help="Publiko listën e nënshkruar / publish the feed.")
@click.option("--cases", "cases", required=True, type=click.Path(exists=True, dir_okay=False,
              path_type=Path), help="CSV e rasteve të konfirmuara / CSV of confirmed cases.")
@click.option("--key", "key", required=True, type=click.Path(exists=True, dir_okay=False,
              path_type=Path), help="feed.key")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False,
              path_type=Path), help="Dosja që shërben serveri / directory the web server serves.")
@click.option("--feed-id", required=True, help="Emri i burimit / feed id, e.g. isigurt-al.")
@click.option("--days", type=click.IntRange(1, 365), default=7, show_default=True,
              help="Sa ditë vlen / days until it expires (publish again before that).")
@click.option("--allow-removals", "reason", default="", metavar="ARSYEJA",
              help="Lejo heqjen e më shumë hyrjeve, me arsyen që nënshkruhet në listë / allow "
                   "removing more entries, with the reason that is signed into the feed.")
@click.option("--max-removals", type=click.FloatRange(0.0, REASONLESS_LIMIT),
              default=MAX_REMOVALS, show_default=True,
              help="Pjesa që mund të hiqet pa arsye / share that may be removed without one.")
def publish_cmd(cases: Path, key: Path, out_dir: Path, feed_id: str, days: int, reason: str,
                max_removals: float) -> None:
    """Publiko rastet si listë të nënshkruar / publish the cases as a signed feed."""
    try:
        result = publish(cases, key, out_dir, feed_id, validity_days=days,
                         allow_removals=reason.strip(), max_removals=max_removals)
    except (FeedError, OSError) as exc:
        _fail(exc)
    for error in result.errors:
        click.echo(f"Kujdes / Warning: {cases}: {error} (u anashkalua / skipped)", err=True)
    click.echo(f"U publikua seriali {result.serial}: {result.entries} hyrje (+{result.added} "
               f"−{result.removed}) / published serial {result.serial}: "
               f"{count(result.entries, ENTRY_EN)} (+{result.added} −{result.removed}) "
               f"në / in {out_dir}")
    if result.errors:
        n = len(result.errors)
        click.echo(f"{count(n, ROW)} {form(n, 'u anashkalua', 'u anashkaluan')} / "
                   f"{count(n, ('row', 'rows'))} skipped", err=True)


@lists.command("sync", short_help="Shkarko listën e linjës / fetch the hotline feed.")
@click.option("--url", help="Adresa e burimit / feed URL (default: [feed] url).")
@click.option("--pubkey", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Çelësi publik i besuar / the pinned public key (default: [feed]).")
@click.option("--feed-id", help="Emri i burimit / feed id (default: [feed] feed_id).")
@click.option("--max-age-days", type=click.IntRange(1, 365), default=14, show_default=True,
              help="Refuzo një listë më të vjetër / refuse a feed created longer ago.")
@click.pass_context
def sync_cmd(ctx: click.Context, url: str | None, pubkey: Path | None, feed_id: str | None,
             max_age_days: int) -> None:
    """Shkarko dhe verifiko listën e linjës / fetch and verify the hotline feed."""
    state_dir: Path = ctx.obj["state_dir"]
    if url is None or pubkey is None or feed_id is None:
        feed = ctx.obj["config"].feed if "config_path" in ctx.obj else None
        if feed is None or not feed.enabled:
            raise click.UsageError("Jepni --url, --pubkey dhe --feed-id, ose [feed] në "
                                   "konfigurim / give --url, --pubkey and --feed-id, or a "
                                   "[feed] section in the config.")
        url, pubkey, feed_id = url or feed.url, pubkey or feed.public_key, feed_id or feed.feed_id
    bar = DownloadBar()
    try:
        result = sync_now(state_dir, url, pubkey, feed_id, timedelta(days=max_age_days),
                          progress=bar)
    finally:
        bar.close()
    if not result.changed:
        click.echo(f"Pa ndryshime, seriali {result.serial} / unchanged, serial {result.serial}")
        return
    how = {"delta": "ndryshimet / delta", "snapshot": "lista e plotë / full snapshot"}
    click.echo(f"Seriali {result.previous_serial or '-'} → {result.serial} ({how[result.mode]}): "
               f"{result.entries} hyrje / {form(result.entries, *ENTRY_EN)}, +{result.added} "
               f"−{result.removed}; skadon / "
               f"expires {result.expires}")
    if result.first_use:
        click.echo("Kujdes: asnjë gjendje e mëparshme, seriali u pranua me besim / note: no "
                   "earlier state, the serial was accepted on trust (first use)", err=True)


def _refuse_unreadable(current: Path) -> None:
    """"Nothing synced yet" only when there is no state file, not when it cannot be read."""
    try:
        current.stat()
    except FileNotFoundError:
        return
    except OSError as exc:
        raise RojaError("Gjendja e listës së linjës nuk lexohet", "the hotline feed state "
                        "cannot be read", describe(exc)) from None
    raise RojaError("Gjendja e listës së linjës është e dëmtuar", "the hotline feed state is "
                    "damaged", f"{current}: `roja lists sync` shkarkon listën e plotë / fetches "
                    "a full snapshot")


@lists.command("status", short_help="Gjendja e listës së linjës / hotline feed state.")
@click.option("--json", "as_json", is_flag=True, help="Nxirr JSON / print JSON.")
@click.pass_context
def status_cmd(ctx: click.Context, as_json: bool) -> None:
    """Gjendja e listës së linjës / state of the hotline feed (exit 1 when expired or
    unreadable)."""
    info = lists_status(Path(ctx.obj["state_dir"]))
    if info["serial"] is None:
        _refuse_unreadable(feed_dir(ctx.obj["state_dir"]) / CURRENT_NAME)
    if as_json:
        click.echo(json.dumps(info, ensure_ascii=False, indent=2))
        if info.get("expired"):
            sys.exit(1)
        return
    if info["serial"] is None:
        click.echo("Nuk ka ende listë të linjës / no hotline feed synced yet.")
    else:
        hours = info["age_seconds"] / 3600
        click.echo(f"Burimi / feed: {info['feed_id']}, seriali / serial {info['serial']}, "
                   f"{info['entries']} hyrje / {form(info['entries'], *ENTRY_EN)} "
                   f"({info['confidential']} konfidenciale / "
                   "confidential)")
        click.echo(f"Krijuar / created {info['created']} ({hours:.1f} orë më parë / hours "
                   f"ago); skadon / expires {info['expires']}")
        if info["expired"]:
            click.echo("Kujdes: lista ka skaduar / warning: the feed has expired", err=True)
    for line in enforced_lines(info):
        click.echo(line)
    if (last := info.get("last_sync")) is not None:
        click.echo(last_sync_line(last))
    for list_id, item in info["lists"].items():
        click.echo(summary_line(list_id, item))
    if info.get("expired"):
        sys.exit(1)


def last_sync_line(event: dict[str, Any]) -> str:
    """`Sinkronizimi i fundit / last sync: ...` from the newest sync_ok/sync_fail event."""
    at = datetime.fromtimestamp(event["at"], TIRANE).strftime("%d.%m.%Y %H:%M")
    if event["kind"] == "sync_ok":
        return f"Sinkronizimi i fundit / last sync: në rregull / ok, {at} ({event['detail']})"
    return (f"Sinkronizimi i fundit / last sync: DËSHTOI / FAILED, {at}: "
            f"{str(event['detail'])[:300]}")


def held_lines(enforced: dict[str, Any]) -> list[str]:
    """One line per list the filter holds back, with the counts and why."""
    return [f"E mbajtur / held back: {item['list']}: {item['old']} → {item['new']} hyrje / "
            f"entries: {item['why']}" for item in enforced.get("held_back") or ()]


def enforced_lines(info: dict[str, Any], held: bool = True) -> list[str]:
    """What the running filter enforces (from its own record), held-back lists (unless
    `held` is false: `roja status` shows them under its lists line) and a refused serial:
    Albanian first. Shared with `roja status`."""
    lines = []
    enforced = info.get("enforced")
    if enforced is not None:
        serial = enforced.get("serial")
        if not enforced.get("running", True):
            lines.append("Kujdes: filtri nuk punon; më poshtë është ç'zbatonte / note: the "
                         "filter is not running; below is what it enforced")
        if serial is not None:
            hours = enforced.get("age_seconds", 0) / 3600
            lines.append(f"Zbatohet / enforced: seriali / serial {serial} (krijuar para "
                         f"{hours:.1f} orë / created {hours:.1f} hours ago)")
        if info.get("serial") is not None and info["serial"] != serial:
            lines.append(f"Kujdes: seriali {info['serial']} u sinkronizua por nuk zbatohet "
                         f"ende / note: serial {info['serial']} is synced but not enforced "
                         "yet (is the filter running?)")
        lines += held_lines(enforced) if held else []
    if info.get("refused"):
        lines.append("Seriali i ri u refuzua / the new serial was refused: "
                     f"{str(info['refused'].get('why', ''))[:300]}")
    return lines
