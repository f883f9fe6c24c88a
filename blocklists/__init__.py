"""Everything about block and allow lists: reading them, canonicalising names, and compiling
them into one memory-mapped matcher that the DNS workers (and later the proxy) share.

This package imports nothing else of Roja's (only `configkit`); `policy` builds on it.
"""
