"""The page applies deltas as the server does: ``static/supervisor/walldelta.js`` and
``signaling/protocol/wall_delta.py`` fed the same walls and messages (node runs the module)."""

from __future__ import annotations

import json
import random
import shutil
import subprocess
from pathlib import Path

import pytest

from signaling.protocol import wall_delta

ROOT = Path(__file__).resolve().parents[3]

SCRIPT = """
import { readFileSync } from "node:fs";
import { applyDelta, WallView } from "%s";
const input = JSON.parse(readFileSync(0, "utf8"));
const applied = input.pairs.map(([old, delta]) => applyDelta(old, delta));
const view = new WallView();
const taken = input.stream.map((message) => view.take(message));
process.stdout.write(JSON.stringify({ applied, taken, wall: view.wall, term: view.term, wall_seq: view.wallSeq }));
"""


def _wall(rng: random.Random) -> dict:
    ids = rng.sample([f"agent-{n}" for n in range(8)], rng.randint(0, 8))
    queues = rng.sample(["sales", "support", "billing", "tech"], rng.randint(0, 4))
    history = {}
    for queue in rng.sample(["sales", "support", "billing"], rng.randint(0, 3)):
        minutes = sorted(rng.sample(range(10), rng.randint(1, 5)))
        history[queue] = [[minute * 60, rng.randint(0, 3)] for minute in minutes]
    return {"at": rng.randint(0, 10_000) / 10,
            "queues": [{"name": q, "waiting": rng.randint(0, 3), "longest_wait": rng.choice([None, 12.5])}
                       for q in queues],
            "agents": [{"id": i, "state": rng.choice(["available", "away", "busy"]), "reason": rng.choice(["", "break"]),
                        "since": rng.randint(0, 9) * 1.5, "skills": ["sales"]} for i in sorted(ids)],
            "history": history}


def _pairs(count: int) -> list[tuple[dict, dict, dict]]:
    """(old, delta, new) for walls far apart and walls a small step apart."""
    rng = random.Random(15)
    pairs = []
    while len(pairs) < count:
        old = _wall(rng)
        new = _wall(rng) if rng.random() < 0.5 else {**old, "agents": old["agents"][:-1] + _wall(rng)["agents"][:1]}
        new["agents"] = sorted({row["id"]: row for row in new["agents"]}.values(), key=lambda row: row["id"])
        delta = wall_delta.diff(old, new)
        if delta is not None:
            pairs.append((old, delta, new))
    return pairs


def test_the_page_and_the_server_apply_the_same_deltas_and_refuse_the_same_gaps():
    node = shutil.which("node")
    if node is None:  # `make test` installs the front-end with npm first, so node is there
        pytest.skip("node is not installed")
    pairs = _pairs(300)
    first = {"type": "wall", "term": "t1", "wall_seq": 1, **pairs[0][0]}
    stream = [first, {"type": "wall_delta", "term": "t1", "wall_seq": 2, **pairs[0][1]},
              {"type": "wall_delta", "term": "t1", "wall_seq": 2, **pairs[1][1]},   # stale
              {"type": "wall_delta", "term": "t1", "wall_seq": 4, **pairs[1][1]},   # 3 lost
              {"type": "wall_delta", "term": "t2", "wall_seq": 3, **pairs[1][1]},   # another term
              {"type": "welcome", "term": None, "wall_seq": None, **pairs[2][0]}]  # no wall yet
    view = wall_delta.WallView()
    expected = {"applied": [new for _old, _delta, new in pairs],
                "taken": [view.take(message).value for message in stream],
                "wall": view.wall, "term": view.term, "wall_seq": view.wall_seq}
    assert expected["taken"] == ["applied", "applied", "stale", "gap", "gap", "gap"]

    module = (ROOT / "static" / "supervisor" / "walldelta.js").as_uri()
    result = subprocess.run([node, "--input-type=module", "-e", SCRIPT % module], cwd=ROOT, capture_output=True,
                            text=True, timeout=60,
                            input=json.dumps({"pairs": [[old, delta] for old, delta, _new in pairs], "stream": stream}))
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout) == expected
