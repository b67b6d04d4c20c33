// The staff pages' language: the desk, the wall, the admin console, the planner, the reports
// and the sign-in page speak the language the server put in <html lang> (the staff member's
// profile, else their browser's Accept-Language: desktop/web/locales.py).
//
// Each page family has its catalogues beside its script (static/desk/messages-zh-CN.js, ...),
// and the shell every page shares (the top bar, the sign-in page) has its own here
// (static/common/messages-<locale>.js). Only the page's language is fetched. Messages are
// formatted by the widget's own formatter (static/common/i18n.js) on the browser's Intl.
//
// The server-rendered HTML is written in English and marks what it says:
//   data-i18n="key"                  the element's text
//   data-i18n-attr="title:key;aria-label:key2;placeholder:key3"
//   data-i18n-values='{"name":"…"}'  the placeholders of the element's messages
// translate() replaces them once the catalogue is there; until then a non-English page is
// hidden by app.css (html.i18n-pending), at most a moment.
import { createMessages, matchLocale } from "./i18n.js";

export const LOCALES = ["en", "zh-CN", "zh-TW"];

const SHELL = {
  en: () => import("./messages-en.js"),
  "zh-CN": () => import("./messages-zh-CN.js"),
  "zh-TW": () => import("./messages-zh-TW.js"),
};

/** The roles as the top bar names them (the server sends the code). */
const ROLES = { agent: "role.agent", supervisor: "role.supervisor", admin: "role.admin", planner: "role.planner" };

// The wrap-up outcomes a queue starts with (desktop/contacts/card.py DEFAULT_DISPOSITIONS) are
// stored as these English words, the codes; a queue's own list (the admin's) shows as typed.
const DISPOSITIONS = {
  "Resolved": "disposition.resolved", "Sale made": "disposition.sale_made", "Follow-up needed": "disposition.follow_up",
  "Callback scheduled": "disposition.callback_scheduled", "Not interested": "disposition.not_interested",
  "Wrong number": "disposition.wrong_number", "No answer": "disposition.no_answer", "Escalated": "disposition.escalated",
};

/** A disposition as the reader says it: the default ones translated, others as stored. */
export function dispositionName(t, disposition) {
  const key = DISPOSITIONS[disposition];
  return key ? t(key) : String(disposition ?? "");
}

// The queue a fresh install makes (desktop/repository/admin.py DEFAULT_QUEUE) is titled in
// English by the product: shown in the reader's language until an admin gives it a title of
// the centre's own (which then shows as typed, like every other queue's).
const DEFAULT_QUEUE = { name: "general", title: "General", key: "defaults.queue_title" };

/** A queue's title as the reader says it: ``queue`` is {name, title} (title may be absent). */
export function queueName(t, queue) {
  const { name, title } = queue || {};
  if (name === DEFAULT_QUEUE.name && (title ?? DEFAULT_QUEUE.title) === DEFAULT_QUEUE.title) return t(DEFAULT_QUEUE.key);
  return title || name || "";
}

/** Whether a disposition is one of the defaults (so translated; else the centre's own words). */
export const isDefaultDisposition = (disposition) => disposition in DISPOSITIONS;

/** The page's language: <html lang>, one of LOCALES (English without a page: node's tests). */
export function pageLocale(doc = globalThis.document) {
  return (doc && matchLocale(doc.documentElement.lang, LOCALES)) ?? "en";
}

/**
 * The messages of this page, its catalogue fetched for the page's language (English if that
 * fails), the shell's words looked up after it; the page's marked HTML translated.
 *
 * @param {object|null} page  locale → () => import("./messages-<locale>.js"), or null (shell only)
 */
export async function staffMessages(page, doc = globalThis.document) {
  const locale = pageLocale(doc);
  const load = async (catalogues, tag) => {
    if (!catalogues) return {};
    try {
      return (await catalogues[tag]()).default;
    } catch (error) {
      console.warn(`otodesk: the ${tag} messages could not be loaded`, error);
      return tag === "en" ? {} : load(catalogues, "en");
    }
  };
  const [own, shell] = await Promise.all([load(page, locale), load(SHELL, locale)]);
  const messages = withStaffFormats(createMessages(locale, own, shell));
  if (!doc) return messages;
  translate(doc, messages.t);
  wireShell(doc, messages.t);
  doc.documentElement.classList.remove("i18n-pending");
  return messages;
}

