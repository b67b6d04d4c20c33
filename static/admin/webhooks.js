// The admin console's webhooks: list, add (the secret is shown once), remove, the delivery log, replay.
import { h, replace, setText } from "../common/dom.js";
import { errorText } from "../common/errors.js";
import { toast } from "../common/toast.js";
import { api } from "./api.js";
import { dateTime, t } from "./i18n.js";

// A delivery's states (desktop/repository/outbox.py: codes), by name.
const STATES = { pending: "webhooks.state_pending", delivered: "webhooks.state_delivered", failed: "webhooks.state_failed" };
const stateName = (state) => (STATES[state] ? t(STATES[state]) : state);

const $ = (selector) => document.querySelector(selector);

export async function loadWebhooks() {
  const { items, event_types: types } = await api("GET", "/webhooks");
  const typesLine = $("[data-webhook-types]");
  typesLine.translate = false; // event types are codes a receiver reads
  setText(typesLine, t("webhooks.types", { types: types.join(", ") }));
  replace($("[data-webhook-rows]"), items.length ? items.map(webhookRow)
    : h("tr", {}, h("td", { colspan: "4", class: "muted" }, t("webhooks.none"))));
}

function webhookRow(hook) {
  const button = (label, testid, onclick, kind = "") => h("button", { type: "button", class: `btn small ${kind}`, dataset: { testid }, onclick }, label);
  return h("tr", { dataset: { testid: `webhook-${hook.id}`, disabled: hook.disabled_at ? "true" : "false" } },
    h("td", { translate: "no" }, h("code", {}, hook.url)),
    h("td", { translate: "no" }, hook.events.join(", ")),
    h("td", {}, hook.disabled_at ? h("span", { class: "badge off" }, t("webhooks.removed")) : h("span", { class: "badge on" }, t("webhooks.active"))),
    h("td", { class: "actions" }, h("div", { class: "row-actions" },
      button(t("webhooks.log"), "webhook-log-open", () => showLog(hook)),
      hook.disabled_at ? null : button(t("webhooks.rotate"), "webhook-rotate", () => rotate(hook)),
      hook.disabled_at ? null : button(t("webhooks.remove"), "webhook-remove", () => remove(hook), "danger"))));
}

async function add(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const events = form.events.value.split(",").map((s) => s.trim()).filter(Boolean);
  try {
    showSecret(await api("POST", "/webhooks", { url: form.url.value.trim(), events }), "webhooks.secret");
    form.reset();
    await loadWebhooks();
  } catch (error) {
    toast(errorText(t, error), { kind: "error" });
  }
}

function showSecret(made, key) {
  const secret = $("[data-webhook-secret]");
  // The sentence names where the URL and the secret go: {url}, {secret}.
  const parts = { url: h("code", { translate: "no" }, made.url), secret: h("code", { translate: "no", dataset: { testid: "webhook-secret-value" } }, made.secret) };
  replace(secret, t(key).split(/\{(\w+)\}/).map((part, i) => (i % 2 ? parts[part] : part)));
  secret.hidden = false;
}

async function rotate(hook) {
  try {
    showSecret(await api("POST", `/webhooks/${hook.id}/rotate-secret`, { overlap_hours: 24 }), "webhooks.rotated");
    await loadWebhooks();
  } catch (error) {
    toast(errorText(t, error), { kind: "error" });
  }
}

async function remove(hook) {
  try {
    await api("DELETE", `/webhooks/${hook.id}`);
    toast(t("webhooks.removed_toast", { url: hook.url }));
    await loadWebhooks();
  } catch (error) {
    toast(errorText(t, error), { kind: "error" });
  }
}

async function showLog(hook) {
  const { items } = await api("GET", `/webhooks/${hook.id}/deliveries?limit=50`);
  // An attempt: the receiver's HTTP status and error (its words), and how long it took.
  const attempt = (a) => t("webhooks.attempt", { status: a.status_code ?? "—", error: a.error || "", ms: Math.round(a.duration * 1000) });
  replace($("[data-webhook-log]"), h("h3", {}, t("webhooks.deliveries"), " ", h("code", { translate: "no" }, hook.url)), items.length
    ? h("table", { class: "admin-table" },
      h("thead", {}, h("tr", {}, ...[t("webhooks.col_event"), t("webhooks.col_state"), t("webhooks.col_attempts"), ""].map((text) => h("th", { scope: "col" }, text)))),
      h("tbody", {}, ...items.map((d) => h("tr", { dataset: { testid: "webhook-delivery", state: d.state } },
        h("td", {}, h("span", { translate: "no" }, d.type), h("br"), h("span", { class: "muted small" }, h("span", { translate: "no" }, d.event_id), ` · ${dateTime(d.created_at)}`)),
        h("td", {}, stateName(d.state)),
        h("td", { class: "small", translate: d.log.length ? "no" : null }, d.log.map(attempt).join("; ") || h("span", { class: "muted" }, t("webhooks.none_yet"))),
        h("td", { class: "actions" }, h("button", { type: "button", class: "btn small", dataset: { testid: "webhook-replay" },
          onclick: () => replay(hook, d) }, t("webhooks.replay")))))))
    : h("p", { class: "muted" }, t("webhooks.nothing_sent")));
}

async function replay(hook, delivery) {
  try {
    await api("POST", `/webhook-deliveries/${delivery.id}/replay`);
    toast(t("webhooks.queued_again", { type: delivery.type }));
    await showLog(hook);
  } catch (error) {
    toast(errorText(t, error), { kind: "error" });
  }
}

export function startWebhooks() {
  $("[data-webhook-form]").addEventListener("submit", add);
  return loadWebhooks();
}
