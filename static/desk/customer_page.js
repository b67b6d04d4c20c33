// The desk's customer search and customer page: summary, identities, analytics, the full
// timeline (filter, "older" pages), notes and outside contacts, merge/unmerge,
// and erasure for admins. Everything goes through /api/v1 with the session
// cookie and the page's CSRF token.
import { errorText, responseError } from "../common/errors.js";
import { h, ready, replace } from "../common/dom.js";
import { label } from "../common/format.js";
import { toast } from "../common/toast.js";
import { callbackState, channelName, eventText, kindName, recordingPlayer, tierName } from "./customer.js";
import { dateTime, money, t } from "./i18n.js";
import { loadAnalytics } from "./customer_analytics.js";

const root = document.querySelector(".customers");
const csrf = document.querySelector('meta[name="csrf-token"]').content;
const isAdmin = root.dataset.agentRole === "admin";
const results = root.querySelector("[data-results]");
const panel = root.querySelector("[data-customer]");
const searchForm = root.querySelector("[data-search]");
const PAGE = 30;
const LOG_KINDS = ["note", "store_visit", "inbound_call", "email", "chat", "meeting"];
// Every kind the timeline holds (routing_log.py, voice.py, cobrowse/), then what agents log.
const FILTERS = ["", "page_view", "callback_requested", "callback_offered", "callback_connected", "callback_completed",
  "callback_cancelled", "callback_abandoned", "called_while_closed", "callback_chosen", "wrap_up", "voice_call", "call_recording", "recording_consent", "cobrowse_started", "cobrowse_stopped",
  "document_pushed", "document_closed", "suggestion_shown", "suggestion_presented", "suggestion_accepted",
  "suggestion_declined", ...LOG_KINDS];
// Where contacts happen (desktop/repository/timeline.py's OUTSIDE_CHANNELS, the widget's and voice's).
const CHANNELS = ["", "web", "phone", "browser", "voice", "email", "chat", "store", "in_person", "desk"];

