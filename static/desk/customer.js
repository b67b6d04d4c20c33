// What the agent sees about a customer, shared by the offer card and the
// contact view: who it is, the page they are on now, the pages they visited,
// what the site told us (the cart…) and their previous contacts.
//
// Everything here comes from a stranger's browser: text goes in with
// textContent (h() never parses markup) and only http(s) URLs become links.
import { h, replace } from "../common/dom.js";
import { clock, label, shortUrl } from "../common/format.js";
import { icon } from "../common/icons.js";
import { dispositionName, queueName } from "../common/staff-language.js";
import { ago, dateTime, money, t, timeOfDay } from "./i18n.js";

const TRAIL_SHOWN = 12;
const PREVIOUS_SHOWN = 5;

/** A link when `url` is http(s), plain text otherwise. */
export function safeLink(url, text, attrs = {}) {
  let safe = false;
  try {
    safe = ["http:", "https:"].includes(new URL(url).protocol);
  } catch {
    safe = false;
  }
  return safe
    ? h("a", { href: url, target: "_blank", rel: "noopener noreferrer", ...attrs }, text)
    : h("span", attrs, text);
}

/** A queue's title (the centre's own words, not translated), else its name. */
export function queueTitle(queues, name) {
  const queue = queues.find((each) => each.name === name);
  return queue ? queueName(t, queue) : name === "general" ? queueName(t, { name }) : label(name);
}

export function channelText(channel) {
  if (channel === "phone_inbound") return [icon("phone"), " ", t("facts.channel_phone_inbound")];
  return channel === "phone" ? [icon("smartphone"), " ", t("facts.channel_phone")] : [icon("globe"), " ", t("facts.channel_browser")];
}

/** How an inbound caller's number matched the records (Card.callback.caller); "" when not inbound. */
const CALLER_MATCH = { verified: "caller.verified", claimed: "caller.claimed",
  ambiguous: "caller.ambiguous", new: "caller.new", withheld: "caller.withheld" };

/** The customer's own name when it may be shown (a phoned-in caller's only when the number matched), else "". */
export function knownName(card) {
  const name = card.customer?.name || "";
  if (card.callback?.channel !== "phone_inbound") return name;
  return ["verified", "claimed"].includes(card.callback?.caller) ? name : "";
}

/** The name to show: the customer's, else "Unknown caller" (phoned in) or "Unknown customer". */
export function displayName(card) {
  return knownName(card) || t(card.callback?.channel === "phone_inbound" ? "customer.unknown_caller" : "customer.unknown");
}

/** The name as a span; the customer's own name is theirs: translate="no". */
export function nameSpan(card, testid) {
  return h("span", { dataset: { testid }, translate: knownName(card) ? "no" : null }, displayName(card));
}

/** The customer's name, tier badge and the facts of the request, as a <dl>. */
export function facts(card, prefix, queues) {
  const customer = card.customer || {};
  const callback = card.callback || {};
  const phone = customer.phone || callback.phone;
  const rows = [
    // What the customer typed and the centre's queue titles are theirs: translate="no".
    ["facts.phone", phone ? h("a", { href: `tel:${phone}` }, phone) : h("span", { class: "muted" }, "—"), "phone"],
    ["facts.channel", channelText(callback.channel), "channel"],
    // A caller who pressed 1 while waiting on the line (desktop/voice/inbound.py): they hung up to be called back.
    callback.chosen_while_waiting ? ["facts.chosen", t("facts.chosen_while_waiting", {
      line: callback.chosen_while_waiting.line || "—", time: callback.chosen_while_waiting.at ? dateTime(callback.chosen_while_waiting.at) : "—",
    }), "chosen"] : null,
    callback.caller ? ["facts.caller", CALLER_MATCH[callback.caller] ? t(CALLER_MATCH[callback.caller]) : callback.caller, "caller"] : null,
    ["facts.queue", h("span", { translate: "no" }, queueTitle(queues, callback.queue)), "queue"],
    ["facts.topic", callback.topic ? h("span", { translate: "no" }, callback.topic) : h("span", { class: "muted" }, "—"), "topic"],
    callback.message ? ["facts.message", h("q", { translate: "no" }, callback.message), "message"] : null,
    customer.email ? ["facts.email", customer.email, "email"] : null,
    callback.scheduled_at ? ["facts.scheduled", dateTime(callback.scheduled_at), "scheduled"] : null,
    // The whole record (timeline, notes, outside contacts) opens beside the call.
    customer.id ? ["facts.record", h("a", { href: `/desk/customers/${encodeURIComponent(customer.id)}`, target: "_blank", dataset: { testid: `${prefix}-timeline-link` } }, t("facts.full_timeline")), "record"] : null,
  ].filter(Boolean);
  return h("dl", { class: "facts" }, rows.map(([term, value, key]) => h("div", {},
    h("dt", {}, t(term)),
    h("dd", { dataset: { testid: `${prefix}-${key}` } }, value))));
}

