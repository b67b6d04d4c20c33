// The wall as one whole wall, then deltas (docs/protocol.md, "Supervisor (wall)"): pure, no DOM.
// The same as signaling/protocol/wall_delta.py, which the server composes a welcome with; a
// Python test runs both on the same walls (tests/unit/signaling/test_wall_delta_js.py).
//
//   const view = new WallView();
//   view.take(message)  // a welcome, `wall` or `wall_delta`: "applied" | "stale" | "gap"
//   view.wall           // {at, queues, agents, history}: what the page shows
//
// A delta applies only to the wall just before it in the same term; anything else is a gap,
// answered by asking for a whole wall (`wall_resync`), never by showing a wrong one.

const FIELDS = ["at", "queues", "agents", "history"];

/** The wall `delta` makes of `wall` (left as it was). */
export function applyDelta(wall, delta) {
  const removed = new Set(delta.queues_removed);
  const changed = new Map(delta.queues.map((row) => [row.name, row]));
  const queues = [];
  for (const row of wall.queues) {
    if (removed.has(row.name)) continue;
    queues.push(changed.get(row.name) ?? row);
    changed.delete(row.name);
  }
  queues.push(...changed.values()); // new queues, in the delta's order
  let agents = wall.agents;
  if (delta.agents.length || delta.agents_removed.length) {
    const byId = new Map(wall.agents.map((row) => [row.id, row]));
    for (const id of delta.agents_removed) byId.delete(id);
    for (const row of delta.agents) byId.set(row.id, row);
    // In order of id as the server sorts them (plain string order, not the locale's: ids are ASCII).
    agents = [...byId.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).map((id) => byId.get(id));
  }
  const history = { ...wall.history };
  for (const [queue, change] of Object.entries(delta.history)) {
    history[queue] = applySeries(history[queue] ?? [], change);
  }
  return { at: delta.at, queues, agents, history };
}

/** A queue's series after `change`: the old points from `from` up to the first new one, then the new ones. */
function applySeries(points, change) {
  const cut = change.points.length ? change.points[0][0] : Infinity;
  return [...points.filter(([at]) => change.from <= at && at < cut), ...change.points];
}

export class WallView {
  constructor() {
    this.wall = null;
    this.term = null;
    this.wallSeq = null;
  }

  /** Take a welcome, a `wall` or a `wall_delta`; returns "applied", "stale" (already shown) or "gap". */
  take(message) {
    if (message.type === "wall_delta") {
      if (this.wall === null || message.term !== this.term) return "gap";
      if (message.wall_seq <= this.wallSeq) return "stale";
      if (message.wall_seq !== this.wallSeq + 1) return "gap";
      this.wall = applyDelta(this.wall, message);
      this.wallSeq = message.wall_seq;
      return "applied";
    }
    if (message.term === null || message.term === undefined) return "gap"; // a welcome with no wall yet
    this.wall = Object.fromEntries(FIELDS.map((name) => [name, message[name]]));
    this.term = message.term;
    this.wallSeq = message.wall_seq;
    return "applied";
  }
}