async function api(path, { method = "GET", body } = {}) {
  const response = await fetch(path, {
    method,
    credentials: "same-origin",
    headers: body === undefined ? { "X-CSRF-Token": csrf } : { "Content-Type": "application/json", "X-CSRF-Token": csrf },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 204) return null;
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw responseError(response, data);
  return data;
}

// -- search --------------------------------------------------------------------

async function search(query) {
  if (!query.trim()) return;
  try {
    const page = await api(`/api/v1/customers?q=${encodeURIComponent(query)}&limit=20`);
    replace(results, page.items.length
      ? page.items.map((c) => h("li", {},
          h("a", { href: `/desk/customers/${c.id}`, dataset: { testid: "customer-result", customerId: c.id }, onclick: (e) => { e.preventDefault(); open(c.id); } },
            c.name ? h("strong", { translate: "no" }, c.name) : h("strong", {}, t("record.unnamed")), " ",
            h("span", { class: "muted" }, [c.phone, c.email].filter(Boolean).join(" · ")))))
      : h("li", { class: "muted", dataset: { testid: "no-results" } }, t("record.no_match")));
  } catch (error) {
    toast(t("record.search_failed", { error: errorText(t, error) }), { kind: "error" });
  }
}

searchForm.addEventListener("submit", (event) => {
  event.preventDefault();
  search(searchForm.q.value);
});
ready(searchForm);

// -- one customer ----------------------------------------------------------------

const view = { id: null, cursor: null, kind: "", channel: "" };

function eventItem(event) {
  return h("li", { dataset: { testid: "timeline-event", kind: event.kind, channel: event.channel } },
    h("span", { class: "kind" }, kindName(event.kind)), " ",
    h("span", { class: "muted" }, `${channelName(event.channel)} · ${dateTime(event.at)}`),
    event.agent_id ? h("span", { class: "muted", dataset: { testid: "timeline-agent" } },
      event.agent_name ? t("record.by", { name: event.agent_name }) : t("record.by_former")) : null,
    // What was written or seen (notes, pages, topics) is in the words it was written in.
    h("div", { class: "event-text", translate: "no" }, eventText(event)),
    recordingPlayer(event));
}

let timelineAsked = 0; // the newest loadTimeline: an older answer arriving after it is dropped

async function loadTimeline({ more = false, first = null } = {}) {
  const asked = ++timelineAsked;
  const list = panel.querySelector("[data-timeline]");
  const button = panel.querySelector("[data-more]");
  const params = new URLSearchParams({ limit: String(PAGE) });
  if (view.kind) params.set("kind", view.kind);
  if (view.channel) params.set("channel", view.channel);
  if (more && view.cursor) params.set("cursor", view.cursor);
  // The first page comes with the summary (one request to open a customer).
  const page = first || await api(`/api/v1/customers/${view.id}/events?${params}`);
  // Two filters changed in a row: their answers may come in either order; the last asked wins.
  if (asked !== timelineAsked) return;
  if (!more) list.replaceChildren();
  list.append(...page.items.map(eventItem));
  if (!list.children.length) list.append(h("li", { class: "muted" }, t("customer.nothing_yet")));
  view.cursor = page.next_cursor;
  button.hidden = !page.next_cursor;
}

function summaryView(summary) {
  const c = summary.customer;
  const kindSelect = h("select", { dataset: { testid: "timeline-filter" }, "aria-label": t("record.show_only"),
    onchange: (e) => { view.kind = e.target.value; loadTimeline(); } },
    FILTERS.map((k) => h("option", { value: k }, k ? kindName(k) : t("record.everything"))));
  const channelSelect = h("select", { dataset: { testid: "timeline-channel" }, "aria-label": t("record.only_channel"),
    onchange: (e) => { view.channel = e.target.value; loadTimeline(); } },
    CHANNELS.map((c) => h("option", { value: c }, c ? channelName(c) : t("record.every_channel"))));
  const logKind = h("select", { name: "kind", dataset: { testid: "log-kind" }, "aria-label": t("record.what_happened") },
    LOG_KINDS.map((k) => h("option", { value: k }, kindName(k))));
  const logText = h("textarea", { name: "summary", dataset: { testid: "log-text" }, maxlength: "4000", placeholder: t("record.log_placeholder"), "aria-label": t("record.log_label") });
  const mergeInput = h("input", { name: "source", dataset: { testid: "merge-source" }, placeholder: t("record.merge_placeholder"), maxlength: "200" });
  return [
    h("div", { class: "customer-head" },
      c.name ? h("h2", { dataset: { testid: "customer-name" }, translate: "no" }, c.name) : h("h2", { dataset: { testid: "customer-name" } }, t("record.unnamed")),
      h("span", { class: "tier", dataset: { testid: "customer-tier" } }, tierName(c.tier)),
      h("span", { class: "muted" }, t("record.spent", { amount: money(summary.spend_365d_cents / 100), orders: summary.orders_365d })),
      h("code", { class: "muted small", translate: "no", dataset: { testid: "customer-id" } }, c.id)),
    h("ul", { class: "identities", dataset: { testid: "customer-identities" } },
      // Identities: their kind (a code of the site's) and value, as the site gave them.
      summary.identities.map((i) => h("li", { class: i.verified ? "" : "unverified", translate: "no",
        title: i.verified ? i.source : t("record.unverified", { source: i.source }) }, `${label(i.kind)}: ${i.value}`))),
    summary.open_issues.length ? h("p", { dataset: { testid: "open-issues" } }, h("strong", {}, t("record.open")),
      summary.open_issues.map((o) => (o.callback_id ? t("record.open_callback", { state: callbackState(o.state), queue: o.queue }) : t("record.follow_up", { note: o.note })) + " ")) : null,
    summary.merged.length ? h("p", {}, t("record.merged_here"), " ", summary.merged.map((id) =>
      h("span", {}, h("code", {}, id.slice(0, 10)), " ",
        h("button", { type: "button", class: "link", dataset: { testid: "btn-unmerge" }, onclick: () => unmerge(id) }, t("record.unmerge")), " "))) : null,
    h("section", { class: "analytics", dataset: { testid: "customer-analytics" }, "data-analytics": "" }),
    h("form", { class: "log-form", dataset: { testid: "log-form" }, onsubmit: (e) => { e.preventDefault(); logContact(logKind.value, logText); } },
      h("label", {}, t("record.log"), " ", logKind), logText,
      h("button", { type: "submit", class: "btn ok", dataset: { testid: "log-submit" } }, t("record.add"))),
    h("div", { class: "timeline-head" }, h("h3", {}, t("record.timeline")), kindSelect, channelSelect),
    h("ol", { class: "timeline", dataset: { testid: "timeline" }, "data-timeline": "" }),
    h("button", { type: "button", class: "btn", hidden: true, "data-more": "", dataset: { testid: "timeline-more" }, onclick: () => loadTimeline({ more: true }) }, t("record.older")),
    h("details", {}, h("summary", {}, t("record.merge_erase")),
      h("form", { class: "merge-form", onsubmit: (e) => { e.preventDefault(); merge(mergeInput.value.trim()); } },
        mergeInput, h("button", { type: "submit", class: "btn", dataset: { testid: "btn-merge" } }, t("record.merge"))),
      isAdmin ? h("button", { type: "button", class: "btn danger", dataset: { testid: "btn-erase" }, onclick: erase }, t("record.erase")) : null),
  ];
}

async function open(id, { push = true } = {}) {
  try {
    const summary = await api(`/api/v1/customers/${encodeURIComponent(id)}?timeline=${PAGE}`);
    view.id = summary.customer.id;
    view.cursor = null;
    view.kind = "";
    view.channel = "";
    if (push && location.pathname !== `/desk/customers/${view.id}`) history.pushState({ id: view.id }, "", `/desk/customers/${view.id}`);
    panel.hidden = false;
    replace(panel, summaryView(summary));
    for (const link of results.querySelectorAll("a")) link.toggleAttribute("aria-current", link.dataset.customerId === view.id);
    loadAnalytics(panel.querySelector("[data-analytics]"), view.id, api);
    await loadTimeline({ first: summary.timeline });
  } catch (error) {
    panel.hidden = false;
    replace(panel, h("p", { class: "muted", dataset: { testid: "customer-error" } }, errorText(t, error)));
  }
}

async function logContact(kind, textarea) {
  const summary = textarea.value.trim();
  if (!summary) { textarea.focus(); return; }
  try {
    await api(`/api/v1/customers/${view.id}/events`, { method: "POST", body: { kind, summary } });
    textarea.value = "";
    toast(t("record.added", { kind: kindName(kind) }));
    view.kind = "";
    view.channel = "";
    await open(view.id, { push: false });
  } catch (error) {
    toast(t("record.log_failed", { error: errorText(t, error) }), { kind: "error" });
  }
}

async function merge(sourceId) {
  if (!sourceId) return;
  try {
    await api(`/api/v1/customers/${view.id}/merge`, { method: "POST", body: { source_id: sourceId, reason: "merged from the desk" } });
    await open(view.id, { push: false });
  } catch (error) {
    toast(t("record.merge_failed", { error: errorText(t, error) }), { kind: "error" });
  }
}

async function unmerge(sourceId) {
  try {
    await api(`/api/v1/customers/${sourceId}/unmerge`, { method: "POST", body: { reason: "unmerged from the desk" } });
    await open(view.id, { push: false });
  } catch (error) {
    toast(t("record.unmerge_failed", { error: errorText(t, error) }), { kind: "error" });
  }
}

async function erase() {
  if (!confirm(t("record.erase_confirm"))) return;
  try {
    await api(`/api/v1/customers/${view.id}`, { method: "DELETE" });
    replace(panel, h("p", { dataset: { testid: "customer-erased" } }, t("record.erased")));
  } catch (error) {
    toast(t("record.erase_failed", { error: errorText(t, error) }), { kind: "error" });
  }
}

window.addEventListener("popstate", () => {
  const id = location.pathname.split("/desk/customers/")[1];
  if (id) open(decodeURIComponent(id), { push: false });
});

const initial = location.pathname.split("/desk/customers/")[1];
if (initial) open(decodeURIComponent(initial), { push: false });
const q = new URLSearchParams(location.search).get("q");
if (q) { searchForm.q.value = q; search(q); }
