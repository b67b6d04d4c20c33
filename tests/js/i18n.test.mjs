// The message functions (static/common/i18n.js) and the widget's choice of language
// (static/widget/language.js). Run: node --test tests/js/
import assert from "node:assert/strict";
import { test } from "node:test";

import { createMessages, firstMatch, matchLocale } from "../../static/common/i18n.js";
import { LOCALES, WidgetLanguage } from "../../static/widget/language.js";

const catalogue = {
  "a.hello": "Hello {name}",
  "a.fields": { $plural: "count", one: "{count} field", other: "{count} fields" },
  "a.place": { $ordinal: "n", one: "{n}st", two: "{n}nd", few: "{n}rd", other: "{n}th" },
  "date.day_time": "{day}, {time}",
};

test("placeholders by name, numbers in the locale's digits grouping, unknown keys as themselves", () => {
  const { t } = createMessages("en", catalogue);
  assert.equal(t("a.hello", { name: "Ann" }), "Hello Ann");
  assert.equal(t("a.hello"), "Hello {name}"); // a missing value shows, it doesn't vanish
  assert.equal(t("a.fields", { count: 1234 }), "1,234 fields");
  assert.equal(t("no.such"), "no.such");
});

test("plural and ordinal forms chosen by Intl.PluralRules, `other` when a language has no more", () => {
  const en = createMessages("en", catalogue);
  assert.deepEqual([0, 1, 2].map((count) => en.t("a.fields", { count })), ["0 fields", "1 field", "2 fields"]);
  assert.deepEqual([1, 2, 3, 4, 11, 12, 13, 21, 22, 101, 111].map((n) => en.t("a.place", { n })),
    ["1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "101st", "111th"]);
  const zh = createMessages("zh-CN", { "a.fields": { $plural: "count", other: "{count}个字段" } });
  assert.equal(zh.t("a.fields", { count: 1 }), "1个字段");
});

test("durations, times and days from Intl in the locale", () => {
  const en = createMessages("en", catalogue);
  const zh = createMessages("zh-CN", { "date.day_time": "{day} {time}" });
  assert.match(en.duration(170), /^3 min/);
  assert.match(en.duration(3900), /1 hr.*5 min/);
  assert.match(zh.duration(170), /^3\s?分钟$/);
  assert.match(zh.duration(3900), /1\s?小时.*5\s?分钟/);
  const now = new Date(2031, 4, 6, 9, 0).getTime() / 1000;
  const tomorrow = new Date(2031, 4, 7, 14, 5).getTime() / 1000;
  assert.match(en.dateTime(tomorrow, now), /^tomorrow, 2:05\sPM$/);
  assert.match(zh.dateTime(tomorrow, now), /^明天 14:05$/);
  assert.match(zh.dateTime(now + 5 * 86400, now), /5月11日/);
  assert.equal(en.list(["Ann", "Bo", "Cy"]), "Ann, Bo, and Cy");
});

test("the locale that serves a tag: Chinese by script, regions fall back to their language", () => {
  const cases = { en: "en", "en-GB": "en", zh: "zh-CN", "zh-CN": "zh-CN", "zh-cn": "zh-CN", "zh-Hans": "zh-CN", "zh-SG": "zh-CN",
    "zh-TW": "zh-TW", "zh-HK": "zh-TW", "zh-MO": "zh-TW", "zh-Hant": "zh-TW", zh_TW: "zh-TW", fr: null, "": null, "not a tag!": null };
  for (const [tag, expected] of Object.entries(cases)) assert.equal(matchLocale(tag, LOCALES), expected, tag);
  assert.equal(matchLocale(undefined, LOCALES), null);
  assert.equal(firstMatch(["fr-FR", "de", "zh-HK", "en"], LOCALES), "zh-TW");
  assert.equal(firstMatch(["fr"], LOCALES), null);
});

test("the page's choice wins over the site's setting, which wins over the browser", async () => {
  const language = new WidgetLanguage({ browser: ["fr-FR", "zh-TW"] });
  assert.equal(language.locale, "zh-TW");
  assert.equal(language.t("launcher.call"), "回電給我"); // before any catalogue: the launcher's words
  await language.site("zh-CN");
  assert.equal(language.locale, "zh-CN");
  assert.equal(language.t("panel.title"), "请给我回电");
  const seen = [];
  language.onChange((locale) => seen.push(locale));
  await language.set("en-US");
  assert.equal(language.t("panel.title"), "Call me back");
  await language.site("zh-TW"); // the page said: the site's setting changes nothing now
  assert.equal(language.locale, "en");
  await language.set(null);
  assert.equal(language.locale, "zh-TW");
  assert.deepEqual(seen, ["en", "zh-TW"]);
  await assert.rejects(language.set("fr"), /not one of en, zh-CN, zh-TW/);
  assert.equal(new WidgetLanguage({ requested: "zh-HK", browser: ["en"] }).locale, "zh-TW");
  assert.equal(new WidgetLanguage({ browser: ["fr", "de"] }).locale, "en");
  // The contact centre's setting as the last welcome said (kept by widget.js): drawn in at once.
  assert.equal(new WidgetLanguage({ site: "zh-CN", browser: ["zh-TW"] }).locale, "zh-CN");
});
