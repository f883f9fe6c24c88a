"""One module per list format beyond plain domains and hosts files: `adblock`, `rpz`, `ut1`
and `urls`. Each reader takes an open report (`common.ReadReport`), yields `ListEntry` values
and keeps going past bad lines; `blocklists.readers.read_entries` dispatches to them.
"""
