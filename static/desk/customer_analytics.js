// The analytics block of the desk's customer page: value tier and its trend, whether the
// customer is at risk and why, how likely they are still active, and what to recommend.
// Data: GET /api/v1/customers/{id}/analytics (the latest successful `otodesk analytics run`).
import { h, replace } from "../common/dom.js";
import { dateTime, money } from "../common/format.js";

const TREND = { up: "↑ rising", down: "↓ falling", same: "→ steady", new: "new" };

function percent(p) {
  return `${Math.round(p * 100)}%`;
}

function year(at) {
  return new Date(at * 1000).toLocaleDateString(undefined, { year: "numeric", month: "short" });
}

/** The block's content for one answer of the API. */
export function analyticsView(answer) {
  const a = answer.analytics;
  const notice = answer.run.notice
    ? h("p", { class: "analytics-notice", dataset: { testid: "analytics-notice" } }, answer.run.notice) : null;
  if (!a) return [h("h3", {}, "Value and outlook"), notice,
    h("p", { class: "muted", dataset: { testid: "analytics-none" } }, "No analytics for this customer yet.")];
  const history = a.tier_history.map((p) => `${year(p.period_end)}: ${p.tier || "—"}`).join(" · ");
  const outlook = [
    a.p_alive === null ? null : `${percent(a.p_alive)} likely still active`,
    a.expected_purchases === null ? null : `${a.expected_purchases.toFixed(1)} orders expected next period`,
    a.expected_spend_cents === null ? null : `about ${money(a.expected_spend_cents / 100)} an order`,
  ].filter(Boolean).join(" · ");
  return [
    h("h3", {}, "Value and outlook"),
    notice,
    h("p", {},
      h("span", { class: "tier", dataset: { testid: "analytics-tier" } }, a.tier), " ",
      h("span", { class: `trend trend-${a.trend}`, dataset: { testid: "analytics-trend", trend: a.trend } },
        TREND[a.trend] || a.trend, a.trend === "down" || a.trend === "up" ? ` (was ${a.previous_tier})` : ""), " ",
      h("span", { class: "muted small", title: "tier per period", dataset: { testid: "analytics-history" } }, history)),
    a.at_risk ? h("p", { class: "at-risk", dataset: { testid: "analytics-at-risk" } },
      h("strong", {}, "At risk: "), a.reasons.join("; ")) : null,
    outlook ? h("p", { class: "muted", dataset: { testid: "analytics-outlook" } }, outlook) : null,
    a.recommendations.length ? h("p", { dataset: { testid: "analytics-recommendations" } },
      h("strong", {}, "Recommend: "),
      a.recommendations.map((r, i) => [i ? ", " : "", h("span", { title: r.sku }, r.name || r.sku)])) : null,
    h("p", { class: "muted small" }, `As of ${dateTime(answer.run.computed_at)}`),
  ];
}

/** Fill ``element`` for customer ``id``; ``api`` is the page's fetch helper. */
export async function loadAnalytics(element, id, api) {
  try {
    replace(element, analyticsView(await api(`/api/v1/customers/${encodeURIComponent(id)}/analytics`)));
  } catch (error) {
    replace(element, h("p", { class: "muted", dataset: { testid: "analytics-error" } }, `Analytics: ${error.message}`));
  }
}