// The value tiers (desktop/analytics/rfm.py TIER_ORDER), codes with names.
const TIERS = { standard: "tier.standard", silver: "tier.silver", gold: "tier.gold", platinum: "tier.platinum" };
export const tierName = (tier) => (TIERS[String(tier).toLowerCase()] ? t(TIERS[String(tier).toLowerCase()]) : label(tier));

export function tierBadge(tier, prefix) {
  const value = tier ? String(tier) : "standard";
  return h("span", { class: "badge", dataset: { tier: value.toLowerCase(), testid: `${prefix}-tier` }, title: t("customer.tier_title") }, tierName(value));
}

/** The live sections: page now, trail, context, previous contacts. */
export class CustomerDetails {
  constructor(prefix) {
    this.prefix = prefix;
    this.page = h("div", { class: "page-now", dataset: { testid: `${prefix}-page` } });
    this.trail = h("ol", { class: "trail", dataset: { testid: `${prefix}-trail` } });
    this.context = h("div", { class: "context", dataset: { testid: `${prefix}-context` } });
    this.previous = h("ol", { class: "previous", dataset: { testid: `${prefix}-previous` } });
    this.element = h("div", { class: "customer-details" },
      h("section", { class: "detail-block wide" }, h("h3", {}, t("customer.page_now")), this.page),
      h("section", { class: "detail-block" }, h("h3", {}, t("customer.pages_visited")), this.trail),
      h("section", { class: "detail-block" }, h("h3", {}, t("customer.from_site")), this.context),
      h("section", { class: "detail-block wide" }, h("h3", {}, t("customer.previous")), this.previous));
  }

  /** Render everything from `card`; `now` is the server's clock (s). */
  update(card, now) {
    this.renderPage(card.page, now);
    this.renderTrail(card.trail || [], now);
    this.renderContext(card.context || {});
    this.renderPrevious(card.previous || [], now, card.open_issues || []);
  }

  renderPage(page, now) {
    if (!page || !page.url) {
      replace(this.page, h("p", { class: "muted" }, t("customer.not_on_site")));
      return;
    }
    // The site's pages are the site's words.
    replace(this.page,
      h("p", { class: "page-title", translate: "no" }, safeLink(page.url, page.title || shortUrl(page.url))),
      h("p", { class: "page-url muted" }, h("span", { translate: "no" }, shortUrl(page.url)),
        page.at ? t("customer.since", { time: timeOfDay(page.at), ago: ago(page.at, now) }) : ""));
  }

