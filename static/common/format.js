// Formatting shared by the widget, the desk and the wall. All times are epoch
// seconds (float), as in the protocol.

/** 65 -> "1:05", 3725 -> "1:02:05"; negative or missing -> "0:00". */
export function clock(seconds) {
  const total = Math.max(0, Math.floor(Number(seconds) || 0));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const mm = h ? String(m).padStart(2, "0") : String(m);
  return `${h ? `${h}:` : ""}${mm}:${String(s).padStart(2, "0")}`;
}

/** 1 -> "1st", 2 -> "2nd", 11 -> "11th", 23 -> "23rd". */
export function ordinal(n) {
  const rem100 = n % 100;
  if (rem100 >= 11 && rem100 <= 13) return `${n}th`;
  return `${n}${{ 1: "st", 2: "nd", 3: "rd" }[n % 10] || "th"}`;
}

/** Estimated wait in words: null -> "estimating…", 40 -> "less than a minute", 170 -> "about 3 min". */
export function waitText(seconds) {
  if (seconds === null || seconds === undefined || !isFinite(seconds)) return "estimating…";
  if (seconds < 60) return "less than a minute";
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `about ${minutes} min`;
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  return rest ? `about ${hours} h ${rest} min` : `about ${hours} h`;
}

/** A short human duration: 42 -> "42 s", 200 -> "3 min", 7300 -> "2 h 1 min". */
export function shortDuration(seconds) {
  if (seconds === null || seconds === undefined || !isFinite(seconds)) return "—";
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  const m = Math.round(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  return m % 60 ? `${h} h ${m % 60} min` : `${h} h`;
}

/** How long ago, from `now`: "just now", "4 min ago", "3 h ago", or the date. */
export function ago(at, now = Date.now() / 1000) {
  if (!at) return "";
  const delta = now - at;
  if (delta < 45) return "just now";
  if (delta < 3600) return `${Math.round(delta / 60)} min ago`;
  if (delta < 86400) return `${Math.round(delta / 3600)} h ago`;
  return dateTime(at);
}

/** "14:05" (local time). */
export function timeOfDay(at) {
  if (!at) return "";
  return new Date(at * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

/** "Tue 3 Mar, 14:05"; today's date shows as "today, 14:05", tomorrow's as "tomorrow, 14:05". */
export function dateTime(at, now = Date.now() / 1000) {
  if (!at) return "";
  const date = new Date(at * 1000);
  const day = (d) => new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
  const days = Math.round((day(date) - day(new Date(now * 1000))) / 86400000);
  const time = timeOfDay(at);
  if (days === 0) return `today, ${time}`;
  if (days === 1) return `tomorrow, ${time}`;
  if (days === -1) return `yesterday, ${time}`;
  return `${date.toLocaleDateString([], { weekday: "short", day: "numeric", month: "short" })}, ${time}`;
}

/** A value in [0, 1] (or already a percentage, when above 1) as "87%"; null -> "—". */
export function percent(value, digits = 0) {
  if (value === null || value === undefined || !isFinite(value)) return "—";
  const pct = value > 1 ? value : value * 100;
  return `${pct.toFixed(digits)}%`;
}

/** A money amount: 1234.5 -> "$1,234.50" (the currency is the demo's). */
export function money(amount, currency = "USD") {
  const value = Number(amount);
  if (!isFinite(value)) return String(amount ?? "");
  try {
    return new Intl.NumberFormat(undefined, { style: "currency", currency }).format(value);
  } catch {
    return value.toFixed(2);
  }
}

/** A URL shown short: host + path, without the scheme and the trailing slash. */
export function shortUrl(url) {
  try {
    const u = new URL(url);
    const path = (u.pathname + u.search).replace(/\/$/, "");
    return `${u.host}${path}`;
  } catch {
    return String(url ?? "");
  }
}

/** "sales" -> "Sales"; "wrap_up" -> "Wrap up". */
export function label(word) {
  const text = String(word ?? "").replace(/_/g, " ");
  return text.charAt(0).toUpperCase() + text.slice(1);
}
