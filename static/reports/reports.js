// The reports page: asks /api/v1/reports for the chosen range, fills the tiles, the chart
// (uPlot, static/vendor) and every table; each table's CSV link asks the same range.
import { cell, header, isoDay, preset } from "./format.js";

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
  status.textContent = "Loading…";
  status.hidden = false;
  errorBox.hidden = true;
  root.dataset.state = "loading";
  let response;
  try {
    response = await fetch(`/api/v1/reports?${params}`, { headers: { accept: "application/json" } });
  } catch {
    return failed("The server could not be reached; try again.");
  }
  const body = await response.json().catch(() => null);
  if (!response.ok) return failed(body?.error?.message || `The report could not be made (${response.status}).`);
  render(body);
  status.textContent = `${body.range.from} to ${body.range.to}, by ${body.range.period}.`;
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

const TILES = [
  ["offered", "Offered", "count"], ["answered", "Answered", "count"], ["abandoned", "Abandoned", "count"],
  ["service_level", "Service level", "percent"], ["average_speed_of_answer", "ASA", "seconds"],
  ["average_handle_time", "AHT", "seconds"],
];

function renderTotals(report) {
  const box = root.querySelector("[data-totals]");
  const earlier = report.tables.comparison.rows.find((row) => row.name === "previous_week");
  box.replaceChildren(...TILES.map(([key, label, unit]) => {
    const tile = document.createElement("div");
    tile.className = "card tile";
    tile.dataset.metric = key;
    const value = report.totals[key];
    const suffix = { percent: "%", seconds: " s" }[unit] || "";
    const shown = value === null || value === undefined ? "—" : `${cell(value, unit)}${suffix}`;
    const before = earlier?.[key];
    let change = "no earlier figure";
    if (value !== null && value !== undefined && before !== null && before !== undefined) {
      const delta = unit === "percent" ? (value - before) * 100 : value - before;
      const sign = delta > 0 ? "+" : delta < 0 ? "−" : "±";
      const digits = unit === "count" ? 0 : 1;
      change = `${sign}${Math.abs(delta).toFixed(digits)}${unit === "percent" ? " pts" : unit === "seconds" ? " s" : ""} vs a week before`;
    }
    tile.innerHTML = `<span class="label"></span><span class="value"></span><span class="change muted"></span>`;
    tile.querySelector(".label").textContent = label;
    tile.querySelector(".value").textContent = shown;
    tile.querySelector(".change").textContent = change;
    return tile;
  }));
}

const SERIES = [["offered", "Offered", "#4338ca"], ["answered", "Answered", "#059669"], ["abandoned", "Abandoned", "#dc2626"]];

function renderChart(chart) {
  const container = root.querySelector("[data-chart]");
  const uPlot = window.uPlot;
  if (!uPlot) {
    container.textContent = "The chart library is not installed (run: npm ci && node static/copy-vendor.mjs).";
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
      { label: "Period", value: (u, v) => (v === null || v === undefined ? "—" : chart.labels[v] ?? "") },
      ...SERIES.map(([, label, stroke]) => ({ label, stroke, width: 2, points: { show: xs.length < 60 } })),
    ],
  }, data, container);
  const total = (key) => chart[key].reduce((sum, value) => sum + value, 0);
  container.setAttribute("aria-label", `Contacts by period, ${chart.labels[0] ?? ""} to ${chart.labels.at(-1) ?? ""}: `
    + SERIES.map(([key, label]) => `${label.toLowerCase()} ${total(key)}`).join(", ") + ".");
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
    th.textContent = header(column);
    if (column.unit !== "text") th.className = "num";
    head.append(th);
  }
  element.tHead.replaceChildren(head);
  const rows = table.rows.map((row) => {
    const tr = document.createElement("tr");
    for (const column of table.columns) {
      const td = document.createElement("td");
      td.textContent = cell(row[column.key], column.unit);
      if (column.unit !== "text") td.className = "num";
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
    td.textContent = table.omitted
      ? `${table.omitted.toLocaleString("en")} rows: too many to show here; download the CSV, or choose a longer period.`
      : "Nothing in this range.";
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
load();
