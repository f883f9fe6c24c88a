"""Data files of the DNS server (the Google search domains for safe search)."""
