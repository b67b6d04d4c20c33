// The reports' tables in the page's language. The server names columns and rows by code
// (column keys, comparison names); their labels in its JSON are English and stay for the CSV.
import { dispositionName, isDefaultDisposition } from "../common/staff-language.js";
import { t } from "./i18n.js";

const COLUMNS = {
  offered: "col.offered", answered: "col.answered", abandoned: "col.abandoned", short_abandoned: "col.short_abandoned",
  service_level: "col.service_level", abandon_rate: "col.abandon_rate", average_speed_of_answer: "col.asa",
  average_handle_time: "col.aht", average_talk: "col.talk", average_hold: "col.hold", average_wrap_up: "col.wrap_up",
  scheduled_kept: "col.scheduled_kept", scheduled_missed: "col.scheduled_missed", browser: "col.browser", phone: "col.phone",
  phone_inbound: "col.phone_inbound", closed: "col.closed",
  offers: "col.offers", accepted: "col.accepted", declined: "col.declined", missed: "col.missed",
  staffed_seconds: "col.staffed", occupancy: "col.occupancy", label: "col.range", from: "col.from", to: "col.to",
  queue: "col.queue", period: "col.period", agent: "col.agent", disposition: "col.disposition", count: "col.contacts",
  share: "col.share",
  // Self-service (desktop/analytics/kb_report.py).
  title: "col.article", language: "col.language", views: "col.views", readers: "col.readers", solved: "col.solved",
  still_wanted_call: "col.still_wanted_call", calls_after_reading: "col.calls_after_reading", solved_rate: "col.solved_rate",
  deflection_rate: "col.deflection_rate",
  // Ratings and reopens (desktop/analytics/satisfaction.py).
  by: "col.by", name: "col.name", contacts: "col.contacts_wrapped", summaries: "col.summaries", rated: "col.rated",
  rated_share: "col.rated_share", average_rating: "col.average_rating", reopened: "col.reopened", reopen_rate: "col.reopen_rate",
};
const UNITS = { percent: "unit.percent", seconds: "unit.seconds", hours: "unit.hours" };
const BY = { Queue: "by.queue", Agent: "by.agent", All: "by.all" };
const LANGUAGE_NAMES = { en: "English", "zh-CN": "简体中文", "zh-TW": "繁體中文" };
const RANGES = { this_range: "range.this_range", previous_week: "range.previous_week", previous_month: "range.previous_month", previous_year: "range.previous_year" };

/** A column's header: its name and unit ("ASA (s)", "平均应答（秒）"); an unknown column by its label. */
export function columnHeader(column) {
  const label = COLUMNS[column.key] ? t(COLUMNS[column.key]) : column.label;
  return UNITS[column.unit] ? t(UNITS[column.unit], { label }) : label;
}

/**
 * A text cell of table `table`, column `key`: [text, whether it is the centre's own data
 * (a queue's title, an agent's name: not translated)].
 */
export function textCell(table, key, row) {
  const value = String(row[key] ?? "");
  if (table === "comparison" && key === "label" && RANGES[row.name]) return [t(RANGES[row.name]), false];
  // The queues table's last row totals them; the server writes it in English.
  if (table === "queues" && key === "queue" && value === "All queues") return [t("row.all_queues"), false];
  if (key === "disposition") return [dispositionName(t, value), !isDefaultDisposition(value)];
  // The ratings table: what a row is ("Queue", "Agent", "All") and the total row, in English.
  if (table === "satisfaction" && key === "by" && BY[value]) return [t(BY[value]), false];
  if (table === "satisfaction" && key === "name") return value === "All contacts" ? [t("row.all_contacts"), false] : [value, true];
  if (key === "queue" || key === "agent") return [value, true];
  // An article's title is the admin's words; its language a code shown by its own name.
  if (table === "kb_deflection" && key === "title") return [value, true];
  if (table === "kb_deflection" && key === "language") return [LANGUAGE_NAMES[value] || value, true];
  return [value, false];
}
