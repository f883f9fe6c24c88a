"""Incidents, and (in later issues) the reports built from them and their delivery.

The DNS server and the proxy only use `reporting.incidents` through its writer API
(`Incident`, `IncidentSink.submit`); nothing here imports the servers.
"""
