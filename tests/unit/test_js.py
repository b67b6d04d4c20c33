"""The browser modules' own tests (``node --test tests/js/``), run with the rest so `make test` and CI see them."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_node_tests_pass():
    node = shutil.which("node")
    if node is None:  # `make test` installs the front-end with npm first, so node is there
        pytest.skip("node is not installed")
    result = subprocess.run([node, "--test", "tests/js/"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "# fail 0" in result.stdout
