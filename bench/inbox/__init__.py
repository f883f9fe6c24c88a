"""Benchmark of the education-office inbox (issue 8)."""
