"""One handler per file. Each either answers a query or passes it on with `call_next`; none
touches the socket or mutates the query. The order lives only in `dns_resolver.chain`."""
