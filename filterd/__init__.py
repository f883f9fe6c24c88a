"""The appliance: config loading, the `roja` CLI, and the process that runs the DNS server,
list compilation, the incident writer and the metrics endpoint together."""