  renderTrail(trail, now) {
    if (!trail.length) {
      replace(this.trail, h("li", { class: "muted empty" }, t("customer.no_pages")));
      return;
    }
    const shown = trail.slice(0, TRAIL_SHOWN);
    replace(this.trail,
      shown.map((entry) => h("li", {},
        h("time", { datetime: new Date((entry.at || 0) * 1000).toISOString(), title: ago(entry.at, now) }, timeOfDay(entry.at)),
        h("span", { class: "trail-text", translate: "no" },
          safeLink(entry.url, entry.title || shortUrl(entry.url)),
          h("small", { class: "muted" }, shortUrl(entry.url))))),
      trail.length > shown.length ? h("li", { class: "muted more" }, t("customer.more_pages", { count: trail.length - shown.length })) : null);
  }

  renderContext(context) {
    const entries = Object.entries(context);
    if (!entries.length) {
      replace(this.context, h("p", { class: "muted" }, t("customer.nothing_yet")));
      return;
    }
    const currency = typeof context.currency === "string" && /^[A-Z]{3}$/.test(context.currency) ? context.currency : "USD";
    const blocks = [];
    const rows = [];
    for (const [key, value] of entries) {
      if (key === "currency") continue;
      if (Array.isArray(value) && value.length && value.every((item) => item && typeof item === "object" && !Array.isArray(item))) {
        blocks.push(h("div", { class: "context-table", translate: "no" }, h("p", { class: "context-key" }, label(key)), objectTable(key, value, currency)));
      } else {
        rows.push([h("span", { translate: "no" }, label(key)), contextValue(key, value, currency)]);
      }
    }
    replace(this.context,
      rows.length ? h("dl", { class: "kv" }, rows.map(([term, value]) => [h("dt", {}, term), h("dd", { translate: "no" }, value)])) : null,
      blocks);
  }

  renderPrevious(previous, now, openIssues = []) {
    // What is still open comes first: the customer should not have to repeat it.
    const open = openIssues.length
      ? h("li", { class: "open-issues", dataset: { testid: "open-issues" } },
        h("strong", {}, t("customer.open", { count: openIssues.length })),
        openIssues.map((issue, i) => [i ? " · " : "", t(issue.note ? "customer.open_issue_note" : "customer.open_issue", {
          disposition: dispositionName(t, issue.disposition), note: issue.note, ago: ago(issue.at, now) })]))
      : null;
    if (!previous.length) {
      replace(this.previous, h("li", { class: "muted empty" }, t("customer.first_contact")));
      return;
    }
    const shown = previous.slice(0, PREVIOUS_SHOWN);
    replace(this.previous, open,
      shown.map((item) => h("li", { dataset: { kind: item.kind || "" } },
        h("span", { class: "kind-icon", "aria-hidden": "true" }, icon(KIND_ICONS[item.kind] || "dot")),
        h("div", {},
          h("p", { class: "previous-head" },
            h("strong", {}, kindName(item.kind)),
            item.channel ? ` · ${channelName(item.channel)}` : "",
            h("span", { class: "muted" }, ` · ${ago(item.at, now)}`)),
          item.kind === "recording_consent" ? h("p", { class: "previous-summary" }, consentText(item.data))
            : item.kind === "voice_call" ? h("p", { class: "previous-summary" }, callText(item.data))
            : ["phone_attempt", "phone_retry", "phone_dialled"].includes(item.kind) ? h("p", { class: "previous-summary" }, phoneText(item))
            : item.kind === "called_while_closed" ? h("p", { class: "previous-summary" }, closedText(item.data))
            : item.kind === "callback_chosen" ? h("p", { class: "previous-summary" }, chosenText(item.data))
            : endedText(item) ? h("p", { class: "previous-summary" }, endedText(item))
              : documentText(item) ? h("p", { class: "previous-summary" }, documentText(item))
                : summary(item.data),
          recordingPlayer(item)))),
      previous.length > shown.length ? h("li", { class: "muted more" }, t("customer.more_contacts", { count: previous.length - shown.length })) : null);
  }
}

