// The planner's "Results": what each action (per published version) achieved over a
// period, from GET /api/v1/rules/stats (desktop/suggestions/results.py): impressions,
// presentation rate, acceptance rate with its 95% interval (Wilson), attributed
// revenue, by queue and by value tier, and the last week against the one before.
import { errorText, responseError } from "../common/errors.js";
import { h, replace, setText } from "../common/dom.js";
import { money, number, percent, t } from "./i18n.js";
import { tierName } from "./kinds.js";

const DAY = 86400;

function isoDay(seconds) {
  return new Date(seconds * 1000).toISOString().slice(0, 10);
}

/** "42% (31–54%)": a rate and its 95% interval, or "—" without anyone to count. */
function rateText(rate, interval) {
  if (rate === null || rate === undefined) return "—";
  return interval ? t("stats.rate_interval", { rate: percent(rate), low: percent(interval[0]), high: percent(interval[1]) }) : percent(rate);
}

/** The interval as a bar: the range shaded, the rate marked (what a person reads at a glance). */
function intervalBar(rate, interval) {
  if (!interval) return null;
  const [low, high] = interval;
  return h("span", { class: "ci-bar", role: "img", "aria-label": t("stats.interval_label", { low: percent(low), high: percent(high) }) },
    h("span", { class: "ci-range", style: { left: `${low * 100}%`, width: `${Math.max(1, (high - low) * 100)}%` } }),
    h("span", { class: "ci-point", style: { left: `${rate * 100}%` } }));
}

function trendText(trend) {
  if (!trend) return "—";
  const parts = [];
  const change = trend.acceptance_rate_change;
  if (change !== null && change !== undefined) {
    const points = Math.round(change * 100);
    parts.push(t(points > 0 ? "stats.trend_up" : points < 0 ? "stats.trend_down" : "stats.trend_same", { points: Math.abs(points) }));
  }
  parts.push(t("stats.trend_shown", { count: trend.impressions, before: trend.impressions_before }));
  return parts.join(" · ");
}

function figuresRow(label, figures, testid) {
  return h("tr", { dataset: { testid } },
    h("th", { scope: "row" }, label),
    h("td", { class: "num", dataset: { testid: "stat-impressions" } }, number(figures.impressions)),
    h("td", { class: "num", dataset: { testid: "stat-presentation" } }, percent(figures.presentation_rate)),
    h("td", { class: "num", dataset: { testid: "stat-accepted" } }, t("stats.of", { accepted: figures.accepted, presented: figures.presented })),
    h("td", { dataset: { testid: "stat-acceptance" } }, rateText(figures.acceptance_rate, figures.acceptance_interval), " ",
      intervalBar(figures.acceptance_rate, figures.acceptance_interval)),
    h("td", { class: "num", dataset: { testid: "stat-revenue" } }, money(figures.attributed_revenue_cents / 100),
      figures.attributed_orders ? h("small", { class: "muted" }, t("stats.orders", { count: figures.attributed_orders })) : null));
}

const HEAD = () => h("thead", {}, h("tr", {},
  h("th", { scope: "col" }, ""), h("th", { scope: "col", class: "num" }, t("stats.shown")),
  h("th", { scope: "col", class: "num" }, t("stats.presented")), h("th", { scope: "col", class: "num" }, t("stats.accepted")),
  h("th", { scope: "col" }, t("stats.acceptance")), h("th", { scope: "col", class: "num" }, t("stats.revenue"))));

function breakdown(title, rows, testid) {
  if (!rows.length) return null;
  return h("div", { class: "stats-breakdown" }, h("h4", {}, title),
    h("div", { class: "table-scroll" }, h("table", { class: "stats-table", dataset: { testid } }, HEAD(),
      h("tbody", {}, rows.map((row) => figuresRow(row.key || "—", row, `${testid}-row`))))));
}

function weeks(series) {
  const most = Math.max(1, ...series.map((week) => week.impressions));
  return h("ol", { class: "stats-weeks", "aria-label": t("stats.weeks_label") },
    series.map((week) => h("li", { title: t("stats.week_title", { from: isoDay(week.start), to: isoDay(week.end - 1), shown: week.impressions, accepted: week.accepted }) },
      h("span", { class: "week-bar", style: { height: `${(week.impressions / most) * 100}%` } },
        h("span", { class: "week-accepted", style: { height: week.impressions ? `${(week.accepted / week.impressions) * 100}%` : "0" } })),
      h("small", {}, isoDay(week.start).slice(5)))));
}

