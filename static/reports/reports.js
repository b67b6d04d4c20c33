// The reports page: asks /api/v1/reports for the chosen range, fills the tiles, the chart
// (uPlot, static/vendor) and every table; each table's CSV link asks the same range.
import { ready } from "../common/dom.js";
import { errorText, responseError } from "../common/errors.js";
import { cell, isoDay, preset } from "./format.js";
import { number, t } from "./i18n.js";
import { columnHeader, textCell } from "./words.js";

const root = document.querySelector("[data-reports]");
const form = root.querySelector("[data-range-form]");
const errorBox = root.querySelector("[data-error]");
const status = root.querySelector("[data-status]");
const timeZone = root.dataset.timeZone || "UTC";
let plot = null;

function query() {
  const data = new FormData(form);
  return new URLSearchParams({ from: data.get("from"), to: data.get("to"), period: data.get("period") });
}

function fillForm(params) {
  const today = isoDay(new Date(), timeZone);
  const [from, to] = preset("last-7", today);
  form.elements.from.value = params.get("from") || from;
  form.elements.to.value = params.get("to") || to;
  form.elements.period.value = params.get("period") || "day";
  form.elements.to.max = today;
  form.elements.from.max = today;
}

async function load() {
  const params = query();
  history.replaceState(null, "", `?${params}`);
  for (const link of root.querySelectorAll("[data-csv]")) {
    link.href = `/api/v1/reports/${link.dataset.csv}.csv?${params}`;
  }
  status.textContent = t("reports.loading");
  status.hidden = false;
  errorBox.hidden = true;
  root.dataset.state = "loading";
  let response;
  try {
    response = await fetch(`/api/v1/reports?${params}`, { headers: { accept: "application/json" } });
  } catch {
    return failed(t("reports.unreachable"));
  }
  const body = await response.json().catch(() => null);
  // The words for the server's code (a range it refuses), in the reader's language.
  if (!response.ok) return failed(body?.error?.code ? errorText(t, responseError(response, body)) : t("reports.failed", { status: response.status }));
  render(body);
  status.textContent = t("reports.status", { from: body.range.from, to: body.range.to, period: t(PERIODS[body.range.period] ?? "reports.by_day") });
  root.dataset.state = "ready";
}

function failed(message) {
  errorBox.textContent = message;
  errorBox.hidden = false;
  status.hidden = true;
  root.dataset.state = "error";
}

function render(report) {
  renderTotals(report);
  renderChart(report.chart);
  for (const [name, table] of Object.entries(report.tables)) renderTable(name, table);
}

const PERIODS = { hour: "reports.by_hour", day: "reports.by_day", week: "reports.by_week" };
const TILES = [
  ["offered", "tile.offered", "count"], ["answered", "tile.answered", "count"], ["abandoned", "tile.abandoned", "count"],
  ["service_level", "tile.service_level", "percent"], ["average_speed_of_answer", "tile.asa", "seconds"],
  ["average_handle_time", "tile.aht", "seconds"],
];
const VALUE = { count: "tile.value", percent: "tile.value_percent", seconds: "tile.value_seconds" };
const CHANGE = { count: "tile.change", percent: "tile.change_points", seconds: "tile.change_seconds" };

function renderTotals(report) {
  const box = root.querySelector("[data-totals]");
  const earlier = report.tables.comparison.rows.find((row) => row.name === "previous_week");
  box.replaceChildren(...TILES.map(([key, label, unit]) => {
    const tile = document.createElement("div");
    tile.className = "card tile";
    tile.dataset.metric = key;
    const value = report.totals[key];
    const shown = value === null || value === undefined ? "—" : t(VALUE[unit], { value: cell(value, unit) });
    const before = earlier?.[key];
    let change = t("tile.no_earlier");
    if (value !== null && value !== undefined && before !== null && before !== undefined) {
      const delta = unit === "percent" ? (value - before) * 100 : value - before;
      const sign = delta > 0 ? "+" : delta < 0 ? "−" : "±";
      const digits = unit === "count" ? 0 : 1;
      change = t(CHANGE[unit], { change: `${sign}${Math.abs(delta).toFixed(digits)}` });
    }
    tile.innerHTML = `<span class="label"></span><span class="value"></span><span class="change muted"></span>`;
    tile.querySelector(".label").textContent = t(label);
    tile.querySelector(".value").textContent = shown;
    tile.querySelector(".change").textContent = change;
    return tile;
  }));
}

