// The admin console: users, queues (with business hours), webhooks (webhooks.js), the widget, its sites and
// the urgent words (centre.js), and the audit of changes.
// Every action goes through the REST API (api.js), which audits it and applies it at once.
import { h, ready, replace, setText } from "../common/dom.js";
import { errorText } from "../common/errors.js";
import { toast } from "../common/toast.js";
import { api } from "./api.js";
import { DAYS, hoursFromForm, hoursSummary, hoursToForm, hoursWords } from "./hours.js";
import { dateTime, messages, t } from "./i18n.js";
import { topicsFromText, topicsToText } from "./topics.js";
import { startCentre } from "./centre.js";
import { startWebhooks } from "./webhooks.js";

const words = hoursWords(t, messages.locale);
// Codes the API sends, by name.
const ROLES = { agent: "role.agent", supervisor: "role.supervisor", admin: "role.admin", planner: "role.planner" };
const roleName = (role) => (ROLES[role] ? t(ROLES[role]) : role);

const me = document.querySelector('meta[name="otodesk-admin-id"]')?.content;
const $ = (selector) => document.querySelector(selector);
const skillsOf = (text) => String(text || "").split(",").map((s) => s.trim().toLowerCase()).filter(Boolean);

// -- users -------------------------------------------------------------------------

async function loadUsers() {
  const { items } = await api("GET", "/users");
  replace($("[data-user-rows]"), items.map(userRow));
}

function userRow(user) {
  const button = (label, testid, onclick, kind = "") => h("button", { type: "button", class: `btn small ${kind}`, dataset: { testid }, onclick }, label);
  return h("tr", { dataset: { testid: `user-${user.username}`, disabled: user.disabled ? "true" : "false" } },
    h("td", { translate: "no" }, h("strong", {}, user.display_name), h("br"), h("span", { class: "muted" }, user.username)),
    h("td", {}, roleName(user.role)),
    h("td", { dataset: { testid: "user-skills-cell" } }, user.skills.length ? h("span", { translate: "no" }, user.skills.join(", ")) : h("span", { class: "muted" }, t("users.no_skills"))),
    h("td", { dataset: { testid: "user-status" } }, user.disabled
      ? h("span", { class: "badge off" }, t("users.disabled"))
      : h("span", { class: "badge on" }, t("users.active"))),
    // Its column header is hidden on a phone: the cell names itself there ("Two-step: Off").
    h("td", { dataset: { testid: "user-second-factor" } }, h("span", { class: "cell-label" }, t("users.col_second_factor"), ": "), user.sso
      ? h("span", { class: "muted" }, t("users.second_factor_sso"))
      : h("span", { class: `badge ${user.second_factor ? "on" : "off"}` }, t(user.second_factor ? "users.second_factor_on" : "users.second_factor_off"))),
    h("td", { class: "actions" }, h("div", { class: "row-actions" },
      button(t("users.edit"), "user-edit", () => openUser(user)),
      button(t("users.password"), "user-reset", () => openPassword(user)),
      user.second_factor ? button(t("users.reset_second_factor"), "user-reset-second-factor",
        () => act(`/users/${user.id}/second-factor/reset`, t("users.second_factor_reset", { user: user.username }))) : null,
      user.id === me ? null : button(t("users.sign_out"), "user-signout", () => act(`/users/${user.id}/sign-out`, t("users.signed_out", { user: user.username }))),
      user.id === me ? null : user.disabled
        ? button(t("users.enable"), "user-enable", () => act(`/users/${user.id}/enable`, t("users.enabled", { user: user.username })), "ok")
        : button(t("users.disable"), "user-disable", () => act(`/users/${user.id}/disable`, t("users.disabled_toast", { user: user.username })), "danger"))));
}

async function act(path, done) {
  try {
    await api("POST", path);
    toast(done);
    await Promise.all([loadUsers(), loadAudit()]);
  } catch (error) {
    toast(errorText(t, error), { kind: "error" });
  }
}

let editingUser = null;

