// The action editor: every field of an action, conditions checked as they are typed (with
// the position of what is wrong), and the script previewed against a chosen customer.
import { errorText } from "../common/errors.js";
import { h, replace } from "../common/dom.js";
import { toast } from "../common/toast.js";
import { rules, ApiError } from "./api.js";
import { showError } from "./conditions.js";
import { t } from "./i18n.js";
import { KINDS, kindName } from "./kinds.js";

// Each stage's condition: its name, a hint (keys of the page's catalogue) and an example in
// the conditions' own language (code: never translated).
const STAGES = [
  ["eligibility", "stage.eligibility", "editor.hint_eligibility", 'tier == "gold"'],
  ["applicability", "stage.applicability", "editor.hint_applicability", '"aurora-laptop-14" in cart_skus'],
  ["suitability", "stage.suitability", "editor.hint_suitability", 'not ("voyager-laptop-bag" in owned)'],
];
const PLACEHOLDERS = "{first_name|fallback}, {product}, {tier}, {cart_names}, {context.key}…";
// Examples of identifiers and data (translate="no" on their inputs: not words to translate).
const EXAMPLES = { id: "laptop-bag", product_sku: "voyager-laptop-bag", product_name: "Voyager Laptop Bag",
  push_target: "/product/voyager-laptop-bag" };
const CHECK_DELAY = 300; // ms after the last keystroke

function debounce(fn, ms) {
  let timer;
  return (...args) => { clearTimeout(timer); timer = setTimeout(() => fn(...args), ms); };
}

