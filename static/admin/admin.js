// The admin console: users, queues (with business hours), webhooks (webhooks.js) and the audit of changes.
// Every action goes through the REST API (api.js), which audits it and applies it at once.
import { h, replace, setText } from "../common/dom.js";
import { dateTime } from "../common/format.js";
import { toast } from "../common/toast.js";
import { api } from "./api.js";
import { WEEKDAYS, hoursFromForm, hoursSummary, hoursToForm } from "./hours.js";
import { startWebhooks } from "./webhooks.js";

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
    h("td", {}, h("strong", {}, user.display_name), h("br"), h("span", { class: "muted" }, user.username)),
    h("td", {}, user.role),
    h("td", { dataset: { testid: "user-skills-cell" } }, user.skills.length ? user.skills.join(", ") : h("span", { class: "muted" }, "none")),
    h("td", { dataset: { testid: "user-status" } }, user.disabled
      ? h("span", { class: "badge off" }, "Disabled")
      : h("span", { class: "badge on" }, "Active")),
    h("td", { class: "actions" }, h("div", { class: "row-actions" },
      button("Edit", "user-edit", () => openUser(user)),
      button("Password", "user-reset", () => openPassword(user)),
      user.id === me ? null : button("Sign out", "user-signout", () => act(`/users/${user.id}/sign-out`, `${user.username} is signed out everywhere`)),
      user.id === me ? null : user.disabled
        ? button("Enable", "user-enable", () => act(`/users/${user.id}/enable`, `${user.username} can sign in again`), "ok")
        : button("Disable", "user-disable", () => act(`/users/${user.id}/disable`, `${user.username} is disabled and signed out`), "danger"))));
}

async function act(path, done) {
  try {
    await api("POST", path);
    toast(done);
    await Promise.all([loadUsers(), loadAudit()]);
  } catch (error) {
    toast(error.message, { kind: "error" });
  }
}

let editingUser = null;

function openUser(user = null) {
  editingUser = user;
  const form = $("[data-user-form]");
  form.reset();
  setText($("[data-user-dialog-title]"), user ? `Edit ${user.username}` : "Add a user");
  form.querySelectorAll("[data-new-only]").forEach((el) => { el.hidden = !!user; el.querySelector("input").required = !user; });
  if (user) {
    form.display_name.value = user.display_name;
    form.role.value = user.role;
    form.skills.value = user.skills.join(", ");
  }
  setText(form.querySelector("[data-form-error]"), "");
  $("[data-user-dialog]").showModal();
}

async function saveUser(event) {
  event.preventDefault();
  const form = event.target;
  const body = { display_name: form.display_name.value.trim(), role: form.role.value, skills: skillsOf(form.skills.value) };
  try {
    if (editingUser) await api("PATCH", `/users/${editingUser.id}`, body);
    else await api("POST", "/users", { ...body, username: form.username.value.trim(), password: form.password.value });
    $("[data-user-dialog]").close();
    toast(editingUser ? "Saved" : `${body.display_name} can sign in now`);
    await Promise.all([loadUsers(), loadAudit()]);
  } catch (error) {
    setText(form.querySelector("[data-form-error]"), error.message);
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
    toast(`New password set for ${passwordUser.username}`);
    await loadAudit();
  } catch (error) {
    setText(form.querySelector("[data-form-error]"), error.message);
  }
}

// -- queues ------------------------------------------------------------------------

async function loadQueues() {
  const { items } = await api("GET", "/queues");
  replace($("[data-queue-rows]"), items.map((queue) => h("tr", { dataset: { testid: `queue-${queue.name}` } },
    h("td", {}, h("strong", {}, queue.title), h("br"), h("span", { class: "muted" }, queue.name)),
    h("td", {}, queue.skills.length ? queue.skills.join(", ") : h("span", { class: "muted" }, "any agent")),
    h("td", {}, `${queue.service_level_target} s`),
    h("td", { dataset: { testid: "queue-hours" } }, hoursSummary(queue.hours)),
    h("td", { class: "actions" }, h("button", { type: "button", class: "btn small", dataset: { testid: "queue-edit" }, onclick: () => openQueue(queue) }, "Edit")))));
}

let editingQueue = null;