function openUser(user = null) {
  editingUser = user;
  const form = $("[data-user-form]");
  form.reset();
  setText($("[data-user-dialog-title]"), user ? t("users.edit_title", { user: user.username }) : t("users.add"));
  form.querySelectorAll("[data-new-only]").forEach((el) => { el.hidden = !!user; el.querySelector("input").required = !user; });
  if (user) {
    form.display_name.value = user.display_name;
    form.role.value = user.role;
    form.skills.value = user.skills.join(", ");
    form.locale.value = user.locale || "";
  }
  setText(form.querySelector("[data-form-error]"), "");
  $("[data-user-dialog]").showModal();
}

async function saveUser(event) {
  event.preventDefault();
  const form = event.target;
  // The staff pages' language: "" is their browser's (a new user: theirs until they choose).
  const body = { display_name: form.display_name.value.trim(), role: form.role.value, skills: skillsOf(form.skills.value),
    locale: form.locale.value };
  try {
    if (editingUser) await api("PATCH", `/users/${editingUser.id}`, body);
    else await api("POST", "/users", { ...body, username: form.username.value.trim(), password: form.password.value });
    $("[data-user-dialog]").close();
    toast(editingUser ? t("users.saved") : t("users.can_sign_in", { name: body.display_name }));
    await Promise.all([loadUsers(), loadAudit()]);
  } catch (error) {
    setText(form.querySelector("[data-form-error]"), errorText(t, error));
  }
}

let passwordUser = null;

function openPassword(user) {
  passwordUser = user;
  const form = $("[data-password-form]");
  form.reset();
  setText($("[data-password-user]"), user.username);
  setText(form.querySelector("[data-form-error]"), "");
  $("[data-password-dialog]").showModal();
}

async function savePassword(event) {
  event.preventDefault();
  const form = event.target;
  try {
    await api("POST", `/users/${passwordUser.id}/password`, { password: form.password.value });
    $("[data-password-dialog]").close();
    toast(t("users.password_set", { user: passwordUser.username }));
    await loadAudit();
  } catch (error) {
    setText(form.querySelector("[data-form-error]"), errorText(t, error));
  }
}

// -- queues ------------------------------------------------------------------------

async function loadQueues() {
  const { items } = await api("GET", "/queues");
  replace($("[data-queue-rows]"), items.map((queue) => h("tr", { dataset: { testid: `queue-${queue.name}` } },
    h("td", { translate: "no" }, h("strong", {}, queue.title), h("br"), h("span", { class: "muted" }, queue.name)),
    h("td", {}, queue.skills.length ? h("span", { translate: "no" }, queue.skills.join(", ")) : h("span", { class: "muted" }, t("queues.any_agent"))),
    h("td", {}, t("queues.seconds", { seconds: queue.service_level_target })),
    h("td", { dataset: { testid: "queue-hours" } }, hoursSummary(queue.hours, words)),
    h("td", { translate: "no", dataset: { testid: "queue-languages-cell" } }, queue.languages.join(", ")),
    h("td", { class: "actions" }, h("div", { class: "row-actions" },
      h("button", { type: "button", class: "btn small", dataset: { testid: "queue-edit" }, onclick: () => openQueue(queue) }, t("queues.edit")),
      h("button", { type: "button", class: "btn small danger", dataset: { testid: "queue-delete" }, onclick: () => openDelete(queue, items) }, t("queues.delete")))))));
}

let deletingQueue = null;

function openDelete(queue, queues) {
  deletingQueue = queue;
  const form = $("[data-queue-delete-form]");
  setText($("[data-queue-delete-name]"), queue.title);
  // Where its waiting customers go: "general" first when there is one (the server's default too).
  const others = queues.filter((q) => q.name !== queue.name).sort((a, b) => (b.name === "general") - (a.name === "general"));
  replace(form.fallback, others.map((q) => h("option", { value: q.name }, `${q.title} (${q.name})`)));
  setText(form.querySelector("[data-form-error]"), others.length ? "" : t("queues.last_queue"));
  form.querySelector("[data-testid=queue-delete-confirm]").disabled = !others.length;
  $("[data-queue-delete-dialog]").showModal();
}