/** Icon names (common/icons.js) by timeline event kind; any other kind gets a dot. */
const KIND_ICONS = {
  callback_requested: "phone", callback_connected: "headphones", callback_completed: "check-circle", callback_cancelled: "x-circle",
  callback_abandoned: "hourglass", call_recording: "mic", recording_consent: "mic", voice_call: "headphones", wrap_up: "note", note: "note",
  call: "phone", inbound_call: "phone", called_while_closed: "phone", callback_chosen: "phone", phone_attempt: "phone", phone_retry: "hourglass", phone_dialled: "phone", email: "mail", chat: "chat", store_visit: "store", meeting: "people", page_view: "page",
  search: "search", order: "receipt", suggestion_accepted: "check-circle", suggestion_declined: "x-circle",
};

/** The timeline's event kinds (codes) by name; an unknown kind as a label. */
const KIND_NAMES = {
  callback_requested: "kind.callback_requested", callback_connected: "kind.callback_connected",
  callback_completed: "kind.callback_completed", callback_cancelled: "kind.callback_cancelled",
  callback_abandoned: "kind.callback_abandoned", call_recording: "kind.call_recording", recording_consent: "kind.recording_consent",
  voice_call: "kind.voice_call", wrap_up: "kind.wrap_up", note: "kind.note", call: "kind.call", inbound_call: "kind.inbound_call",
  called_while_closed: "kind.called_while_closed", callback_chosen: "kind.callback_chosen",
  phone_attempt: "kind.phone_attempt", phone_retry: "kind.phone_retry", phone_dialled: "kind.phone_dialled", email: "kind.email",
  chat: "kind.chat", store_visit: "kind.store_visit", meeting: "kind.meeting", page_view: "kind.page_view", search: "kind.search",
  order: "kind.order", suggestion_accepted: "kind.suggestion_accepted", suggestion_declined: "kind.suggestion_declined",
  suggestion_shown: "kind.suggestion_shown", document_pushed: "kind.document_pushed", document_closed: "kind.document_closed",
  contact: "kind.contact", callback_offered: "kind.callback_offered", callback_queued: "kind.callback_queued",
  cobrowse_started: "kind.cobrowse_started", cobrowse_stopped: "kind.cobrowse_stopped", suggestion_presented: "kind.suggestion_presented",
};
export const kindName = (kind) => (KIND_NAMES[kind || "contact"] ? t(KIND_NAMES[kind || "contact"]) : label(kind));
const CHANNELS = { browser: "channel.browser", phone: "channel.phone", web: "channel.web", email: "channel.email", chat: "channel.chat",
  store: "channel.store", voice: "channel.voice", in_person: "channel.in_person", desk: "channel.desk" };
// A callback's states (desktop/routing/events.py CallbackState).
const CALLBACK_STATES = { scheduled: "callback.scheduled", queued: "callback.queued", offered: "callback.offered", connected: "callback.connected",
  completed: "callback.completed", cancelled: "callback.cancelled", abandoned: "callback.abandoned", closed: "callback.closed" };
export const callbackState = (state) => (CALLBACK_STATES[state] ? t(CALLBACK_STATES[state]) : label(state));
export const channelName = (channel) => (CHANNELS[channel] ? t(CHANNELS[channel]) : label(channel));

/** A `voice_call` event (desktop/voice/feature.py): how long they talked, and whether it was recorded. */
export function callText(data) {
  return data?.seconds == null ? "" : t(data.recorded ? "call.talked_recorded" : "call.talked", { time: clock(data.seconds) });
}

const PHONE_RESULTS = { completed: "phone.completed", busy: "phone.busy", no_answer: "phone.no_answer", rejected: "phone.rejected",
  failed: "phone.failed", cancelled: "phone.cancelled", refused: "phone.refused", not_dialled: "phone.not_dialled" };
const phoneResult = (result) => (PHONE_RESULTS[result] ? t(PHONE_RESULTS[result]) : result || "");

