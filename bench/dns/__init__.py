"""DNS resolver benchmark: Roja against dnsmasq and unbound with one shared blocklist.

An NSD on loopback serves the allowed names (zone ``bench.test.``); each resolver under test
forwards to it, blocks the same generated list with NXDOMAIN and is pinned to one core while
dnsperf, pinned to another, replays a mix of blocked and cached allowed names. See ``run.py``.
"""
