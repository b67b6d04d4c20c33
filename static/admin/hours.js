// Business hours between the admin form's text and the API's JSON (desktop/routing/hours.py
// checks them; this only reshapes): "09:00-12:00, 13:00-17:00" per weekday, and lines of
// "2026-12-25 closed" or "2026-12-24 09:00-12:00" for dated exceptions.

export const WEEKDAYS = [["mon", "Monday"], ["tue", "Tuesday"], ["wed", "Wednesday"], ["thu", "Thursday"],
  ["fri", "Friday"], ["sat", "Saturday"], ["sun", "Sunday"]];

/** "09:00-12:00, 13:00-17:00" -> [["09:00","12:00"],["13:00","17:00"]]; throws on a bad part. */
export function parseIntervals(text, where) {
  const parts = String(text || "").split(",").map((part) => part.trim()).filter(Boolean);
  return parts.map((part) => {
    const match = /^(\d{1,2}):(\d{2})\s*[-–]\s*(\d{1,2}):(\d{2})$/.exec(part);
    if (!match) throw new Error(`${where}: "${part}" is not like 09:00-17:00`);
    const pad = (n) => String(n).padStart(2, "0");
    return [`${pad(match[1])}:${match[2]}`, `${pad(match[3])}:${match[4]}`];
  });
}

export function intervalsText(intervals) {
  return (intervals || []).map(([start, end]) => `${start}-${end}`).join(", ");
}

/** The form's texts -> the API's hours (null: always open). */
export function hoursFromForm({ always, days, exceptions }) {
  if (always) return null;
  const weekly = {};
  for (const [key, name] of WEEKDAYS) {
    const intervals = parseIntervals(days[key], name);
    if (intervals.length) weekly[key] = intervals;
  }
  const list = [];
  for (const line of String(exceptions || "").split("\n").map((l) => l.trim()).filter(Boolean)) {
    const [date, ...rest] = line.split(/\s+/);
    if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) throw new Error(`"${line}": start with a date like 2026-12-25`);
    const what = rest.join(" ");
    if (!what || /^closed$/i.test(what)) list.push({ date, closed: true });
    else list.push({ date, hours: parseIntervals(what, date) });
  }
  return { weekly, exceptions: list };
}

/** The API's hours -> the form's texts. */
export function hoursToForm(hours) {
  const days = Object.fromEntries(WEEKDAYS.map(([key]) => [key, intervalsText(hours?.weekly?.[key])]));
  const exceptions = (hours?.exceptions || [])
    .map((item) => `${item.date} ${item.closed || !item.hours?.length ? "closed" : intervalsText(item.hours)}`)
    .join("\n");
  return { always: !hours, days, exceptions };
}

/** A short summary for the queue list: "Mon–Fri 09:00-17:00 · 1 special day". */
export function hoursSummary(hours) {
  if (!hours) return "Always open";
  const groups = [];
  for (const [key] of WEEKDAYS) {
    const text = intervalsText(hours.weekly?.[key]);
    const last = groups[groups.length - 1];
    if (last && last.text === text) last.to = key;
    else groups.push({ from: key, to: key, text });
  }
  const label = (key) => key[0].toUpperCase() + key.slice(1);
  const open = groups.filter((g) => g.text).map((g) => `${label(g.from)}${g.to !== g.from ? `–${label(g.to)}` : ""} ${g.text}`);
  const special = hours.exceptions?.length ? ` · ${hours.exceptions.length} special day${hours.exceptions.length === 1 ? "" : "s"}` : "";
  return (open.join("; ") || "Never open") + special;
}