/** What the customer's full timeline (customer_page.js) says of an event, in one line. */
export function eventText(event) {
  const d = event.data || {};
  // The URL is the customer's word: a link only when http(s) (never javascript: in the desk).
  if (event.kind === "page_view") return safeLink(d.url, d.title || d.url);
  if (event.kind === "wrap_up") return wrapUpText(d);
  if (documentText(event)) return documentText(event);
  if (event.kind === "callback_requested") return requestText(d);
  if (event.kind === "recording_consent") return consentText(d);
  if (event.kind === "voice_call") return callText(d);
  if (event.kind === "called_while_closed") return closedText(d);
  if (event.kind === "callback_chosen") return chosenText(d);
  // Each dialled attempt with its SIP result, the retry it booked (issue 13: they said nothing here).
  if (["phone_attempt", "phone_retry", "phone_dialled"].includes(event.kind)) return phoneText(event);
  if (endedText(event)) return endedText(event);
  // Suggestions (docs/rules.md): which action, and why the customer said no.
  if (event.kind.startsWith("suggestion_")) return [d.title, d.version ? t("record.version", { version: d.version }) : "", d.reason].filter(Boolean).join(" · ");
  return d.summary || d.note || d.subject || d.disposition || "";
}

/** A `phone_attempt` or `phone_retry` event (desktop/voice/phone.py): a dialled attempt and its SIP result. */
export function phoneText(event) {
  const d = event.data || {};
  if (event.kind === "phone_retry") return t("phone.retry", { attempt: d.attempt, after: phoneResult(d.after) });
  if (event.kind === "phone_dialled") return t("phone.dialling", { attempt: d.attempt || 1, number: d.number });
  const values = { attempt: d.attempt || 1, number: d.number, result: phoneResult(d.result), status: d.status };
  if (d.result === "completed" && d.talked_s != null) return t("phone.talked", { ...values, time: clock(d.talked_s) });
  return t(d.status && d.result !== "completed" ? "phone.attempt_status" : "phone.attempt", values);
}

/** A `called_while_closed` event (desktop/voice/inbound.py): which queue was closed, and when it opened next. */
export function closedText(data) {
  return data?.opens ? t("closed.summary", { queue: data.queue, opens: dateTime(data.opens) }) : t("closed.summary_no_opening", { queue: data?.queue });
}

/** A `callback_chosen` event (desktop/voice/inbound.py): the caller pressed 1 while waiting, to be called back. */
export function chosenText(data) {
  return t("chosen.summary", { queue: data?.queue || "—", number: data?.number || "—", time: clock(data?.waited_s || 0) });
}

// Why a callback ended (desktop/routing/events.py: CallbackEnded.reason), on its timeline entry.
const ENDED_REASONS = { hung_up: "ended.hung_up", line_dropped: "ended.line_dropped" };

/** A `callback_*` ending's reason in words ("" for none or one we don't know). */
export function endedText(event) {
  const reason = event.kind?.startsWith("callback_") ? event.data?.reason : null;
  return reason && ENDED_REASONS[reason] ? t(ENDED_REASONS[reason]) : "";
}

/** A `callback_requested` event: the queue, the topic, and for a phone the consent the customer gave. */
export function requestText(data) {
  const consent = data?.consent;
  return [data?.queue, data?.topic, consent ? t("request.consent", { address: consent.address || "?", text: consent.text }) : ""]
    .filter(Boolean).join(" · ");
}

/** A `call_recording` event plays right where it is listed; any other event: null. */
export function recordingPlayer(event) {
  if (event.kind !== "call_recording" || !event.data?.url) return null;
  return h("audio", { controls: true, preload: "none", src: event.data.url, dataset: { testid: "recording-player" },
    // Retention or erasure may have deleted the file since: say so rather than a dead player.
    onerror: (error) => error.target.replaceWith(h("p", { class: "muted", text: t("call.recording_gone") })) });
}

