// The admin console's webhooks: list, add (the secret is shown once), remove, the delivery log, replay.
import { h, replace, setText } from "../common/dom.js";
import { dateTime } from "../common/format.js";
import { toast } from "../common/toast.js";
import { api } from "./api.js";

const $ = (selector) => document.querySelector(selector);

export async function loadWebhooks() {
  const { items, event_types: types } = await api("GET", "/webhooks");
  setText($("[data-webhook-types]"), `Types: ${types.join(", ")}`);
  replace($("[data-webhook-rows]"), items.length ? items.map(webhookRow)
    : h("tr", {}, h("td", { colspan: "4", class: "muted" }, "No webhooks yet.")));
}

function webhookRow(hook) {
  const button = (label, testid, onclick, kind = "") => h("button", { type: "button", class: `btn small ${kind}`, dataset: { testid }, onclick }, label);
  return h("tr", { dataset: { testid: `webhook-${hook.id}`, disabled: hook.disabled_at ? "true" : "false" } },
    h("td", {}, h("code", {}, hook.url)),
    h("td", {}, hook.events.join(", ")),
    h("td", {}, hook.disabled_at ? h("span", { class: "badge off" }, "Removed") : h("span", { class: "badge on" }, "Active")),
    h("td", { class: "actions" }, h("div", { class: "row-actions" },
      button("Log", "webhook-log-open", () => showLog(hook)),
      hook.disabled_at ? null : button("Remove", "webhook-remove", () => remove(hook), "danger"))));
}

async function add(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const events = form.events.value.split(",").map((s) => s.trim()).filter(Boolean);
  try {
    const made = await api("POST", "/webhooks", { url: form.url.value.trim(), events });
    const secret = $("[data-webhook-secret]");
    replace(secret, "Signing secret for ", h("code", {}, made.url), ": ", h("code", { dataset: { testid: "webhook-secret-value" } }, made.secret),
      " — copy it now, it is not shown again.");
    secret.hidden = false;
    form.reset();
    await loadWebhooks();
  } catch (error) {
    toast(error.message, { kind: "error" });
  }
}

async function remove(hook) {
  try {
    await api("DELETE", `/webhooks/${hook.id}`);
    toast(`${hook.url} receives nothing more`);
    await loadWebhooks();
  } catch (error) {
    toast(error.message, { kind: "error" });
  }
}

async function showLog(hook) {
  const { items } = await api("GET", `/webhooks/${hook.id}/deliveries?limit=50`);
  const attempt = (a) => `${a.status_code ?? "—"} ${a.error || ""} (${Math.round(a.duration * 1000)} ms)`;
  replace($("[data-webhook-log]"), h("h3", {}, `Deliveries to ${hook.url}`), items.length
    ? h("table", { class: "admin-table" },
      h("thead", {}, h("tr", {}, ...["Event", "State", "Attempts", ""].map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, ...items.map((d) => h("tr", { dataset: { testid: "webhook-delivery", state: d.state } },
        h("td", {}, d.type, h("br"), h("span", { class: "muted small" }, `${d.event_id} · ${dateTime(d.created_at)}`)),
        h("td", {}, d.state),
        h("td", { class: "small" }, d.log.map(attempt).join("; ") || h("span", { class: "muted" }, "none yet")),
        h("td", { class: "actions" }, h("button", { type: "button", class: "btn small", dataset: { testid: "webhook-replay" },
          onclick: () => replay(hook, d) }, "Replay"))))))
    : h("p", { class: "muted" }, "Nothing sent yet."));
}

async function replay(hook, delivery) {
  try {
    await api("POST", `/webhook-deliveries/${delivery.id}/replay`);
    toast(`${delivery.type} is queued again`);
    await showLog(hook);
  } catch (error) {
    toast(error.message, { kind: "error" });
  }
}

export function startWebhooks() {
  $("[data-webhook-form]").addEventListener("submit", add);
  return loadWebhooks();
}
