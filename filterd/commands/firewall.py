"""`roja firewall render|check|apply|remove`: the gateway's nftables table from `[firewall]`.

    roja firewall render [--out FILE]   # print (or write) the ruleset
    roja firewall check                 # nft -c -f: would the kernel take it?
    roja firewall apply                 # nft -f (roja-firewall.service runs this at boot;
                                        # the counters keep their values across it)
    roja firewall remove                # delete table inet roja, nothing else

The lists' addresses (`[firewall] listed_addresses`) come from the compiled lists the daemon
enforces (`<state_dir>/lists.compiled`); before its first start there are none.

Exit status: 0 done, 1 nft refused or is missing, 2 config error or no `lan_interface`.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from blocklists.bypass import VPN_PORTS, doh_addresses
from blocklists.compiled import CompiledList
from blocklists.store import ACTIVE_NAME, IMPORTANT_SUFFIX
from filterd.config import RojaConfig
from filterd.firewall import nft
from filterd.firewall.render import Carried, render
from filterd.hotline import hotline_source


def listed_addresses(cfg: RojaConfig) -> dict[str, list[str]]:
    """List id → addresses of the lists whose kind `[firewall] listed_addresses` takes, from
    the compiled lists in force ({} before the daemon's first compile)."""
    kinds = {"off": (), "legal": ("legal",), "deny": ("legal", "deny")}[
        cfg.firewall.listed_addresses]
    wanted = {lc.rule.id for lc in cfg.policy.lists if lc.rule.kind in kinds}
    hotline = hotline_source(cfg.feed, cfg.state_dir)
    if hotline and "legal" in kinds:
        wanted.add(hotline[1].id)
    path = cfg.state_dir / ACTIVE_NAME
    if not wanted or not path.is_file():
        return {}
    try:
        compiled = CompiledList(path)
    except (OSError, ValueError) as exc:
        click.echo(f"Listat e përpiluara nuk lexohen / the compiled lists cannot be read: "
                   f"{exc}", err=True)
        sys.exit(1)
    try:
        out: dict[str, list[str]] = {}
        for lid, found in compiled.addresses.items():  # `x@important` blocks are list x's
            if lid.removesuffix(IMPORTANT_SUFFIX) in wanted:
                out.setdefault(lid.removesuffix(IMPORTANT_SUFFIX), []).extend(found)
        return out
    finally:
        compiled.close()


def ruleset(cfg: RojaConfig, carried: Carried | None = None) -> str:
    if not cfg.firewall.enabled:
        click.echo(f"Firewall-i është i fikur: vendosni [firewall] lan_interface në {cfg.path} / "
                   "the firewall is off: set [firewall] lan_interface", err=True)
        sys.exit(2)
    dns_port = cfg.dns.listen[0][1] if cfg.dns.listen else 53
    return render(cfg.firewall, dns_port, doh_addresses(), VPN_PORTS, listed_addresses(cfg),
                  carried)


def _nft_failed(exc: nft.NftError) -> None:
    click.echo(f"nft nuk e pranoi / nft refused: {exc}", err=True)
    sys.exit(1)


@click.group("firewall", short_help="Rregullat nftables / the nftables rules.")
def firewall() -> None:
    """Rregullat nftables të portës / the gateway's nftables rules."""


@firewall.command("render")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path),
              help="Shkruaje në skedar / write to this file instead of stdout.")
@click.pass_context
def render_cmd(ctx: click.Context, out: Path | None) -> None:
    """Shfaq rregullat / print the ruleset."""
    text = ruleset(ctx.obj["config"])
    if out is None:
        click.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
        click.echo(f"U shkrua / written: {out}")


@firewall.command("check", short_help="Kontrollo me nft -c / check with nft -c.")
@click.pass_context
def check_cmd(ctx: click.Context) -> None:
    """Kontrollo me nft -c / check with nft -c (changes nothing)."""
    try:
        nft.check(ruleset(ctx.obj["config"]))
    except nft.NftError as exc:
        _nft_failed(exc)
    click.echo("Në rregull / OK: nft -c e pranon / accepts the ruleset")


@firewall.command("apply", short_help="Ngarko rregullat / load the ruleset.")
@click.pass_context
def apply_cmd(ctx: click.Context) -> None:
    """Ngarko rregullat / load the ruleset (table inet roja only)."""
    cfg: RojaConfig = ctx.obj["config"]
    try:
        # The loaded table's counters carry over into the new one: a list refresh (the
        # roja-firewall-lists.path run) keeps what each list has dropped so far.
        nft.apply(ruleset(cfg, nft.counter_values()))
    except nft.NftError as exc:
        _nft_failed(exc)
    click.echo(f"U ngarkua / loaded: table inet roja (LAN {cfg.firewall.lan_interface})")


@firewall.command("remove", short_help="Hiq tabelën inet roja / delete table inet roja.")
def remove_cmd() -> None:
    """Hiq tabelën inet roja / delete table inet roja (nothing else)."""
    try:
        removed = nft.remove()
    except nft.NftError as exc:
        _nft_failed(exc)
    click.echo("U hoq / removed: table inet roja" if removed
               else "Nuk ishte e ngarkuar / was not loaded: table inet roja")
