"""The console's pages do what the teacher asks, over real HTTPS: the overview shows the
`roja status` facts and today's counts; an unblock request is accepted for a time box (the
unblock is in force and audited) or refused; a legal-list host has no accept button and the
server refuses it; incidents filter and export formula-safe CSV; the manual incident form
masks personal data; the month's report is built; every user-provided field is escaped."""

from __future__ import annotations

import csv
import io
import sqlite3
from pathlib import Path

from console_kit import EVIL, NOW, running_console, signed_in

from filterd import audit, overrides
from filterd.traffic import HOUR, HourlyTraffic
from filterd.unblock_requests import list_requests
from reporting import manual
from reporting.incidents import db_path


async def test_overview_shows_health_and_todays_counts(tmp_path: Path) -> None:
    async with running_console(tmp_path) as console, console.client() as c:
        await signed_in(c, "mesuesi")
        page = (await c.get("/pasqyra")).text
        assert "Filtri nuk po e bën punën" in page  # nothing answers DNS on 127.0.0.1:9
        assert "shërbimi nuk punon / the service is not running" in page
        assert "<b>5</b><span>Bllokime sot" in page  # 05.11.2026: gambling ×3, DoH ×2
        assert "<b>2</b><span>Përpjekje anashkalimi sot" in page
        assert "Bixhoz" in page or "gambling" in page.lower()
        assert EVIL not in page and "Shkolla &lt;script&gt;" in page


async def test_overview_draws_the_last_24_hours(tmp_path: Path) -> None:
    async with running_console(tmp_path) as console, console.client() as c:
        await signed_in(c, "mesuesi")
        page = (await c.get("/pasqyra")).text
        assert "nuk ka regjistruar ende asnjë orë" in page and "<svg" not in page
        traffic = HourlyTraffic(console.cfg.state_dir)  # what the running filter writes
        traffic.sample({"answered": 1200, "blocked": 34}, NOW - 3 * HOUR)
        traffic.sample({"answered": 1900, "blocked": 40}, NOW - 60)
        page = (await c.get("/pasqyra")).text
        assert page.count('<rect class="q"') == 24 and page.count('<rect class="b"') == 24
        assert "(kulmi 1 234) / DNS queries and blocks per hour, last 24 hours (peak 1 234)" in page
        assert "DNS queries today: <b>1 940</b>" in page  # every result counts as a query
        assert '<td class="n" data-label="Pyetje / Queries">706</td>' in page
        assert '<td class="n" data-label="Bllokime / Blocks">6</td>' in page


async def test_accept_a_request_for_a_time_box(tmp_path: Path) -> None:
    async with running_console(tmp_path) as console, console.client() as c:
        csrf = await signed_in(c, "mesuesi")
        page = (await c.get("/kerkesat")).text
        assert EVIL not in page and "&lt;script&gt;" in page  # the pupil's note, escaped
        rid = console.requests["gambling"]
        r = await c.post(f"/kerkesat/{rid}/prano",
                         data={"csrf": csrf, "minutes": "45", "reason": f"Projekt {EVIL}"})
        assert r.status_code == 303, r.text
        [row] = overrides.list_rows(console.cfg.state_dir, console.clock[0])
        assert (row.host, row.group_id, row.by) == ("bet.example", "nxenesit", "mesuesi")
        assert row.expires - row.created == 45 * 60 and row.request_id == rid
        whats = [e.what for e in audit.read(console.cfg.state_dir)]
        assert any(w.startswith(f"request accepted #{rid}") for w in whats)
        assert any(w.startswith(f"unblock add #{row.id}") for w in whats)
        page = (await c.get(r.headers["location"])).text
        assert f"Zhbllokimi #{row.id} është në fuqi" in page and EVIL not in page
        # ended early from the same page
        r = await c.post(f"/zhbllokime/{row.id}/hiq", data={"csrf": csrf})
        assert r.status_code == 303
        assert overrides.list_rows(console.cfg.state_dir, console.clock[0]) == []


