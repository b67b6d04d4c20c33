"""Benchmarks: each prints figures and ratios, never passes or fails on time.

Run one from the repository's root as a module (``python -m bench.router_core``), or
all with ``make bench``; what each measures and the figures measured are in
bench/README.md. Shared helpers live in :mod:`bench.common`.
"""
