"""The web filtering proxy: mitmproxy in the appliance's process, asking the same policy as the
DNS server, only for what needs a URL decision (ARCHITECTURE decision 1).

`config` ([proxy]), `gate` (what to do with a connection or a request, from the policy),
`addon` (the thin mitmproxy adapter), `runner` (mitmproxy's Master on the appliance's loop),
`resolve` (names through the appliance's own upstream resolvers), `blockpage` and
`blockserver` (the page, the unblock form, PAC/WPAD and the CA download page), `ca` (the
school's CA and leaf certificates for the block-page server).
"""