async def test_refuse_with_a_reason(tmp_path: Path) -> None:
    async with running_console(tmp_path) as console, console.client() as c:
        csrf = await signed_in(c, "mesuesi")
        rid = console.requests["gambling"]
        assert (await c.post(f"/kerkesat/{rid}/refuzo", data={"csrf": csrf, "reason": ""})
                ).status_code == 400
        r = await c.post(f"/kerkesat/{rid}/refuzo", data={"csrf": csrf, "reason": "Bixhoz"})
        assert r.status_code == 303
        [done] = [q for q in list_requests(console.cfg.state_dir, None) if q.id == rid]
        assert (done.status, done.decided_by) == ("refused", "mesuesi")
        last = audit.read(console.cfg.state_dir)[-1]
        assert last.what.startswith(f"request refused #{rid}") and last.why == "Bixhoz"


async def test_legal_list_hosts_cannot_be_opened(tmp_path: Path) -> None:
    async with running_console(tmp_path) as console, console.client() as c:
        csrf = await signed_in(c, "mesuesi")
        page = (await c.get("/kerkesat")).text
        for key in ("legal", "confidential"):
            rid = console.requests[key]
            block = page.split(f'id="k{rid}"', 1)[1].split('class="req"', 1)[0]
            assert "Listë ligjore" in block and "/prano" not in block, key
            r = await c.post(f"/kerkesat/{rid}/prano",
                             data={"csrf": csrf, "minutes": "45", "reason": "test"})
            assert r.status_code == 403 and "listë ligjore" in r.text, key
        assert overrides.list_rows(console.cfg.state_dir, console.clock[0]) == []
        assert {q.status for q in list_requests(console.cfg.state_dir, None)} == {"pending"}


async def test_unblock_without_a_request(tmp_path: Path) -> None:
    async with running_console(tmp_path) as console, console.client() as c:
        csrf = await signed_in(c, "mesuesi")
        form = {"csrf": csrf, "group": "nxenesit", "minutes": "90", "reason": "Ora e gjeografisë"}
        r = await c.post("/zhbllokime/shto", data={**form, "host": "https://Bet.Example/x"})
        assert r.status_code == 303, r.text
        [row] = overrides.list_rows(console.cfg.state_dir, console.clock[0])
        assert (row.host, row.group_id, row.by) == ("bet.example", "nxenesit", "mesuesi")
        assert row.expires - row.created == 90 * 60
        assert "Zhbllokimi #" in (await c.get(r.headers["location"])).text
        last = audit.read(console.cfg.state_dir)[-1]
        assert last.what.startswith("unblock add") and last.why.endswith("(console)")
        r = await c.post("/zhbllokime/shto", data={**form, "host": "abuse-legal.example"})
        assert r.status_code == 403 and "listë ligjore" in r.text
        r = await c.post("/zhbllokime/shto", data={**form, "host": "nuk eshte host"})
        assert r.status_code == 400 and "nuk është emër hosti" in r.text
        r = await c.post("/zhbllokime/shto", data={**form, "host": "ok.example",
                                                   "group": "askush"})
        assert r.status_code == 409 and "Nuk ka grup" in r.text
        assert len(overrides.list_rows(console.cfg.state_dir, console.clock[0])) == 1


async def test_incidents_filter_and_formula_safe_csv(tmp_path: Path) -> None:
    async with running_console(tmp_path) as console, console.client() as c:
        await signed_in(c, "mesuesi")
        october = "nga=2026-10-01&deri=2026-10-31"
        page = (await c.get(f"/incidentet?{october}")).text
        assert "pseudoCLIENTx9" in page and "porn-site.example" in page
        assert "30.09.2026" not in page and "01.11.2026" not in page
        only = (await c.get(f"/incidentet?{october}&kategoria=gambling")).text
        assert "07.10.2026 10:00" in only and "01.10.2026" not in only
        group = (await c.get(f"/incidentet?{october}&grupi=mësuesit")).text
        assert "07.10.2026 10:00" in group and "01.10.2026" not in group
        today = (await c.get("/incidentet")).text
        assert EVIL not in today and "bet.example&lt;script&gt;" in today
        r = await c.get(f"/incidentet.csv?{october}")
        assert r.headers["content-type"].startswith("text/csv")
        rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
        assert rows[0][:3] == ["koha", "klienti", "grupi"]
        hostile = [row for row in rows if "calc" in row[4]]
        assert hostile and hostile[0][4].startswith("'=")
        assert "10.0." not in r.text  # never an address