function toLocal(epoch) {
  if (epoch == null) return "";
  const d = new Date(epoch * 1000);
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

function fromLocal(text) {
  return text ? new Date(text).getTime() / 1000 : null;
}

function numberOrNull(text) {
  return text === "" || text == null ? null : Number(text);
}

/** Mount the editor in `root`; returns `{ edit(action | null) }`. */
export function mountEditor(root, { onSaved, onDeleted, fields }) {
  let current = null; // the action being edited (null: a new one)
  let previewCustomer = null; // {id, name}

  const input = (name, attrs = {}) => h("input", { name, id: `f-${name}`, dataset: { testid: `field-${name}` }, ...attrs });
  const labelled = (name, text, control, hint) => h("div", { class: "field" },
    h("label", { for: `f-${name}` }, text), control, hint ? h("small", { class: "muted" }, hint) : null);
  const errorBox = (name) => h("div", { class: "field-error", role: "alert", hidden: true, dataset: { testid: `error-${name}` } });

  const form = h("form", { class: "editor", novalidate: true, dataset: { testid: "action-form" } });
  const heading = h("h2", { dataset: { testid: "editor-title" } }, t("editor.new"));
  const errors = {};
  const controls = {};

  controls.id = input("id", { required: true, pattern: "[a-z0-9][a-z0-9-]{0,63}", placeholder: EXAMPLES.id, translate: "no" });
  controls.kind = h("select", { name: "kind", id: "f-kind", dataset: { testid: "field-kind" } },
    KINDS.map((kind) => h("option", { value: kind }, kindName(kind))));
  controls.title = input("title", { required: true, maxlength: 200, placeholder: t("editor.ph_title") });
  controls.script = h("textarea", { name: "script", id: "f-script", rows: 4, dataset: { testid: "field-script" },
    placeholder: t("editor.ph_script") });
  controls.product_sku = input("product_sku", { placeholder: EXAMPLES.product_sku, translate: "no" });
  controls.product_name = input("product_name", { placeholder: EXAMPLES.product_name, translate: "no" });
  controls.push_kind = h("select", { name: "push_kind", id: "f-push_kind", dataset: { testid: "field-push_kind" } },
    h("option", { value: "" }, t("editor.push_none")), h("option", { value: "page" }, t("editor.push_page")),
    h("option", { value: "document" }, t("editor.push_document")));
  controls.push_target = input("push_target", { placeholder: EXAMPLES.push_target, translate: "no" });
  controls.value = input("value", { type: "number", step: "any", min: 0, value: 1 });
  controls.lever = input("lever", { type: "number", step: "any", min: 0, value: 1 });
  controls.priority = input("priority", { type: "number", step: "any", min: 0, value: 1 });
  controls.valid_from = input("valid_from", { type: "datetime-local" });
  controls.valid_until = input("valid_until", { type: "datetime-local" });
  controls.queues = input("queues", { placeholder: t("editor.ph_queues") });
  controls.max_impressions = input("max_impressions", { type: "number", min: 1, step: 1, placeholder: t("editor.ph_no_cap") });
  controls.window_days = input("window_days", { type: "number", min: 1, step: "any", value: 30 });
  controls.refusal_days = input("refusal_days", { type: "number", min: 0, step: "any", placeholder: t("editor.ph_refusals") });
  controls.enabled = h("input", { type: "checkbox", name: "enabled", id: "f-enabled", checked: true, dataset: { testid: "field-enabled" } });
  for (const [name] of STAGES) {
    controls[name] = h("textarea", { name, id: `f-${name}`, rows: 2, spellcheck: "false", class: "code", dataset: { testid: `field-${name}` } });
  }
  for (const name of ["id", "title", "script", "eligibility", "applicability", "suitability", "valid_until", "policy"]) {
    errors[name] = errorBox(name);
  }

  // The script's preview against a customer the planner picks.
  const preview = h("div", { class: "preview", dataset: { testid: "script-preview" }, "aria-live": "polite" });
  const customerQuery = h("input", { type: "search", placeholder: t("editor.ph_preview"), dataset: { testid: "preview-customer" } });
  const customerChoices = h("div", { class: "choices" });
  customerQuery.addEventListener("input", debounce(async () => {
    const q = customerQuery.value.trim();
    if (q.length < 2) return replace(customerChoices);
    try {
      const found = await rules.searchCustomers(q);
      replace(customerChoices, found.map((c) => h("button", {
        type: "button", class: "chip", onclick: () => { previewCustomer = c; customerQuery.value = c.name || c.id; replace(customerChoices); refreshPreview(); },
      }, c.name || c.id)));
    } catch { /* search is a convenience */ }
  }, CHECK_DELAY));

  const refreshPreview = debounce(async () => {
    try {
      const { text } = await rules.preview({ script: controls.script.value, product_name: controls.product_name.value,
        customer_id: previewCustomer?.id ?? null });
      replace(preview, h("span", { class: "muted small" }, previewCustomer ? t("editor.preview_as", { name: previewCustomer.name || previewCustomer.id }) : t("editor.preview_unknown")), text);
    } catch (error) {
      replace(preview, h("span", { class: "muted" }, errorText(t, error)));
    }
  }, CHECK_DELAY);

  // One timer a field: typing in the next field must not cancel this one's check.
  for (const name of ["eligibility", "applicability", "suitability", "script"]) {
    const check = debounce(async () => {
      const text = controls[name].value;
      try {
        const { errors: found } = await rules.validate({ [name]: text });
        if (controls[name].value === text) showError(errors[name], text, found.find((e) => e.field === name) || null);
      } catch { /* the save will tell */ }
    }, CHECK_DELAY);
    controls[name].addEventListener("input", check);
  }
  controls.script.addEventListener("input", refreshPreview);
  controls.product_name.addEventListener("input", refreshPreview);

  const saveButton = h("button", { type: "submit", class: "btn primary", dataset: { testid: "btn-save-action" } }, t("editor.save"));
  const deleteButton = h("button", { type: "button", class: "btn danger", dataset: { testid: "btn-delete-action" }, onclick: remove }, t("editor.delete"));

  replace(form,
    heading,
    h("div", { class: "grid two" },
      h("div", {}, labelled("id", t("editor.id"), controls.id, t("editor.id_hint")), errors.id),
      labelled("kind", t("editor.kind"), controls.kind)),
    labelled("title", t("editor.title"), controls.title), errors.title,
    h("fieldset", {}, h("legend", {}, t("editor.script")),
      labelled("script", t("editor.script"), controls.script, [t("editor.script_hint"), " ", h("code", { translate: "no" }, PLACEHOLDERS)]),
      errors.script, customerQuery, customerChoices, preview),
    h("fieldset", {}, h("legend", {}, t("editor.product_push")),
      h("div", { class: "grid two" }, labelled("product_sku", t("editor.sku"), controls.product_sku),
        labelled("product_name", t("editor.product_name"), controls.product_name)),
      h("div", { class: "grid two" }, labelled("push_kind", t("editor.push"), controls.push_kind),
        labelled("push_target", t("editor.push_target"), controls.push_target))),
    h("fieldset", {}, h("legend", {}, t("editor.conditions")),
      STAGES.map(([name, text, hint, example]) => [
        labelled(name, t(text), controls[name], [t(hint), " ", h("code", { translate: "no" }, example)]), errors[name]]),
      // The fields' names are the conditions' own language; their help comes from the server.
      h("p", { class: "muted small" }, t("editor.fields"), " ", h("span", { class: "field-names", translate: "no" },
        fields.map((f) => h("code", { title: `${f.type}: ${f.help}` }, f.name)).flatMap((c, i) => i ? [" ", c] : [c])))),
    h("fieldset", {}, h("legend", {}, t("editor.ranking")),
      h("div", { class: "grid three" }, labelled("value", t("editor.value"), controls.value),
        labelled("priority", t("editor.priority"), controls.priority), labelled("lever", t("editor.lever"), controls.lever)),
      h("div", { class: "grid two" }, labelled("valid_from", t("editor.valid_from"), controls.valid_from),
        h("div", {}, labelled("valid_until", t("editor.valid_until"), controls.valid_until), errors.valid_until)),
      labelled("queues", t("editor.queues"), controls.queues)),
    h("fieldset", {}, h("legend", {}, t("editor.policy")),
      h("div", { class: "grid three" }, labelled("max_impressions", t("editor.max_impressions"), controls.max_impressions),
        labelled("window_days", t("editor.window_days"), controls.window_days),
        labelled("refusal_days", t("editor.refusal_days"), controls.refusal_days)), errors.policy),
    h("label", { class: "check" }, controls.enabled, " ", t("editor.enabled")),
    h("div", { class: "form-actions" }, saveButton, deleteButton));
  replace(root, form);
  form.addEventListener("submit", (event) => { event.preventDefault(); save(); });

  function read() {
    const push = controls.push_kind.value ? { kind: controls.push_kind.value, target: controls.push_target.value.trim(), label: "" } : null;
    return {
      id: controls.id.value.trim(), kind: controls.kind.value, title: controls.title.value.trim(),
      script: controls.script.value, product_sku: controls.product_sku.value.trim(),
      product_name: controls.product_name.value.trim(), push,
      value: Number(controls.value.value || 0), lever: Number(controls.lever.value || 0),
      priority: Number(controls.priority.value || 0),
      valid_from: fromLocal(controls.valid_from.value), valid_until: fromLocal(controls.valid_until.value),
      queues: controls.queues.value.split(",").map((q) => q.trim()).filter(Boolean),
      eligibility: controls.eligibility.value, applicability: controls.applicability.value,
      suitability: controls.suitability.value,
      policy: { max_impressions: numberOrNull(controls.max_impressions.value),
        window_days: Number(controls.window_days.value || 30), refusal_days: numberOrNull(controls.refusal_days.value) },
      enabled: controls.enabled.checked,
    };
  }

  function fill(action) {
    const a = action || {};
    controls.id.value = a.id || "";
    controls.id.disabled = Boolean(action);
    controls.kind.value = a.kind || "cross-sell";
    controls.title.value = a.title || "";
    controls.script.value = a.script || "";
    controls.product_sku.value = a.product_sku || "";
    controls.product_name.value = a.product_name || "";
    controls.push_kind.value = a.push?.kind || "";
    controls.push_target.value = a.push?.target || "";
    controls.value.value = a.value ?? 1;
    controls.lever.value = a.lever ?? 1;
    controls.priority.value = a.priority ?? 1;
    controls.valid_from.value = toLocal(a.valid_from);
    controls.valid_until.value = toLocal(a.valid_until);
    controls.queues.value = (a.queues || []).join(", ");
    for (const [name] of STAGES) controls[name].value = a[name] || "";
    controls.max_impressions.value = a.policy?.max_impressions ?? "";
    controls.window_days.value = a.policy?.window_days ?? 30;
    controls.refusal_days.value = a.policy?.refusal_days ?? "";
    controls.enabled.checked = a.enabled ?? true;
    heading.textContent = action ? t("editor.edit", { title: action.title }) : t("editor.new");
    deleteButton.hidden = !action;
    for (const [name, box] of Object.entries(errors)) showError(box, "", null);
    refreshPreview();
  }

  async function save() {
    const action = read();
    for (const box of Object.values(errors)) showError(box, "", null);
    try {
      const saved = current ? await rules.update(action) : await rules.create(action);
      current = saved;
      fill(saved);
      toast(t("editor.saved", { title: saved.title }), { kind: "ok" });
      onSaved(saved);
    } catch (error) {
      if (error instanceof ApiError && error.errors.length) {
        for (const found of error.errors) {
          const box = errors[found.field] || errors.title;
          showError(box, String(action[found.field] ?? ""), found);
        }
        const first = error.errors[0];
        controls[first.field]?.focus?.();
        toast(t("editor.not_saved"), { kind: "error" });
      } else {
        toast(errorText(t, error), { kind: "error", seconds: 0 });
      }
    }
  }

  async function remove() {
    if (!current || !confirm(t("editor.confirm_delete", { title: current.title }))) return;
    try {
      await rules.remove(current.id);
      toast(t("editor.deleted", { title: current.title }));
      onDeleted(current);
      edit(null);
    } catch (error) {
      toast(errorText(t, error), { kind: "error", seconds: 0 });
    }
  }

  function edit(action) {
    current = action;
    fill(action);
  }

  edit(null);
  return { edit };
}