async function deleteQueue(event) {
  event.preventDefault();
  const form = event.target;
  try {
    const done = await api("DELETE", `/queues/${encodeURIComponent(deletingQueue.name)}`, { fallback: form.fallback.value });
    $("[data-queue-delete-dialog]").close();
    toast(t("queues.deleted", { queue: deletingQueue.title, count: done.moved, fallback: done.fallback }));
    await Promise.all([loadQueues(), loadAudit()]);
  } catch (failure) {
    setText(form.querySelector("[data-form-error]"), errorText(t, failure));
  }
}

let editingQueue = null;

function buildWeek() {
  const week = $("[data-week]");
  for (const key of DAYS) {
    week.append(h("label", { class: "day" }, h("span", {}, words.long[key]),
      h("input", { type: "text", name: `day-${key}`, placeholder: t("hours.closed_placeholder"), dataset: { testid: `queue-day-${key}` } })));
  }
}

function syncAlways() {
  const form = $("[data-queue-form]");
  const always = form.always.checked;
  $("[data-week]").hidden = always;
  form.exceptions.closest("label").hidden = always;
}

function openQueue(queue = null) {
  editingQueue = queue;
  const form = $("[data-queue-form]");
  form.reset();
  setText($("[data-queue-dialog-title]"), queue ? t("queues.edit_title", { queue: queue.title }) : t("queues.add"));
  form.querySelectorAll("[data-new-only]").forEach((el) => { el.hidden = !!queue; el.querySelector("input").required = !queue; });
  const hours = hoursToForm(queue?.hours ?? null, words);
  if (queue) {
    form.title.value = queue.title;
    form.skills.value = queue.skills.join(", ");
    form.service_level_target.value = queue.service_level_target;
    form.offer_timeout.value = queue.offer_timeout ?? "";
    form.wrapup_timeout.value = queue.wrapup_timeout ?? "";
    form.calling_hours.value = queue.calling_hours ?? "";
    form.dispositions.value = (queue.dispositions || []).join("\n");
    form.languages.value = queue.languages.join(", ");
    form.topics.value = topicsToText(queue.topics);
    form.recording.value = queue.recording ?? "";
  }
  form.always.checked = hours.always;
  for (const key of DAYS) form[`day-${key}`].value = hours.days[key];
  form.exceptions.value = hours.exceptions;
  syncAlways();
  setText(form.querySelector("[data-form-error]"), "");
  $("[data-queue-dialog]").showModal();
}

async function saveQueue(event) {
  event.preventDefault();
  const form = event.target;
  const error = form.querySelector("[data-form-error]");
  const number = (input) => (input.value === "" ? null : Number(input.value));
  try {
    const days = Object.fromEntries(DAYS.map((key) => [key, form[`day-${key}`].value]));
    const body = {
      title: form.title.value.trim(), skills: skillsOf(form.skills.value),
      service_level_target: number(form.service_level_target) ?? 30,
      offer_timeout: number(form.offer_timeout), wrapup_timeout: number(form.wrapup_timeout),
      calling_hours: form.calling_hours.value.trim() || null, // null: the setting
      dispositions: form.dispositions.value.split("\n").map((line) => line.trim()).filter(Boolean),
      hours: hoursFromForm({ always: form.always.checked, days, exceptions: form.exceptions.value }, words),
      languages: form.languages.value.split(",").map((tag) => tag.trim()).filter(Boolean),
      topics: topicsFromText(form.topics.value),
      recording: form.recording.value || null, // null: the server's setting
    };
    if (!body.dispositions.length) body.dispositions = null; // the default list
    const name = editingQueue ? editingQueue.name : form.name.value.trim();
    await api("PUT", `/queues/${encodeURIComponent(name)}`, body);
    $("[data-queue-dialog]").close();
    toast(editingQueue ? t("queues.saved") : t("queues.takes_calls", { queue: body.title }));
    await Promise.all([loadQueues(), loadAudit()]);
  } catch (failure) {
    setText(error, failure.line !== undefined ? t("queues.topics_bad", { line: failure.line }) : errorText(t, failure));
  }
}

// -- audit -------------------------------------------------------------------------