const SERIES = [["offered", "tile.offered", "#4338ca"], ["answered", "tile.answered", "#059669"], ["abandoned", "tile.abandoned", "#dc2626"]];

function renderChart(chart) {
  const container = root.querySelector("[data-chart]");
  const uPlot = window.uPlot;
  if (!uPlot) {
    container.textContent = t("chart.missing");
    return;
  }
  const xs = chart.labels.map((_, index) => index);
  const data = [xs, ...SERIES.map(([key]) => chart[key])];
  plot?.destroy();
  container.replaceChildren();
  const size = () => ({ width: Math.max(260, Math.floor(container.clientWidth)), height: 260 });
  plot = new uPlot({
    ...size(),
    legend: { show: true },
    padding: [12, 36, 0, 0], // room for the last period's label
    cursor: { drag: { x: false, y: false } },
    scales: { x: { time: false }, y: { range: (u, min, max) => [0, Math.max(4, Math.ceil((max || 0) * 1.15))] } },
    axes: [
      { stroke: "#5d6478", grid: { show: false }, values: (u, splits) => splits.map((v) => chart.labels[v] ?? "") },
      { stroke: "#5d6478", grid: { stroke: "#eceef3" } },
    ],
    series: [
      { label: t("chart.period"), value: (u, v) => (v === null || v === undefined ? "—" : chart.labels[v] ?? "") },
      ...SERIES.map(([, label, stroke]) => ({ label: t(label), stroke, width: 2, points: { show: xs.length < 60 } })),
    ],
  }, data, container);
  const total = (key) => chart[key].reduce((sum, value) => sum + value, 0);
  container.setAttribute("aria-label", t("chart.label", { from: chart.labels[0] ?? "", to: chart.labels.at(-1) ?? "",
    offered: total("offered"), answered: total("answered"), abandoned: total("abandoned") }));
  if (!container._observed && "ResizeObserver" in window) {
    new ResizeObserver(() => plot?.setSize(size())).observe(container);
    container._observed = true;
  }
}

function renderTable(name, table) {
  const element = root.querySelector(`[data-table="${name}"]`);
  if (!element) return;
  const head = document.createElement("tr");
  for (const column of table.columns) {
    const th = document.createElement("th");
    th.scope = "col";
    th.textContent = columnHeader(column);
    if (column.unit !== "text") th.className = "num";
    head.append(th);
  }
  element.tHead.replaceChildren(head);
  const rows = table.rows.map((row) => {
    const tr = document.createElement("tr");
    for (const column of table.columns) {
      const td = document.createElement("td");
      if (column.unit === "text") {
        const [text, data] = textCell(name, column.key, row);
        td.textContent = text;
        if (data) td.translate = false; // names the centre gave (queues, agents): not ours to translate
      } else {
        td.textContent = cell(row[column.key], column.unit);
        td.className = "num";
      }
      tr.append(td);
    }
    return tr;
  });
  if (!rows.length) {
    const tr = document.createElement("tr");
    tr.className = "empty";
    const td = document.createElement("td");
    td.colSpan = table.columns.length;
    td.className = "muted";
    td.textContent = table.omitted ? t("table.omitted", { count: table.omitted }) : t("table.empty");
    tr.append(td);
    rows.push(tr);
  }
  element.tBodies[0].replaceChildren(...rows);
}

for (const button of root.querySelectorAll("[data-preset]")) {
  button.addEventListener("click", () => {
    const [from, to] = preset(button.dataset.preset, isoDay(new Date(), timeZone));
    form.elements.from.value = from;
    form.elements.to.value = to;
    if (button.dataset.preset === "last-90" && form.elements.period.value === "hour") form.elements.period.value = "day";
    load();
  });
}
form.addEventListener("submit", (event) => {
  event.preventDefault();
  load();
});
fillForm(new URLSearchParams(location.search));
ready();
load();