function actionBlock(action, titles) {
  // The title this version was published with (what agents read); the draft's today if renamed since.
  const title = action.title || titles[action.action_id] || action.action_id;
  const now = titles[action.action_id];
  const reasons = Object.entries(action.decline_reasons || {});
  return h("section", { class: "stats-action card", dataset: { testid: "stats-action", actionId: action.action_id, version: String(action.version) } },
    h("header", { class: "stats-action-head" },
      h("h3", { dataset: { testid: "stats-title" } }, h("span", { translate: "no" }, title), " ", h("span", { class: "muted small" }, t("stats.version", { version: action.version })),
        now && now !== title ? h("span", { class: "muted small", dataset: { testid: "stats-title-now" } }, " · ", t("stats.title_now_label"), " ", h("span", { translate: "no" }, `“${now}”`)) : null),
      h("p", { class: "small", dataset: { testid: "stat-trend" } }, t("stats.last_week", { trend: trendText(action.trend) }))),
    h("div", { class: "table-scroll" }, h("table", { class: "stats-table" }, HEAD(), h("tbody", {}, figuresRow(t("stats.all"), action, "stats-total")))),
    h("details", { class: "stats-more" }, h("summary", {}, t("stats.more")),
      breakdown(t("stats.by_queue"), action.by_queue, "stats-by-queue"),
      breakdown(t("stats.by_tier"), (action.by_tier || []).map((row) => ({ ...row, key: tierName(row.key) })), "stats-by-tier"),
      h("h4", {}, t("stats.week_by_week")), weeks(action.weeks || []),
      // The reasons are what agents picked or typed on the desk: shown as they came.
      reasons.length ? [h("h4", {}, t("stats.declined")),
        h("ul", { class: "small" }, reasons.map(([reason, count]) => h("li", {}, t("stats.reason_count", { reason, count }))))] : null));
}

function ensureStyles() {
  if (document.querySelector("link[data-planner-stats]")) return;
  document.head.append(h("link", { rel: "stylesheet", href: "/static/planner/stats.css", dataset: { plannerStats: "" } }));
}

/** Mount the results view into `element`. */
export function mountStats(element) {
  ensureStyles();
  const now = Date.now() / 1000;
  const from = h("input", { type: "date", value: isoDay(now - 27 * DAY), dataset: { testid: "stats-from" }, "aria-label": t("stats.from") });
  const to = h("input", { type: "date", value: isoDay(now), dataset: { testid: "stats-to" }, "aria-label": t("stats.to") });
  const status = h("p", { class: "small muted", role: "status", dataset: { testid: "stats-status" } });
  const list = h("div", { class: "stats-list", dataset: { testid: "stats-list" } });
  const form = h("form", { class: "stats-period", onsubmit: (event) => {
    event.preventDefault();
    load();
  } }, h("label", {}, t("stats.from"), " ", from), h("label", {}, t("stats.to"), " ", to),
  h("button", { type: "submit", class: "btn", dataset: { testid: "btn-stats-load" } }, t("stats.show")));
  replace(element, h("div", { class: "planner-stats" }, form, status, list));

  async function load() {
    setText(status, t("stats.loading"));
    try {
      const query = new URLSearchParams({ from: from.value, to: to.value });
      const response = await fetch(`/api/v1/rules/stats?${query}`, { credentials: "same-origin" });
      const body = await response.json().catch(() => ({}));
      if (!response.ok) throw responseError(response, body);
      const actions = body.actions || [];
      setText(status, actions.length
        ? t("stats.period", { from: isoDay(body.start), to: isoDay(body.end - 1), days: body.attribution_days })
        : t("stats.none"));
      replace(list, actions.map((action) => actionBlock(action, body.titles || {})));
    } catch (error) {
      setText(status, t("stats.failed", { error: errorText(t, error) }));
    }
  }
  load();
  return { reload: load };
}
