// Messages and numbers in the reader's language, for every page (the widget first).
//
// A catalogue maps a key to a message. A message is a string with named placeholders
// ("Connected with {agent}"), or, where a number changes the words, an object naming
// that number and giving the forms of Intl.PluralRules' categories:
//
//   "hidden.fields": { $plural: "count", one: "{count} field", other: "{count} fields" }
//   "ordinal":       { $ordinal: "n", one: "{n}st", two: "{n}nd", few: "{n}rd", other: "{n}th" }
//
// (`other` is always there; a language uses the categories it has: Chinese only `other`.)
// Sentences are whole messages, never pieced together, so a translator can reorder them.
// Dates, durations and relative days come from Intl in the same locale.
//
// Why not i18next or FormatJS: minified and gzipped they weigh 16.5 KB and 10.2 KB, more
// than the whole widget a page loads (docs/widget.md, "Languages"); the browser's own Intl
// does the hard part (plural rules, dates, units) for nothing.

const PLACEHOLDER = /\{(\w+)\}/g;

/** The supported locale that best serves `tag` ("zh-HK" → "zh-TW", "en-GB" → "en"), or null. */
export function matchLocale(tag, supported) {
  if (typeof tag !== "string" || !tag.trim()) return null;
  let locale;
  try {
    locale = new Intl.Locale(tag.trim().replace(/_/g, "-"));
  } catch {
    return null;
  }
  const exact = supported.find((s) => s.toLowerCase() === locale.toString().toLowerCase());
  if (exact) return exact;
  // Chinese is chosen by script: Traditional for Hong Kong, Macao and Taiwan, else Simplified.
  const full = locale.maximize();
  const same = supported.filter((s) => new Intl.Locale(s).language === locale.language);
  return same.find((s) => new Intl.Locale(s).maximize().script === full.script) ?? same[0] ?? null;
}

/** The first of `tags` that a supported locale serves, or null. */
export function firstMatch(tags, supported) {
  for (const tag of tags) {
    const found = matchLocale(tag, supported);
    if (found) return found;
  }
  return null;
}

/**
 * The message functions of one locale.
 *
 * @param {string} locale  a BCP 47 tag ("zh-CN")
 * @param {object} catalogue  key → message (see above)
 * @param {object} [extra]  more messages, looked up after the catalogue
 * @returns {{locale, t, number, duration, timeOfDay, dateTime, list, has}}
 *   `t(key, values)` never throws: an unknown key comes back as the key (tests catch it).
 */
export function createMessages(locale, catalogue, extra = {}) {
  const plural = new Intl.PluralRules(locale);
  const ordinal = new Intl.PluralRules(locale, { type: "ordinal" });
  const numbers = new Intl.NumberFormat(locale);
  const units = {};
  const unit = (name) => (units[name] ??= new Intl.NumberFormat(locale, { style: "unit", unit: name, unitDisplay: "short" }));
  const days = new Intl.RelativeTimeFormat(locale, { numeric: "auto" });
  const clock = new Intl.DateTimeFormat(locale, { hour: "numeric", minute: "2-digit" });
  const dayAndTime = new Intl.DateTimeFormat(locale, { weekday: "short", day: "numeric", month: "short", hour: "numeric", minute: "2-digit" });
  const lists = new Intl.ListFormat(locale, { type: "conjunction" });
  const durations = typeof Intl.DurationFormat === "function" ? new Intl.DurationFormat(locale, { style: "short" }) : null;

  const number = (value) => numbers.format(value);

  function fill(text, values) {
    return text.replace(PLACEHOLDER, (match, name) => {
      if (!(name in values)) return match;
      const value = values[name];
      return typeof value === "number" ? number(value) : String(value ?? "");
    });
  }

  function t(key, values = {}) {
    const message = catalogue[key] ?? extra[key];
    if (message === undefined) return key;
    if (typeof message === "string") return fill(message, values);
    const name = message.$plural ?? message.$ordinal;
    const rules = message.$ordinal ? ordinal : plural;
    const form = message[rules.select(Number(values[name]))] ?? message.other;
    return fill(form, values);
  }

  /** 200 → "3 min", 3900 → "1 hr, 5 min" / "1小时5分钟" (minutes, rounded; at least one). */
  function duration(seconds) {
    const minutes = Math.max(1, Math.round(seconds / 60));
    const hours = Math.floor(minutes / 60);
    const rest = minutes % 60;
    if (durations) return durations.format(hours ? { hours, minutes: rest } : { minutes });
    const parts = [hours && unit("hour").format(hours), (rest || !hours) && unit("minute").format(rest || minutes)];
    return parts.filter(Boolean).join(" ");
  }

  /** Epoch seconds as the time of day ("2:05 PM", "14:05", "下午2:05"). */
  const timeOfDay = (at) => (at ? clock.format(new Date(at * 1000)) : "");

  /** Epoch seconds as "today, 2:05 PM", "明天 14:05", or the weekday and date with the time. */
  function dateTime(at, now = Date.now() / 1000) {
    if (!at) return "";
    const date = new Date(at * 1000);
    const start = (d) => new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
    const offset = Math.round((start(date) - start(new Date(now * 1000))) / 86400000);
    if (Math.abs(offset) > 1) return dayAndTime.format(date);
    return t("date.day_time", { day: days.format(offset, "day"), time: timeOfDay(at) });
  }

  /** ["Alice", "Bob", "Carol"] → "Alice, Bob, and Carol" / "Alice、Bob和Carol". */
  const list = (items) => lists.format(items.map(String));

  const has = (key) => key in catalogue || key in extra;

  return { locale, t, number, duration, timeOfDay, dateTime, list, has };
}
