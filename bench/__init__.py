"""Roja benchmarks against real peers on loopback.

Each benchmark is a subpackage with a ``run`` module exposing ``main(argv) -> int``; run one with
``python -m bench NAME [options]`` from the repository root. Generated data and scratch files go
under ``bench/out/`` (gitignored); measured results are recorded by hand in ``bench/RESULTS.md``.
"""
