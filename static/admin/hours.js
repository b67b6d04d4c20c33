// Business hours between the admin form's text and the API's JSON (desktop/routing/hours.py
// checks them; this only reshapes): "09:00-12:00, 13:00-17:00" per weekday, and lines of
// "2026-12-25 closed" or "2026-12-24 09:00-12:00" for dated exceptions.
//
// What it says (errors, summaries) comes from `words` (hoursWords(): the admin catalogue's
// `t` and the weekdays' names from Intl in the page's language).

export const DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/** The words of the functions below: `t` of the admin catalogue, weekday names in `locale`. */
export function hoursWords(t, locale) {
  const names = (weekday) => {
    const format = new Intl.DateTimeFormat(locale, { weekday, timeZone: "UTC" });
    // 2024-01-01 was a Monday.
    return Object.fromEntries(DAYS.map((key, i) => [key, format.format(new Date(Date.UTC(2024, 0, 1 + i)))]));
  };
  return { t, long: names("long"), short: names("short") };
}

/** "09:00-12:00, 13:00-17:00" -> [["09:00","12:00"],["13:00","17:00"]]; throws on a bad part. */
export function parseIntervals(text, where, words) {
  const parts = String(text || "").split(",").map((part) => part.trim()).filter(Boolean);
  return parts.map((part) => {
    const match = /^(\d{1,2}):(\d{2})\s*[-–]\s*(\d{1,2}):(\d{2})$/.exec(part);
    if (!match) throw new Error(words.t("hours.not_like", { where, part }));
    const pad = (n) => String(n).padStart(2, "0");
    return [`${pad(match[1])}:${match[2]}`, `${pad(match[3])}:${match[4]}`];
  });
}

export function intervalsText(intervals) {
  return (intervals || []).map(([start, end]) => `${start}-${end}`).join(", ");
}

/** The form's texts -> the API's hours (null: always open). */
export function hoursFromForm({ always, days, exceptions }, words) {
  if (always) return null;
  const weekly = {};
  for (const key of DAYS) {
    const intervals = parseIntervals(days[key], words.long[key], words);
    if (intervals.length) weekly[key] = intervals;
  }
  const list = [];
  for (const line of String(exceptions || "").split("\n").map((l) => l.trim()).filter(Boolean)) {
    const [date, ...rest] = line.split(/\s+/);
    if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) throw new Error(words.t("hours.start_with_date", { line }));
    const what = rest.join(" ");
    // "closed", or the page's language's word for it.
    if (!what || /^closed$/i.test(what) || what === words.t("hours.closed_word")) list.push({ date, closed: true });
    else list.push({ date, hours: parseIntervals(what, date, words) });
  }
  return { weekly, exceptions: list };
}

/** The API's hours -> the form's texts (a closed day says the page's word for it). */
export function hoursToForm(hours, words) {
  const days = Object.fromEntries(DAYS.map((key) => [key, intervalsText(hours?.weekly?.[key])]));
  const exceptions = (hours?.exceptions || [])
    .map((item) => `${item.date} ${item.closed || !item.hours?.length ? words.t("hours.closed_word") : intervalsText(item.hours)}`)
    .join("\n");
  return { always: !hours, days, exceptions };
}

/** A short summary for the queue list: "Mon–Fri 09:00-17:00 · 1 special day". */
export function hoursSummary(hours, words) {
  const { t, short } = words;
  if (!hours) return t("hours.always");
  const groups = [];
  for (const key of DAYS) {
    const text = intervalsText(hours.weekly?.[key]);
    const last = groups[groups.length - 1];
    if (last && last.text === text) last.to = key;
    else groups.push({ from: key, to: key, text });
  }
  const open = groups.filter((g) => g.text).map((g) => t(g.to !== g.from ? "hours.days_range" : "hours.day",
    { from: short[g.from], to: short[g.to], hours: g.text }));
  const summary = open.join(t("hours.separator")) || t("hours.never");
  return hours.exceptions?.length ? t("hours.special", { summary, count: hours.exceptions.length }) : summary;
}
