"""The teacher's console: the ICT teacher's daily work in a browser, Albanian first.

`roja console serve` serves it over HTTPS on `[console] listen` (a certificate issued by the
school CA), with the inbox's stack (aiohttp + jinja2, no JavaScript) and its shared parts
(error pages, `render`, CSRF checks, password hashing) imported from `reporting.inbox`.

    accounts.py   console.sqlite: teacher and director accounts, sessions, login throttling
    app.py        the aiohttp application, middlewares, TLS from the school CA, start/serve
    guards.py     who may do what: login redirect, teacher-only actions, CSRF
    routes.py     login, logout and the route table
    overview.py   Pasqyra: health (filterd.status.collect) and today's counts
    requests.py   Kërkesat për zhbllokim: accept (time-boxed) or refuse, temporary unblocks
    incidents.py  Incidentet: blocked-access incidents, filters, CSV export
    manual.py     Incident i ri: the manual incident form (reporting.manual)
    reports.py    Raportet: build and send the month's report, delivery status
    groups.py     Grupet dhe oraret: groups, profiles, schedules, holidays; edit → diff →
                  write + reload (filterd.reload_request) + audit
    groups_edit.py  a form → the new roja.toml text (filterd.install.tomledit), checked like
                  `roja config check`, and its diff
    lists.py      Listat: each list's source, counts, hold-backs and why; sync now

Nothing here is imported by `roja serve`: the DNS process never loads aiohttp for it.
"""
