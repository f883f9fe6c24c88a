"""The bypass watch (`roja bypass-watch --interface IFACE`): a packet watcher on the school LAN
card that notices attempts to get around the filter (DNS to outside resolvers, DNS-over-TLS,
DNS-over-HTTPS endpoints, VPN handshakes) and records each as a pseudonymous, rate-limited
circumvention incident. It never blocks anything itself: the firewall does that.

Modules: `packets` (frame parsing and the classifier, pure), `bpf` (the kernel prefilter),
`watch` (socket, rate limit, incidents, metrics).
"""