/** A `document_pushed` / `document_closed` event (desktop/cobrowse/viewer.py): which document. */
export function documentText(event) {
  return event.kind?.startsWith("document_") && event.data?.name ? event.data.name : "";
}

/** A `wrap_up` event: outcome and note, and whether its time ran out first. */
export function wrapUpText(data) {
  const parts = [data?.disposition && dispositionName(t, data.disposition), data?.timed_out ? t("wrapup.timed_out") : "", data?.note];
  return parts.filter(Boolean).join(t("wrapup.separator"));
}

/** A `recording_consent` event (desktop/voice/feature.py): the customer's answer to "may we record?". */
export function consentText(data) {
  return t(data?.given ? "call.consent_given" : "call.consent_refused");
}

const SUMMARY_KEYS = ["disposition", "summary", "topic", "note", "message", "outcome", "subject", "title", "reason", "url"];
const SUMMARY_NAMES = {
  disposition: "summary.disposition", summary: "summary.summary", topic: "summary.topic", note: "summary.note",
  message: "summary.message", outcome: "summary.outcome", subject: "summary.subject", title: "summary.title",
  reason: "summary.reason", url: "summary.url",
};

function summary(data) {
  if (!data || typeof data !== "object") return null;
  if (data.timed_out) return h("p", { class: "previous-summary" }, wrapUpText(data));
  const parts = SUMMARY_KEYS.filter((key) => data[key] !== undefined && data[key] !== null && data[key] !== "")
    .slice(0, 3)
    .map((key) => h("span", {}, h("span", { class: "muted" }, t(SUMMARY_NAMES[key])),
      h("span", { translate: "no" }, key === "disposition" ? dispositionName(t, data[key]) : short(data[key], 140))));
  return parts.length ? h("p", { class: "previous-summary" }, parts.flatMap((part, i) => (i ? [" · ", part] : [part]))) : null;
}

function short(value, max = 80) {
  const text = typeof value === "string" ? value : JSON.stringify(value);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function isMoneyKey(key) {
  return /(^|_)(total|price|amount|subtotal|value)$/i.test(key);
}

function contextValue(key, value, currency) {
  if (value === null || value === undefined) return h("span", { class: "muted" }, "—");
  if (typeof value === "number" && isMoneyKey(key)) return money(value, currency);
  if (typeof value === "boolean") return t(value ? "context.yes" : "context.no");
  if (Array.isArray(value) && !value.length) return h("span", { class: "muted" }, t("context.empty"));
  if (Array.isArray(value) && value.every((item) => item === null || typeof item !== "object")) return short(value.join(", "), 200);
  if (typeof value === "string" && /^https?:\/\//.test(value)) return safeLink(value, shortUrl(value));
  if (typeof value === "object") return h("code", {}, short(value, 200));
  return short(value, 200);
}

/** A list of objects (a cart…) as a table; name/qty/price columns get special care. */
function objectTable(key, items, currency) {
  const columns = [];
  for (const item of items.slice(0, 30)) {
    for (const column of Object.keys(item)) if (!columns.includes(column) && column !== "slug" && column !== "id") columns.push(column);
  }
  const qtyKey = columns.find((column) => /^(qty|quantity|count)$/i.test(column));
  const priceKey = columns.find((column) => /^(price|unit_price)$/i.test(column));
  const showLineTotal = qtyKey && priceKey;
  return h("table", { class: "mini", dataset: { testid: `context-${key}` } },
    h("thead", {}, h("tr", {}, columns.map((column) => h("th", { scope: "col" }, label(column))), showLineTotal ? h("th", { scope: "col" }, t("context.line")) : null)),
    h("tbody", {}, items.slice(0, 30).map((item) => h("tr", {},
      columns.map((column) => h("td", {}, contextValue(column, item[column], currency))),
      showLineTotal ? h("td", {}, money(Number(item[qtyKey]) * Number(item[priceKey]), currency)) : null))));
}
