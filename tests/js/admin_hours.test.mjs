// The admin console's hours form <-> the API's JSON (static/admin/hours.js), in English and in
// Chinese (the admin catalogue's words, weekdays from Intl). Run: node --test tests/js/
import assert from "node:assert/strict";
import { test } from "node:test";

import english from "../../static/admin/messages-en.js";
import chinese from "../../static/admin/messages-zh-CN.js";
import { hoursFromForm, hoursSummary, hoursToForm, hoursWords, parseIntervals } from "../../static/admin/hours.js";
import { createMessages } from "../../static/common/i18n.js";

const words = hoursWords(createMessages("en", english).t, "en");
const days = (values) => ({ mon: "", tue: "", wed: "", thu: "", fri: "", sat: "", sun: "", ...values });

test("a day's text becomes intervals; a bad one names the day", () => {
  assert.deepEqual(parseIntervals("9:00-12:00, 13:00 - 17:30", "Monday", words), [["09:00", "12:00"], ["13:00", "17:30"]]);
  assert.deepEqual(parseIntervals("  ", "Monday", words), []);
  assert.throws(() => parseIntervals("9 to 5", "Monday", words), /Monday: "9 to 5" is not like 09:00-17:00/);
  assert.throws(() => hoursFromForm({ always: false, days: days({ tue: "9 to 5" }), exceptions: "" }, words), /^Error: Tuesday:/);
});

test("the form becomes the API's hours and back", () => {
  const form = { always: false, days: days({ mon: "09:00-17:00", sat: "22:00-02:00" }),
    exceptions: "2026-12-25 closed\n2026-12-24 09:00-12:00\n" };
  const hours = hoursFromForm(form, words);
  assert.deepEqual(hours, {
    weekly: { mon: [["09:00", "17:00"]], sat: [["22:00", "02:00"]] },
    exceptions: [{ date: "2026-12-25", closed: true }, { date: "2026-12-24", hours: [["09:00", "12:00"]] }],
  });
  assert.deepEqual(hoursToForm(hours, words), { ...form, exceptions: "2026-12-25 closed\n2026-12-24 09:00-12:00" });
  assert.equal(hoursFromForm({ ...form, always: true }, words), null);
  assert.throws(() => hoursFromForm({ ...form, exceptions: "Christmas closed" }, words), /start with a date/);
});

test("a summary groups equal days, in the page's language", () => {
  const weekdays = Object.fromEntries(["mon", "tue", "wed", "thu", "fri"].map((d) => [d, [["09:00", "17:00"]]]));
  const christmas = { weekly: weekdays, exceptions: [{ date: "2026-12-25", closed: true }] };
  assert.equal(hoursSummary(null, words), "Always open");
  assert.equal(hoursSummary(christmas, words), "Mon–Fri 09:00-17:00 · 1 special day");
  assert.equal(hoursSummary({ weekly: {}, exceptions: [] }, words), "Never open");
  const zh = hoursWords(createMessages("zh-CN", chinese).t, "zh-CN");
  assert.equal(hoursSummary(christmas, zh), "周一至周五 09:00-17:00 · 1个特殊日期");
  assert.throws(() => parseIntervals("9 to 5", zh.long.mon, zh), /星期一/);
  // A closed day in the admin's own language, or in English, both read.
  const form = { always: false, days: days({}), exceptions: "2026-12-25 休息\n2026-12-26 closed" };
  assert.deepEqual(hoursFromForm(form, zh).exceptions, [{ date: "2026-12-25", closed: true }, { date: "2026-12-26", closed: true }]);
  assert.equal(hoursToForm(hoursFromForm(form, zh), zh).exceptions, "2026-12-25 休息\n2026-12-26 休息");
});
