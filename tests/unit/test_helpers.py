"""The test and bench helpers find the tree they belong to (a server started from the wrong
directory would import the installed otodesk, not this tree's code)."""

from __future__ import annotations

from pathlib import Path

import bench.common
import tests.helpers.server

TREE = Path(__file__).resolve().parents[2]


def test_servers_and_benches_run_this_trees_code():
    assert tests.helpers.server.ROOT == TREE
    assert bench.common.ROOT == TREE
    assert (TREE / "desktop" / "app.py").is_file()