function buildWeek() {
  const week = $("[data-week]");
  for (const [key, name] of WEEKDAYS) {
    week.append(h("label", { class: "day" }, h("span", {}, name),
      h("input", { type: "text", name: `day-${key}`, placeholder: "closed", dataset: { testid: `queue-day-${key}` } })));
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
  setText($("[data-queue-dialog-title]"), queue ? `Edit ${queue.title}` : "Add a queue");
  form.querySelectorAll("[data-new-only]").forEach((el) => { el.hidden = !!queue; el.querySelector("input").required = !queue; });
  const hours = hoursToForm(queue?.hours ?? null);
  if (queue) {
    form.title.value = queue.title;
    form.skills.value = queue.skills.join(", ");
    form.service_level_target.value = queue.service_level_target;
    form.offer_timeout.value = queue.offer_timeout ?? "";
    form.wrapup_timeout.value = queue.wrapup_timeout ?? "";
    form.calling_hours.value = queue.calling_hours ?? "";
    form.dispositions.value = (queue.dispositions || []).join("\n");
  }
  form.always.checked = hours.always;
  for (const [key] of WEEKDAYS) form[`day-${key}`].value = hours.days[key];
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
    const days = Object.fromEntries(WEEKDAYS.map(([key]) => [key, form[`day-${key}`].value]));
    const body = {
      title: form.title.value.trim(), skills: skillsOf(form.skills.value),
      service_level_target: number(form.service_level_target) ?? 30,
      offer_timeout: number(form.offer_timeout), wrapup_timeout: number(form.wrapup_timeout),
      calling_hours: form.calling_hours.value.trim() || null, // null: the setting
      dispositions: form.dispositions.value.split("\n").map((line) => line.trim()).filter(Boolean),
      hours: hoursFromForm({ always: form.always.checked, days, exceptions: form.exceptions.value }),
    };
    if (!body.dispositions.length) body.dispositions = null; // the default list
    const name = editingQueue ? editingQueue.name : form.name.value.trim();
    await api("PUT", `/queues/${encodeURIComponent(name)}`, body);
    $("[data-queue-dialog]").close();
    toast(editingQueue ? "Saved: in effect now" : `${body.title} takes calls now`);
    await Promise.all([loadQueues(), loadAudit()]);
  } catch (failure) {
    setText(error, failure.message);
  }
}

// -- audit -------------------------------------------------------------------------

const ACTIONS = {
  "user.add": "added user", "user.update": "changed user", "user.disable": "disabled user",
  "user.enable": "re-enabled user", "user.password": "reset the password of", "user.sign_out": "signed out",
  "queue.add": "added queue", "queue.update": "changed queue",
  "kb.add": "added article", "kb.update": "changed article", "kb.publish": "published article",
  "kb.unpublish": "unpublished article", "kb.delete": "deleted article",
};

function changed(before, after) {
  if (!before || !after) return "";
  const keys = Object.keys(after).filter((key) => !["state", "disabled_at", "sessions_ended", "body", "updated_at"].includes(key)
    && JSON.stringify(before[key]) !== JSON.stringify(after[key]));
  return keys.map((key) => `${key}: ${JSON.stringify(before[key] ?? null)} → ${JSON.stringify(after[key])}`).join("; ");
}

async function loadAudit() {
  const { items } = await api("GET", "/audit?limit=30");
  replace($("[data-audit]"), items.length ? items.map((row) => {
    const who = row.after?.username || row.before?.username || row.after?.name || row.after?.title || row.before?.title || row.target;
    return h("li", { dataset: { testid: "audit-row", action: row.action } },
      h("time", { class: "muted" }, dateTime(row.at)), " ",
      h("span", {}, `${row.actor_name || row.actor} ${ACTIONS[row.action] || row.action} `, h("strong", {}, who)),
      changed(row.before, row.after) ? h("div", { class: "muted small diff" }, changed(row.before, row.after)) : null);
  }) : h("li", { class: "muted" }, "No changes yet."));
}

// -- start -------------------------------------------------------------------------

buildWeek();
$("[data-user-new]").addEventListener("click", () => openUser());
$("[data-queue-new]").addEventListener("click", () => openQueue());
$("[data-user-form]").addEventListener("submit", saveUser);
$("[data-password-form]").addEventListener("submit", savePassword);
$("[data-queue-form]").addEventListener("submit", saveQueue);
$("[data-queue-form]").always.addEventListener("change", syncAlways);
document.querySelectorAll("dialog [data-close]").forEach((button) => button.addEventListener("click", () => button.closest("dialog").close()));
// The knowledge base's section (kb.js) says when it changed something: the audit shows it.
document.addEventListener("otodesk:admin-changed", () => loadAudit().catch(() => undefined));
Promise.all([loadUsers(), loadQueues(), startWebhooks()]).then(loadAudit).catch((error) => toast(error.message, { kind: "error" }));