// The audit's actions are codes; each a sentence with {actor} and {target} (an element).
const ACTIONS = {
  "user.add": "audit.user_add", "user.update": "audit.user_update", "user.disable": "audit.user_disable",
  "user.enable": "audit.user_enable", "user.password": "audit.user_password", "user.sign_out": "audit.user_sign_out",
  "queue.add": "audit.queue_add", "queue.update": "audit.queue_update", "queue.delete": "audit.queue_delete",
  "kb.add": "audit.kb_add", "kb.update": "audit.kb_update", "kb.publish": "audit.kb_publish",
  "kb.unpublish": "audit.kb_unpublish", "kb.delete": "audit.kb_delete",
  "settings.widget": "audit.settings_widget", "settings.origins": "audit.settings_origins",
  "settings.urgent_words": "audit.settings_urgent_words",
  "webhook.add": "audit.webhook_add", "webhook.remove": "audit.webhook_remove", "webhook.replay": "audit.webhook_replay",
  "webhook.rotate": "audit.webhook_rotate",
  "user.second_factor_on": "audit.user_second_factor_on", "user.second_factor_off": "audit.user_second_factor_off",
  "user.second_factor_reset": "audit.user_second_factor_reset",
};

/** A message with elements in it: its text, each {name} of `elements` replaced by its element. */
function withElements(key, elements) {
  return t(key).split(/\{(\w+)\}/).map((part, i) => (i % 2 ? elements[part] ?? `{${part}}` : part));
}

function changed(before, after) {
  if (!before || !after) return "";
  const keys = Object.keys(after).filter((key) => !["state", "disabled_at", "sessions_ended", "body", "updated_at"].includes(key)
    && JSON.stringify(before[key]) !== JSON.stringify(after[key]));
  return keys.map((key) => `${key}: ${JSON.stringify(before[key] ?? null)} → ${JSON.stringify(after[key])}`).join("; ");
}

async function loadAudit() {
  const { items } = await api("GET", "/audit?limit=30");
  replace($("[data-audit]"), items.length ? items.map((row) => {
    const who = row.after?.username || row.before?.username || row.after?.name || row.after?.title || row.before?.title
      || row.after?.url || row.before?.url || row.target;
    return h("li", { dataset: { testid: "audit-row", action: row.action } },
      h("time", { class: "muted" }, dateTime(row.at)), " ",
      h("span", {}, ACTIONS[row.action]
        ? withElements(ACTIONS[row.action], { actor: h("span", { translate: "no" }, row.actor_name || row.actor), target: h("strong", { translate: "no" }, who) })
        : [`${row.actor_name || row.actor} ${row.action} `, h("strong", { translate: "no" }, who)]),
      // The changed fields and values, as the API names them; a deleted queue: where its customers went.
      row.action === "queue.delete"
        ? h("div", { class: "muted small diff", dataset: { testid: "audit-moved" } }, t("audit.queue_moved", { count: row.after?.moved ?? 0, fallback: row.after?.fallback ?? "" }))
        : changed(row.before, row.after) ? h("div", { class: "muted small diff", translate: "no" }, changed(row.before, row.after)) : null);
  }) : h("li", { class: "muted" }, t("audit.none")));
}

// -- start -------------------------------------------------------------------------

buildWeek();
$("[data-user-new]").addEventListener("click", () => openUser());
$("[data-queue-new]").addEventListener("click", () => openQueue());
$("[data-user-form]").addEventListener("submit", saveUser);
$("[data-password-form]").addEventListener("submit", savePassword);
$("[data-queue-form]").addEventListener("submit", saveQueue);
$("[data-queue-delete-form]").addEventListener("submit", deleteQueue);
$("[data-queue-form]").always.addEventListener("change", syncAlways);
document.querySelectorAll("dialog [data-close]").forEach((button) => button.addEventListener("click", () => button.closest("dialog").close()));
// The knowledge base's section (kb.js) says when it changed something: the audit shows it.
document.addEventListener("otodesk:admin-changed", () => loadAudit().catch(() => undefined));
Promise.all([loadUsers(), loadQueues(), startWebhooks(), startCentre()]).then(loadAudit).catch((error) => toast(errorText(t, error), { kind: "error" }));
// Every button is wired now (the sections' modules did theirs on import, the webhooks' above).
ready();
