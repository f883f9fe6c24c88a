"""The filtering DNS server: asyncio UDP and TCP listeners, a fast path for blocks and cache
hits, and a chain of small handlers (ACL → rate limit → canaries → policy → safe search →
cache → upstream) built once by `dns_resolver.chain.build_chain`.
"""
