// The wall's deltas in the page (static/supervisor/walldelta.js); the same walls through the
// server's wall_delta.py: tests/unit/signaling/test_wall_delta_js.py. Run: node --test tests/js/
import assert from "node:assert/strict";
import { test } from "node:test";

import { WallView, applyDelta } from "../../static/supervisor/walldelta.js";

const wall = {
  at: 10,
  queues: [{ name: "sales", waiting: 1 }, { name: "support", waiting: 0 }],
  agents: [{ id: "a1", state: "away" }, { id: "a3", state: "busy" }],
  history: { sales: [[0, 1], [60, 2], [120, 1]] },
};

test("a delta changes, adds and removes rows and moves a history series on", () => {
  const next = applyDelta(wall, {
    at: 11, agents: [{ id: "a2", state: "available" }, { id: "a1", state: "available" }], agents_removed: ["a3"],
    queues: [{ name: "support", waiting: 2 }, { name: "billing", waiting: 0 }], queues_removed: ["sales"],
    history: { sales: { from: 60, points: [[120, 3], [180, 0]] } },
  });
  assert.deepEqual(next, {
    at: 11,
    queues: [{ name: "support", waiting: 2 }, { name: "billing", waiting: 0 }],
    agents: [{ id: "a1", state: "available" }, { id: "a2", state: "available" }],
    history: { sales: [[60, 2], [120, 3], [180, 0]] },
  });
  assert.equal(wall.agents.length, 2); // the wall it came from is left as it was
});

test("a view applies only the delta that follows its wall, in its term", () => {
  const delta = (seq, state, term = "t1") => ({
    type: "wall_delta", term, wall_seq: seq, at: 10 + seq, agents: [{ id: "a1", state }], agents_removed: [],
    queues: [], queues_removed: [], history: {},
  });
  const view = new WallView();
  assert.equal(view.take({ type: "welcome", term: null, wall_seq: null, ...wall }), "gap");
  assert.equal(view.take(delta(2, "available")), "gap");
  assert.equal(view.take({ type: "wall", term: "t1", wall_seq: 1, ...wall }), "applied");
  assert.equal(view.take(delta(2, "available")), "applied");
  assert.equal(view.take(delta(2, "busy")), "stale");
  assert.equal(view.take(delta(4, "busy")), "gap");
  assert.equal(view.take(delta(3, "busy", "t2")), "gap");
  assert.equal(view.wall.agents[0].state, "available");
  assert.equal(view.take({ type: "wall", term: "t2", wall_seq: 9, ...wall }), "applied");
  assert.equal(view.take(delta(10, "busy", "t2")), "applied");
  assert.deepEqual([view.term, view.wallSeq, view.wall.agents[0].state], ["t2", 10, "busy"]);
});
