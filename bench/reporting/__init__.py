"""Benchmark of the incident store and the monthly report (issue 7)."""
