"""The education-office inbox: `roja inbox serve` receives the schools' monthly reports.

Education offices (a DRAP, a qark, a district or a ZVA; see reporting.offices) and the ministry
(Ministria e Arsimit dhe Sportit) run it.
Schools upload their report bundle over HTTPS with their own token (`upload`); staff log in
(`auth`) and see, for a chosen month, which schools of their area reported, which are late and
which are missing, with totals and trends (`dashboard`, `web`), and export the same data as CSV
or JSON (`export`). Everything lives in one SQLite database in the inbox's data directory
(`store`); the inbox has its own config file (`config`), separate from the appliance's roja.toml.

Modules, one job each: `qarqe` (the 12 counties), `registry` (school CSV import), `schema_check`
(JSON Schema subset for report.schema.json), `store` (schema, migrations, schools, tokens, users,
audit log), `submissions` (revisions and idempotency), `upload` (validation of an upload),
`auth` (passwords, sessions, CSRF, login links), `throttle` (login backoff per address and
account), `offload` (database threads and the hashing pool, off the event loop), `json_limits`
(size and depth of uploaded JSON), `anchors` (a school's audit anchors), `dashboard` (month
queries), `export` (CSV and JSON), `views` and `web` (aiohttp handlers and routes), `app` (the
server, TLS), `demo`.
"""
