// The analytics block of the desk's customer page: value tier and its trend, whether the
// customer is at risk and why, how likely they are still active, and what to recommend.
// Data: GET /api/v1/customers/{id}/analytics (the latest successful `otodesk analytics run`).
import { h, replace } from "../common/dom.js";
import { tierName } from "./customer.js";
import { dateTime, messages, money, percent, t } from "./i18n.js";

const TREND = { up: "analytics.up", down: "analytics.down", same: "analytics.same", new: "analytics.new" };
const months = new Intl.DateTimeFormat(messages.locale, { year: "numeric", month: "short" });

function year(at) {
  return months.format(new Date(at * 1000));
}

/** The block's content for one answer of the API. */
export function analyticsView(answer) {
  const a = answer.analytics;
  const notice = answer.run.notice
    ? h("p", { class: "analytics-notice", dataset: { testid: "analytics-notice" } }, answer.run.notice) : null;
  if (!a) return [h("h3", {}, t("analytics.title")), notice,
    h("p", { class: "muted", dataset: { testid: "analytics-none" } }, t("analytics.none"))];
  const history = a.tier_history.map((p) => t("analytics.period", { period: year(p.period_end), tier: p.tier ? tierName(p.tier) : "—" })).join(" · ");
  const [r, f, m] = a.rfm_scores || [];
  const outlook = [
    r ? t("analytics.rfm", { r, f, m }) : null,
    a.p_alive === null ? null : t("analytics.alive", { percent: percent(a.p_alive) }),
    a.expected_purchases === null ? null : t("analytics.purchases", { count: a.expected_purchases.toFixed(1) }),
    a.expected_spend_cents === null ? null : t("analytics.spend", { amount: money(a.expected_spend_cents / 100) }),
  ].filter(Boolean).join(" · ");
  return [
    h("h3", {}, t("analytics.title")),
    notice,
    h("p", {},
      h("span", { class: "tier", dataset: { testid: "analytics-tier" } }, tierName(a.tier)), " ",
      h("span", { class: `trend trend-${a.trend}`, dataset: { testid: "analytics-trend", trend: a.trend } },
        TREND[a.trend] ? t(TREND[a.trend]) : a.trend, a.trend === "down" || a.trend === "up" ? t("analytics.was", { tier: tierName(a.previous_tier) }) : ""), " ",
      h("span", { class: "muted small", title: t("analytics.history_title"), dataset: { testid: "analytics-history" } }, history)),
    // The reasons are the analytics job's sentences (English, desktop/analytics).
    a.at_risk ? h("p", { class: "at-risk", dataset: { testid: "analytics-at-risk" } },
      h("strong", {}, t("analytics.at_risk")), h("span", { translate: "no" }, a.reasons.join("; "))) : null,
    outlook ? h("p", { class: "muted", dataset: { testid: "analytics-outlook" } }, outlook) : null,
    a.recommendations.length ? h("p", { dataset: { testid: "analytics-recommendations" } },
      h("strong", {}, t("analytics.recommend")),
      a.recommendations.map((r, i) => [i ? t("analytics.comma") : "", h("span", { title: r.sku, translate: "no" }, r.name || r.sku)])) : null,
    h("p", { class: "muted small" }, t("analytics.as_of", { time: dateTime(answer.run.computed_at) })),
  ];
}

/** Fill ``element`` for customer ``id``; ``api`` is the page's fetch helper. */
export async function loadAnalytics(element, id, api) {
  try {
    replace(element, analyticsView(await api(`/api/v1/customers/${encodeURIComponent(id)}/analytics`)));
  } catch (error) {
    replace(element, h("p", { class: "muted", dataset: { testid: "analytics-error" } }, t("analytics.failed", { error: error.message })));
  }
}
