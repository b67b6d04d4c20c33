"""The benches stay runnable: each imports as a module of ``bench`` (no sys.path edits),
and `make bench` runs every one of them."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# A bench is a public module; its helpers are "common" or private ("_scale_bots": bench.scale's bot processes).
BENCHES = sorted(p.stem for p in (ROOT / "bench").glob("*.py") if p.stem != "common" and not p.stem.startswith("_"))


@pytest.mark.parametrize("name", BENCHES)
def test_a_bench_imports_as_a_module_without_editing_sys_path(name):
    assert "sys.path" not in (ROOT / "bench" / f"{name}.py").read_text()
    assert callable(importlib.import_module(f"bench.{name}").main)


def test_make_bench_runs_every_bench():
    listed = re.search(r"^BENCHES := (.+)$", (ROOT / "Makefile").read_text(), re.M).group(1).split()
    assert sorted(listed) == BENCHES
