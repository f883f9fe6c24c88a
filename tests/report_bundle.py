"""Test kit for report delivery: a real bundle (PDF, CSV, JSON) built from the sample database."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from report_db import TIRANE, sample

from filterd.config import School
from reporting.delivery import ensure_bundle
from reporting.delivery_config import ReportSettings
from reporting.incidents import db_path
from reporting.outbox import Bundle

SCHOOL = School("Shkolla Çajupi", "K7")
SETTINGS = ReportSettings(qark="Korçë", municipality="Pogradec", ict_teacher="Drita Çela")
BUILT = datetime(2026, 11, 1, 8, 0, tzinfo=TIRANE)
T0 = BUILT.timestamp()


def make_bundle(state_dir: Path) -> Bundle:
    """October 2026 of tests/report_db.sample, built into `state_dir/reports/`."""
    sample(db_path(state_dir))
    return ensure_bundle(state_dir, "2026-10", SCHOOL, SETTINGS, BUILT)
