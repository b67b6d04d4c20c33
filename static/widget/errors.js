// What the customer reads when the server (or the network) refuses something: the catalogue's
// words for the error's `code`, filled from its facts (`detail`, `retryAfter`), so a refusal
// reads in the customer's language and time zone. The server's own reason (English, for
// developers: docs/protocol.md) shows only for a code this file does not know.
// Fetched with the panel (ui.js) or the part of the widget that asks (aftercall.js, mydata.js,
// voice.js), never on the first page load.

/** One message a code, when nothing more is known. */
const BY_CODE = {
  timeout: "error.timeout", closed: "error.closed", rate_limited: "error.rate_limited",
  too_many_requests: "error.too_many_requests", already_waiting: "error.already_waiting", internal: "error.internal",
  invalid_phone: "error.invalid_phone", phone_refused: "error.phone_refused", bad_time: "error.bad_time",
  unknown_queue: "error.unknown_queue", phone_country: "error.phone_country", phone_waiting: "error.phone_waiting",
  consent_needed: "error.consent_needed", not_found: "error.not_found", invalid_state: "error.invalid_state",
  bad_message: "error.bad_message", invalid: "error.bad_message", too_large: "error.too_large",
  unauthorized: "error.unauthorized", signed_out: "error.unauthorized", not_identified: "error.unauthorized",
  capacity: "error.capacity", bad_sdp: "error.voice", already_connected: "error.voice", trunk: "error.voice",
  not_ready: "error.closed", bad_json: "error.internal", unknown_type: "error.internal",
};

/** bad_time and invalid_state / already_waiting by their `detail.reason`. */
const BY_REASON = {
  closed: "error.closed_now", closed_at: "error.closed_at", too_far: "error.too_far",
  no_calling_time: "error.no_calling_time", reopened: "error.reopened", waiting: "error.reopen_waiting",
  not_finished: "error.not_finished", too_old: "error.too_old",
};

/** too_many_requests by the budget that ran out (`detail.budget`). */
const BY_BUDGET = {
  attempts: "error.limit_attempts", visitor: "error.limit_visitor", phone_attempts: "error.limit_phone_attempts",
  phone: "error.limit_phone", network: "error.limit_network", site: "error.limit_site",
};

/** phone_refused by the kind of number (`detail.kind`). */
const BY_KIND = {
  premium_rate: "error.refused_premium_rate", shared_cost: "error.refused_shared_cost",
  uan: "error.refused_uan", pager: "error.refused_pager",
};

/**
 * The text for `error` ({code, message, detail?, retryAfter?}, a HubError or a failed fetch's).
 * @param {{t, locale, dateTime, list, duration}} language  the widget's (language.js)
 */
export function errorText(error, { t, locale, dateTime, list, duration }) {
  const code = error?.code;
  const detail = error?.detail || {};
  const wait = detail.wait ?? error?.retryAfter ?? error?.retry_after; // seconds (the hub's limits put it in detail)
  if (code === "phone_waiting" && detail.state) {
    if (detail.state === "scheduled" && detail.scheduled_at) return t("error.phone_waiting_scheduled", { when: dateTime(detail.scheduled_at) });
    return t(detail.state === "connected" ? "error.phone_waiting_now" : "error.phone_waiting");
  }
  if (code === "phone_country" && Array.isArray(detail.allowed)) {
    const names = new Intl.DisplayNames([locale], { type: "region" });
    const name = (region) => { try { return names.of(region); } catch { return region; } };
    return t("error.phone_country", { countries: list(detail.allowed.map(name)) });
  }
  if (code === "bad_time" && detail.reason === "closed" && !detail.opens) return t("error.closed_no_hours", { queue: detail.queue });
  if (code === "too_many_requests" && BY_BUDGET[detail.budget]) {
    return t(BY_BUDGET[detail.budget], { count: detail.count, window: duration(detail.window), wait: duration(Math.max(1, wait || 60)) });
  }
  if (code === "phone_refused" && BY_KIND[detail.kind]) return t(BY_KIND[detail.kind]);
  if (code === "rate_limited" && wait) return t("error.rate_limited_wait", { wait: duration(wait) });
  if (["bad_time", "invalid_state", "already_waiting"].includes(code) && BY_REASON[detail.reason]) {
    return t(BY_REASON[detail.reason], {
      queue: detail.queue, days: detail.days, window: detail.window,
      at: detail.at ? dateTime(detail.at) : "", opens: detail.opens ? dateTime(detail.opens) : "",
    });
  }
  if (Object.hasOwn(BY_CODE, code ?? "")) return t(BY_CODE[code]);
  return error?.message || t("error.generic");
}