async def test_a_past_month_is_found_under_a_busy_present(tmp_path: Path) -> None:
    """60,000 blocks this week must not hide October's rows, nor a rare group's."""
    async with running_console(tmp_path) as console, console.client() as c:
        await signed_in(c, "mesuesi")
        with sqlite3.connect(db_path(console.cfg.state_dir)) as db:
            db.executemany(
                "INSERT INTO incidents (first_at, last_at, count, client, grp, name, category, "
                "list_id, action, source, reason) VALUES (?, ?, 1, 'pseudoBUSY', 'nxënësit', "
                "?, 'gambling', 'bixhoz', 'blocked', 'dns', 'listed')",
                [(console.clock[0] - 3600 - i, console.clock[0] - 3600 - i, f"n{i}.example")
                 for i in range(60_000)])
        page = (await c.get("/incidentet?nga=2026-10-01&deri=2026-10-31")).text
        assert "porn-site.example" in page and "07.10.2026 10:00" in page
        group = (await c.get("/incidentet?nga=2026-10-01&deri=2026-11-05&grupi=mësuesit")).text
        assert "07.10.2026 10:00" in group and "n1.example" not in group
        busy = (await c.get("/incidentet")).text  # this week: the newest 1000 of 60,000+
        assert "n0.example" in busy and "vetëm 1000 më të rejat" in busy


async def test_manual_incident_is_recorded_masked(tmp_path: Path) -> None:
    async with running_console(tmp_path) as console, console.client() as c:
        csrf = await signed_in(c, "mesuesi")
        form = {"csrf": csrf, "date": "2026-11-04", "category": "stalking_threats",
                "platform": "instagram", "age_band": "11_14", "gender": "female",
                "status": "open", "referrals": ["alo116", "parents"],
                "description": f"Kërcënime, tel 069 123 4567, {EVIL}"}
        r = await c.post("/incident-i-ri", data=form)
        assert r.status_code == 303, r.text
        page = (await c.get(r.headers["location"])).text
        assert "U regjistrua incidenti nr." in page and "numër telefoni" in page
        stored = manual.list_(db_path(console.cfg.state_dir))[-1]
        assert stored.category == "stalking_threats" and stored.recorded_by == "mesuesi"
        assert "069" not in stored.description and manual.HIDDEN in stored.description
        assert stored.referrals == ("alo116", "parents")
        assert audit.read(console.cfg.state_dir)[-1].what.startswith("manual incident add")
        bad = await c.post("/incident-i-ri", data={**form, "category": "nope"})
        assert bad.status_code == 400 and "nuk njihet / is not known" in bad.text
        assert EVIL not in bad.text and "&lt;script&gt;" in bad.text



async def test_manual_incident_form_says_not_to_type_names(tmp_path: Path) -> None:
    """Issue 22 item 8: above the description, Albanian first, tied to the field for screen
    readers, with the configured purge days (the default 30 here)."""
    async with running_console(tmp_path) as console, console.client() as c:
        await signed_in(c, "mesuesi")
        page = (await c.get("/incident-i-ri")).text
        note = page.index('<p class="hint" id="description-note">')
        sq = page.index("MOS shkruani emra nxënësish (as emër, as mbiemër, as nofkë)")
        en = page.index("Do NOT type pupils&#39; names")
        field = page.index('<textarea id="description"')
        assert note < sq < en < field
        assert 'aria-describedby="description-note"' in page[field:]
        assert "nuk hyn në asnjë raport dhe fshihet 30 ditë pasi rasti mbyllet" in page
        assert "deleted 30 days after the case is closed" in page
        assert console.cfg.incidents.free_text_days == 30

async def test_build_the_months_report(tmp_path: Path) -> None:
    async with running_console(tmp_path) as console, console.client() as c:
        csrf = await signed_in(c, "mesuesi")
        assert "Ende pa u hartuar" in (await c.get("/raportet")).text
        r = await c.post("/raportet/2026-10/harto", data={"csrf": csrf})
        assert r.status_code == 303
        page = (await c.get(r.headers["location"].split("#")[0])).text
        assert "Raporti u hartua" in page and "/raportet/2026-10/r1.pdf" in page
        pdf = await c.get("/raportet/2026-10.pdf")
        assert pdf.content.startswith(b"%PDF")
        assert (await c.post("/raportet/2026-10/dergo", data={"csrf": csrf})
                ).status_code == 409  # no recipients configured
        assert (await c.post("/raportet/1999-01/harto", data={"csrf": csrf})
                ).status_code == 404
        assert audit.read(console.cfg.state_dir)[-1].what == "report build 2026-10"
