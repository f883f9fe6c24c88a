"""Compiled-list benchmark (issue 4): Roja's list compile, startup and memory at millions of
domains, next to dnsmasq and unbound loading the same list, and Roja's lookup throughput with a
large list against a small one. Reuses the data, server configs and measuring helpers of
``bench.dns``. See ``run.py``.
"""
