"""Tests for `roja incident add|list|update` (filterd.commands.incident) with click's CliRunner,
over a real incident database: prompts, flags, masking warnings, JSON and bad values."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from cli_kit import invoke
from click.testing import CliRunner, Result

from filterd.cli import main
from filterd.commands.incident import incident
from reporting import manual
from reporting.incidents import db_path
from reporting.manual import HIDDEN

FLAGS = ("--category", "sexting", "--platform", "snapchat", "--age-band", "15_18",
         "--gender", "male", "--status", "ongoing", "--description", "Foto u shpërnda",
         "--by", "A.H.")


def run(state: Path, *args: str, input: str | None = None) -> Result:
    return invoke(incident, state, *args, input=input)


def test_add_asks_for_every_field_in_albanian_first(tmp_path: Path) -> None:
    answers = ["14.10.2025", "99", "7", "1", "2", "vajzë", "1, 7", "", "Shkruaj 069 123 4567",
               "A.H."]
    result = run(tmp_path, "add", input="\n".join(answers) + "\n")
    assert result.exit_code == 0, result.output
    for text in ("Data e incidentit / date of the incident", "Kategoria / Category:",
                 "7. Përndjekje / kërcënim / shantazh / Stalking, threats, blackmail",
                 "11. Bullizëm online / Cyberbullying", "12. Tjetër / Other",
                 "zgjidhni një numër nga 1 deri në 12", "MOS shkruani emra nxënësish",
                 "Warning: personal data was hidden: numër telefoni / phone number ×1",
                 f"Teksti që ruhet / text stored: Shkruaj {HIDDEN}",
                 "U regjistrua incidenti nr. 1 / incident 1 recorded."):
        assert text in result.output
    [stored] = manual.list_(db_path(tmp_path))
    assert stored == manual.ManualIncident(
        date(2025, 10, 14), "stalking_threats", "instagram", "11_14", "female",
        ("alo116", "parents"), "open", f"Shkruaj {HIDDEN}", "A.H.", 1, stored.created_at,
        stored.created_at)


def test_add_with_flags_asks_nothing(tmp_path: Path) -> None:
    result = run(tmp_path, "add", "--date", "2025-10-02", "--referral", "none", *FLAGS,
                 input="")
    assert result.exit_code == 0, result.output
    assert result.output == "U regjistrua incidenti nr. 1 / incident 1 recorded.\n"
    [stored] = manual.list_(db_path(tmp_path))
    assert (stored.category, stored.referrals, stored.status) == ("sexting", (), "ongoing")


def test_cyberbullying_is_a_category(tmp_path: Path) -> None:
    flags = [*FLAGS]
    flags[1] = "Bullizëm online"
    assert run(tmp_path, "add", "--date", "2025-10-02", "--referral", "none", *flags,
               input="").exit_code == 0
    [stored] = manual.list_(db_path(tmp_path))
    assert stored.category == "cyberbullying"
    assert "Bullizëm online" in run(tmp_path, "list").output


def test_bad_flag_values_are_refused_with_the_accepted_values(tmp_path: Path) -> None:
    result = run(tmp_path, "add", "--date", "2025-10-02", "--category", "bullying", input="")
    assert result.exit_code == 2
    assert "'bullying' nuk njihet / is not known" in result.output
    assert "hate_speech (Gjuha e urrejtjes)" in result.output
    result = run(tmp_path, "add", "--date", "31.02.2025", input="")
    assert result.exit_code == 2 and "14.10.2026 ose 2026-10-14" in result.output
    result = run(tmp_path, "add", "--date", "01.01.2999", input="")
    assert result.exit_code == 2 and "në të ardhmen / the date is in the future" in result.output
    assert not db_path(tmp_path).exists()


def test_list_update_and_json(tmp_path: Path) -> None:
    assert "Nuk ka incidente" in run(tmp_path, "list").output
    for day in ("30.09.2025", "14.10.2025"):
        assert run(tmp_path, "add", "--date", day, "--referral", "alo116", *FLAGS).exit_code == 0
    result = run(tmp_path, "list", "--month", "2025-10")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    for header in ("Nr. / No.", "Data / Date", "Kategoria / Category", "Gjinia / Gender",
                   "Referuar te / Referred to", "Statusi / Status"):
        assert header in lines[0]
    assert len(lines) == 5 and lines[2].split()[:2] == ["2", "14.10.2025"]
    assert "djalë" in lines[2] and "ALO 116 111" in lines[2] and "Në proces" in lines[2]
    assert lines[-1] == "1 incident / 1 incident"
    result = run(tmp_path, "update", "2", "--status", "e zgjidhur", "--referral", "police_cyber",
                 "--remove-referral", "alo116")
    assert result.exit_code == 0, result.output
    assert "E zgjidhur / Resolved; referuar te / referred to: Policia e Shtetit" in result.output
    data = json.loads(run(tmp_path, "list", "--status", "resolved", "--json").output)
    assert [(d["id"], d["occurred_on"], d["referrals"]) for d in data] == [
        (2, "2025-10-14", ["police_cyber"])]
    assert data[0]["created_at"].endswith(("+02:00", "+01:00"))
    missing = run(tmp_path, "update", "9", "--status", "open")
    assert missing.exit_code == 1 and "Nuk ka incident të regjistruar nr. 9" in missing.output


def test_the_description_prompt_says_no_names_albanian_first(tmp_path: Path) -> None:
    answers = ["14.10.2025", "12", "1", "1", "1", "", "", "Një nxënëse e klasës 8", "A.H."]
    output = run(tmp_path, "add", input="\n".join(answers) + "\n").output
    sq = output.index("MOS shkruani emra nxënësish (as emër, as mbiemër, as nofkë)")
    en = output.index("Do NOT type pupils' names")
    assert sq < en < output.index("Përshkrimi / description:")
    for text in ("Teksti mbetet vetëm në këtë pajisje, nuk hyn në asnjë raport dhe fshihet "
                 "30 ditë pasi rasti mbyllet",
                 "stays on this gateway only, goes into no report and is deleted 30 days after "
                 "the case is closed"):
        assert text in output


def test_the_prompt_names_the_configured_days(tmp_path: Path) -> None:
    """Through the real `roja`, whose config sets `[incidents] free_text_days`."""
    config = tmp_path / "roja.toml"
    config.write_text(f'[state]\ndir = "{tmp_path / "state"}"\n'
                      "[incidents]\nfree_text_days = 1\n", encoding="utf-8")
    answers = ["14.10.2025", "12", "1", "1", "1", "", "", "", "A.H."]
    result = CliRunner().invoke(main, ["--config", str(config), "incident", "add"],
                                input="\n".join(answers) + "\n")
    assert result.exit_code == 0, result.output
    assert "fshihet 1 ditë pasi" in result.output and "deleted 1 day after" in result.output
    assert len(manual.list_(db_path(tmp_path / "state"))) == 1


def test_update_reclassifies_an_other_case_as_cyberbullying(tmp_path: Path) -> None:
    flags = [*FLAGS]
    flags[1] = "Tjetër"
    assert run(tmp_path, "add", "--date", "2025-10-02", "--referral", "none", *flags,
               input="").exit_code == 0
    result = run(tmp_path, "update", "1", "--category", "bullizëm")
    assert result.exit_code == 0, result.output
    assert ("U përditësua incidenti nr. 1 / incident 1 updated: Bullizëm online / "
            "Cyberbullying; Në proces / Ongoing") in result.output
    [stored] = manual.list_(db_path(tmp_path))
    assert (stored.category, stored.status, stored.description) == (
        "cyberbullying", "ongoing", "Foto u shpërnda")
    assert "Bullizëm online" in run(tmp_path, "list").output
    bad = run(tmp_path, "update", "1", "--category", "bullying")
    assert bad.exit_code == 2 and "'bullying' nuk njihet / is not known" in bad.output
    nothing = run(tmp_path, "update", "1")
    assert nothing.exit_code == 2 and "--category" in nothing.output
    csam = run(tmp_path, "update", "1", "--category", "csam")
    assert csam.exit_code == 0 and "raportojeni te ISIGURT.AL" in csam.output
