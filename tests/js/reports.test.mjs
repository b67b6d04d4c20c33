// The reports page's formatting: the same cells as the CSV (desktop/analytics/report.py cell()),
// and the quick ranges. Run: node --test tests/js/
import assert from "node:assert/strict";
import { test } from "node:test";

import { addDays, cell, header, isoDay, preset } from "../../static/reports/format.js";

test("cells read as the CSV writes them", () => {
  assert.deepEqual([cell(0.8125, "percent"), cell(41.25, "seconds"), cell(5400, "hours"), cell(3, "count"),
    cell(null, "percent"), cell("Sales", "text"), cell(0, "percent"), cell(0.33333, "percent")],
  ["81.3", "41.3", "1.5", "3", "", "Sales", "0.0", "33.3"]); // a tie rounds up, in the CSV too
  assert.equal(header({ label: "ASA", unit: "seconds" }), "ASA (s)");
  assert.equal(header({ label: "Queue", unit: "text" }), "Queue");
});

test("quick ranges end yesterday; last week is Monday to Sunday", () => {
  assert.deepEqual(preset("last-week", "2026-12-02"), ["2026-11-23", "2026-11-29"]); // a Wednesday
  assert.deepEqual(preset("last-week", "2026-11-30"), ["2026-11-23", "2026-11-29"]); // a Monday
  assert.deepEqual(preset("last-7", "2026-12-02"), ["2026-11-25", "2026-12-01"]);
  assert.deepEqual(preset("last-90", "2026-03-01"), ["2025-12-01", "2026-02-28"]);
  assert.equal(addDays("2024-02-28", 1), "2024-02-29");
});

test("today is the centre's, not the browser's", () => {
  const moment = new Date("2026-12-02T23:30:00Z");
  assert.equal(isoDay(moment, "UTC"), "2026-12-02");
  assert.equal(isoDay(moment, "Pacific/Auckland"), "2026-12-03");
  assert.equal(isoDay(moment, "America/Los_Angeles"), "2026-12-02");
});