/** The formats staff pages add to the widget's: short durations, "4 min ago", percentages. */
export function withStaffFormats(messages) {
  const { locale } = messages;
  const relative = new Intl.RelativeTimeFormat(locale, { numeric: "auto" });
  const percents = {};
  const units = {};
  const unit = (name) => (units[name] ??= new Intl.NumberFormat(locale, { style: "unit", unit: name, unitDisplay: "short" }));

  /** 42 → "42 sec" / "42秒", 200 → "3 min", 7300 → "2 hr, 2 min"; missing → "—". */
  function shortDuration(seconds) {
    if (seconds === null || seconds === undefined || !isFinite(seconds)) return "—";
    const s = Math.max(0, Math.round(seconds));
    return s < 60 ? unit("second").format(s) : messages.duration(s);
  }

  /** How long ago: "now", "4 minutes ago", "3 hours ago" / "4分钟前", or the date and time. */
  function ago(at, now = Date.now() / 1000) {
    if (!at) return "";
    const delta = now - at;
    if (delta < 45) return relative.format(0, "second");
    if (delta < 3600) return relative.format(-Math.round(delta / 60), "minute");
    if (delta < 86400) return relative.format(-Math.round(delta / 3600), "hour");
    return messages.dateTime(at, now);
  }

  /** A value in [0, 1] (or already a percentage, when above 1) as "87%" / "87%"; null → "—". */
  function percent(value, digits = 0) {
    if (value === null || value === undefined || !isFinite(value)) return "—";
    const ratio = value > 1 ? value / 100 : value;
    const format = (percents[digits] ??= new Intl.NumberFormat(locale, { style: "percent", maximumFractionDigits: digits, minimumFractionDigits: digits }));
    return format.format(ratio);
  }

  /** A ratio as a percentage, whatever its size: 1.25 → "125%" (a zoom), 0.5 → "50%". */
  const ratios = new Intl.NumberFormat(locale, { style: "percent", maximumFractionDigits: 0 });
  const ratio = (value) => (value === null || value === undefined || !isFinite(value) ? "—" : ratios.format(value));

  /** A date (epoch seconds) without the time: "Tue, 3 Mar" / "3月3日周二". */
  const dayFormat = new Intl.DateTimeFormat(locale, { weekday: "short", day: "numeric", month: "short" });
  const day = (at) => (at ? dayFormat.format(new Date(at * 1000)) : "");

  /** An amount of money in the page's language: 1234.5 → "$1,234.50" / "US$1,234.50". */
  function money(amount, currency = "USD") {
    const value = Number(amount);
    if (!isFinite(value)) return String(amount ?? "");
    return new Intl.NumberFormat(locale, { style: "currency", currency }).format(value);
  }

  return { ...messages, shortDuration, ago, percent, ratio, day, money };
}

/** Replace the marked text and attributes under `root` (see the top of this file). */
export function translate(root, t) {
  const values = (element) => {
    try {
      return JSON.parse(element.dataset.i18nValues || "{}");
    } catch {
      return {};
    }
  };
  for (const element of root.querySelectorAll("[data-i18n]")) {
    element.textContent = t(element.dataset.i18n, values(element));
  }
  for (const element of root.querySelectorAll("[data-i18n-attr]")) {
    for (const pair of element.dataset.i18nAttr.split(";")) {
      const [name, key] = pair.split(":").map((s) => s.trim());
      if (name && key) element.setAttribute(name, t(key, values(element)));
    }
  }
  const title = root.querySelector?.("title[data-i18n-title]");
  if (title) title.textContent = t(title.dataset.i18nTitle);
}

/** The top bar: the role's name, and the language menu saving on change. */
function wireShell(doc, t) {
  for (const element of doc.querySelectorAll("[data-role-name]")) {
    const key = ROLES[element.dataset.roleName];
    if (key) element.textContent = t(key);
  }
  const form = doc.querySelector("[data-locale-form]");
  const select = form?.querySelector("select");
  if (!select) return;
  select.addEventListener("change", () => {
    form.querySelector('[name="next"]').value = location.pathname + location.search;
    form.requestSubmit();
  });
}
