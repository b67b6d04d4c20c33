"""bench.phone runs end to end (2 calls, 2 s a phase): sipp's calls and the browser-only calls are
all up, every probe burst is found, the last line is the JSON the README quotes. A soak (`make
soak`): it starts a server twice and takes about a minute; the figures are never checked."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.netns import require_netns

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.soak
def test_bench_phone_runs_two_calls_each_way():
    require_netns()
    if shutil.which("sipp") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("sipp is not installed (apt-get install sip-tester); CI=true: it must run")
        pytest.skip("sipp is not installed (apt-get install sip-tester)")
    done = subprocess.run([sys.executable, "-m", "bench.phone", "--calls", "2", "--seconds", "2"], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert figures["n2_phone_legs_connected_count"] == 2 and figures["n2_browser_legs_connected_count"] == 4
    assert figures["added_latency_p95_ms"] is not None and figures["calls_per_core"] > 0
