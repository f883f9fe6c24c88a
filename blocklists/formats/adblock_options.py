"""What an adblock rule's `$options` mean for a network filter (DNS and the URL proxy).

A browser applies a rule to requests of some types (`script`, `image`, the page itself:
`document`) made from some pages (`domain=`, `third-party`). A DNS resolver and a URL proxy see
neither the type nor the page, so a rule is taken only when it applies to the top-level page of
its target whatever the context, and then it blocks (or with `@@` opens) the whole target:

- `$all`, `$document` (`$doc`), alone or with other types (`$doc,popup`): taken; the page
  itself is blocked, and the other types only add to that;
- `$important`, `$match-case`: change nothing about the reach (`important` is kept: within its
  list an important block beats an `@@` exception, as in a browser; without `match-case` a URL
  rule's path matches in any case, as in a browser);
- `$badfilter`: cancels the rule that is identical without it (see `twin_key`);
- only other types (`$script`, `$image`, `$popup`...), any negated type (`$~doc`), any context
  option (`$third-party`/`3p`, `$domain=`, `$to=`, `$denyallow=`, `$client=`, `$dnstype=`,
  `$redirect=`, `$csp=`, `$removeparam=`...): skipped, counted under the option's name.

`*$ipaddress=93.184.215.14` (no host pattern, no type but `all`/`doc`; an address or network,
not `lan` or a regex) is every request to that address: an address entry of the list.

Aliases are counted under their long name (`3p` → `third-party`, `xhr` → `xmlhttprequest`).
"""

from __future__ import annotations

from typing import NamedTuple

from blocklists.formats.common import as_address

ALIASES = {
    "doc": "document", "3p": "third-party", "1p": "first-party", "xhr": "xmlhttprequest",
    "css": "stylesheet", "frame": "subdocument", "ehide": "elemhide", "ghide": "generichide",
    "shide": "specifichide", "strict3p": "strict-third-party",
    "strict1p": "strict-first-party", "from": "domain",
}
SITE_TYPES = frozenset({"all", "document"})
# Request types that narrow a rule to some requests of a page (none is the page itself).
OTHER_TYPES = frozenset({
    "script", "image", "stylesheet", "object", "xmlhttprequest", "subdocument", "ping",
    "websocket", "webrtc", "media", "font", "popup", "other", "beacon", "object-subrequest",
    "inline-script", "inline-font", "popunder"})
NEUTRAL = frozenset({"important", "match-case"})


class Options(NamedTuple):
    """What a rule's options allow: `unsupported` names (empty: the rule is taken),
    `important`, and `badfilter` (the rule cancels its twin instead of applying)."""

    unsupported: tuple[str, ...]
    important: bool
    badfilter: bool
    match_case: bool = False


def parse(text: str) -> Options | str:
    """The meaning of `a,b=c,~d` (the text after `$`), or why it is bad."""
    names = []
    for item in text.split(","):
        name = item.split("=", 1)[0].strip().lower()
        if not name.lstrip("~"):
            return "empty modifier after '$'"
        negated = name.startswith("~")
        base = ALIASES.get(name.lstrip("~"), name.lstrip("~"))
        names.append(("~" if negated else "") + base)
    badfilter = "badfilter" in names
    rest = [n for n in names if n != "badfilter"]
    types = [n for n in rest if n in SITE_TYPES or n in OTHER_TYPES]
    unsupported = [n for n in rest if n not in SITE_TYPES and n not in OTHER_TYPES
                   and n not in NEUTRAL]
    if types and not any(t in SITE_TYPES for t in types):
        unsupported.extend(types)  # `$script`: some requests of a page, never the page
    return Options(tuple(dict.fromkeys(n.lstrip("~") for n in unsupported)),
                   "important" in rest, badfilter, "match-case" in rest)


def every_request_to(text: str) -> str | None:
    """The address of `ipaddress=A` options (the text after `$` of a rule without a host
    pattern) that reach every request to A, else None."""
    address = None
    for item in text.split(","):
        name, _, value = item.strip().partition("=")
        name = ALIASES.get(name.lower(), name.lower())
        if name == "ipaddress" and address is None:
            address = as_address(value.strip())
            if address is None:
                return None
        elif name not in SITE_TYPES and name != "important":
            return None
    return address


def twin_key(allow: bool, pattern: str, options: str) -> str:
    """The identity `$badfilter` cancels by: `@@` or not, the pattern (case-folded), and the
    options as a set without `badfilter`, aliases spelled out."""
    opts = sorted({_spelled(o) for o in options.split(",") if o.strip()} - {"badfilter"}) \
        if options else []
    return ("@@" if allow else "") + pattern.lower() + ("$" + ",".join(opts) if opts else "")


def _spelled(option: str) -> str:
    option = option.strip().lower()
    name, eq, value = option.partition("=")
    negated = name.startswith("~")
    base = ALIASES.get(name.lstrip("~"), name.lstrip("~"))
    return ("~" if negated else "") + base + eq + value
