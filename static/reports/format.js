// How a report's value is written: the same rule as desktop/analytics/report.py's cell(),
// so the page and its CSV read alike.

/** A raw value of a column's unit ("count", "percent" 0-1, "seconds", "hours" in seconds, "text") as text. */
export function cell(value, unit) {
  if (value === null || value === undefined) return "";
  if (unit === "percent") return (value * 100).toFixed(1);
  if (unit === "seconds") return Number(value).toFixed(1);
  if (unit === "hours") return (value / 3600).toFixed(1);
  if (unit === "count") return String(Math.trunc(value));
  return String(value);
}

/** A column's header: its label and unit. */
export function header(column) {
  const suffix = { percent: " (%)", seconds: " (s)", hours: " (h)" }[column.unit] || "";
  return `${column.label}${suffix}`;
}

/** "YYYY-MM-DD" of `date` as seen in `timeZone`. */
export function isoDay(date, timeZone) {
  const parts = new Intl.DateTimeFormat("en-CA", { timeZone, year: "numeric", month: "2-digit", day: "2-digit" })
    .formatToParts(date);
  const get = (type) => parts.find((part) => part.type === type).value;
  return `${get("year")}-${get("month")}-${get("day")}`;
}

/** `day` ("YYYY-MM-DD") plus `days` (may be negative). */
export function addDays(day, days) {
  const moment = new Date(`${day}T00:00:00Z`);
  moment.setUTCDate(moment.getUTCDate() + days);
  return moment.toISOString().slice(0, 10);
}

/** The [from, to] days of a quick range, given today's day in the centre's zone. */
export function preset(name, today) {
  if (name === "last-week") {
    const weekday = (new Date(`${today}T00:00:00Z`).getUTCDay() + 6) % 7; // Monday 0
    const monday = addDays(today, -weekday - 7);
    return [monday, addDays(monday, 6)];
  }
  const days = { "last-7": 7, "last-30": 30, "last-90": 90 }[name] || 7;
  return [addDays(today, -days), addDays(today, -1)];
}
