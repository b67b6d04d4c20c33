// The admin console's hours form <-> the API's JSON (static/admin/hours.js). Run: node --test tests/js/
import assert from "node:assert/strict";
import { test } from "node:test";

import { hoursFromForm, hoursSummary, hoursToForm, parseIntervals } from "../../static/admin/hours.js";

const days = (values) => ({ mon: "", tue: "", wed: "", thu: "", fri: "", sat: "", sun: "", ...values });

test("a day's text becomes intervals; a bad one names the day", () => {
  assert.deepEqual(parseIntervals("9:00-12:00, 13:00 - 17:30", "Monday"), [["09:00", "12:00"], ["13:00", "17:30"]]);
  assert.deepEqual(parseIntervals("  ", "Monday"), []);
  assert.throws(() => parseIntervals("9 to 5", "Monday"), /Monday: "9 to 5" is not like 09:00-17:00/);
});

test("the form becomes the API's hours and back", () => {
  const form = { always: false, days: days({ mon: "09:00-17:00", sat: "22:00-02:00" }),
    exceptions: "2026-12-25 closed\n2026-12-24 09:00-12:00\n" };
  const hours = hoursFromForm(form);
  assert.deepEqual(hours, {
    weekly: { mon: [["09:00", "17:00"]], sat: [["22:00", "02:00"]] },
    exceptions: [{ date: "2026-12-25", closed: true }, { date: "2026-12-24", hours: [["09:00", "12:00"]] }],
  });
  assert.deepEqual(hoursToForm(hours), { ...form, exceptions: "2026-12-25 closed\n2026-12-24 09:00-12:00" });
  assert.equal(hoursFromForm({ ...form, always: true }), null);
  assert.throws(() => hoursFromForm({ ...form, exceptions: "Christmas closed" }), /start with a date/);
});

test("a summary groups equal days", () => {
  const weekdays = Object.fromEntries(["mon", "tue", "wed", "thu", "fri"].map((d) => [d, [["09:00", "17:00"]]]));
  assert.equal(hoursSummary(null), "Always open");
  assert.equal(hoursSummary({ weekly: weekdays, exceptions: [{ date: "2026-12-25", closed: true }] }),
    "Mon–Fri 09:00-17:00 · 1 special day");
  assert.equal(hoursSummary({ weekly: {}, exceptions: [] }), "Never open");
});
