"""The gateway's nftables ruleset: `roja firewall render|check|apply|remove`.

`config.py` reads `[firewall]`, `render.py` turns it (with the DNS port and the shipped
bypass lists of `blocklists.bypass`) into one `table inet roja`, `nft.py` loads, checks and
removes it with `nft -f`. The table is Roja's alone: applying replaces only it, never
flushes the host's other tables.
"""
