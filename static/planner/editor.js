// The action editor: every field of an action, conditions checked as they are typed (with
// the position of what is wrong), and the script previewed against a chosen customer.
import { h, replace } from "../common/dom.js";
import { toast } from "../common/toast.js";
import { rules, ApiError } from "./api.js";
import { showError } from "./conditions.js";

const KINDS = ["cross-sell", "up-sell", "retention", "service", "information"];
const STAGES = [
  ["eligibility", "Eligibility", "Does the customer qualify? e.g. tier == \"gold\""],
  ["applicability", "Applicability", "Is it relevant now? e.g. \"aurora-laptop-14\" in cart_skus"],
  ["suitability", "Suitability", "Is it in the customer's interest? e.g. not (\"voyager-laptop-bag\" in owned)"],
];
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
  const heading = h("h2", { dataset: { testid: "editor-title" } }, "New action");
  const errors = {};
  const controls = {};

  controls.id = input("id", { required: true, pattern: "[a-z0-9][a-z0-9-]{0,63}", placeholder: "laptop-bag" });
  controls.kind = h("select", { name: "kind", id: "f-kind", dataset: { testid: "field-kind" } },
    KINDS.map((kind) => h("option", { value: kind }, kind)));
  controls.title = input("title", { required: true, maxlength: 200, placeholder: "Laptop bag with the laptop" });
  controls.script = h("textarea", { name: "script", id: "f-script", rows: 4, dataset: { testid: "field-script" },
    placeholder: "{first_name|Hello}, the {product} fits your laptop exactly." });
  controls.product_sku = input("product_sku", { placeholder: "voyager-laptop-bag" });
  controls.product_name = input("product_name", { placeholder: "Voyager Laptop Bag" });
  controls.push_kind = h("select", { name: "push_kind", id: "f-push_kind", dataset: { testid: "field-push_kind" } },
    h("option", { value: "" }, "Nothing"), h("option", { value: "page" }, "A page (go to this page)"),
    h("option", { value: "document" }, "A document (its id)"));
  controls.push_target = input("push_target", { placeholder: "/product/voyager-laptop-bag" });
  controls.value = input("value", { type: "number", step: "any", min: 0, value: 1 });
  controls.lever = input("lever", { type: "number", step: "any", min: 0, value: 1 });
  controls.priority = input("priority", { type: "number", step: "any", min: 0, value: 1 });
  controls.valid_from = input("valid_from", { type: "datetime-local" });
  controls.valid_until = input("valid_until", { type: "datetime-local" });
  controls.queues = input("queues", { placeholder: "sales, support (empty: every queue)" });
  controls.max_impressions = input("max_impressions", { type: "number", min: 1, step: 1, placeholder: "no cap" });
  controls.window_days = input("window_days", { type: "number", min: 1, step: "any", value: 30 });
  controls.refusal_days = input("refusal_days", { type: "number", min: 0, step: "any", placeholder: "declines don't count" });
  controls.enabled = h("input", { type: "checkbox", name: "enabled", id: "f-enabled", checked: true, dataset: { testid: "field-enabled" } });
  for (const [name] of STAGES) {
    controls[name] = h("textarea", { name, id: `f-${name}`, rows: 2, spellcheck: "false", class: "code", dataset: { testid: `field-${name}` } });
  }
  for (const name of ["id", "title", "script", "eligibility", "applicability", "suitability", "valid_until", "policy"]) {
    errors[name] = errorBox(name);
  }

  // The script's preview against a customer the planner picks.
  const preview = h("div", { class: "preview", dataset: { testid: "script-preview" }, "aria-live": "polite" });
  const customerQuery = h("input", { type: "search", placeholder: "Preview as… (name, e-mail, phone)", dataset: { testid: "preview-customer" } });
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
      replace(preview, h("span", { class: "muted small" }, previewCustomer ? `As ${previewCustomer.name || previewCustomer.id}: ` : "As an unknown customer: "), text);
    } catch (error) {
      replace(preview, h("span", { class: "muted" }, error.message));
    }
  }, CHECK_DELAY);

  const checkField = debounce(async (name) => {
    try {
      const { errors: found } = await rules.validate({ [name]: controls[name].value });
      showError(errors[name], controls[name].value, found.find((e) => e.field === name) || null);
    } catch { /* the save will tell */ }
  }, CHECK_DELAY);
  for (const name of ["eligibility", "applicability", "suitability", "script"]) {
    controls[name].addEventListener("input", () => checkField(name));
  }
  controls.script.addEventListener("input", refreshPreview);
  controls.product_name.addEventListener("input", refreshPreview);

  const saveButton = h("button", { type: "submit", class: "btn primary", dataset: { testid: "btn-save-action" } }, "Save draft");
  const deleteButton = h("button", { type: "button", class: "btn danger", dataset: { testid: "btn-delete-action" }, onclick: remove }, "Delete");

  replace(form,
    heading,
    h("div", { class: "grid two" },
      h("div", {}, labelled("id", "Id", controls.id, "lower-case letters, digits and dashes; fixed once saved"), errors.id),
      labelled("kind", "Kind", controls.kind)),
    labelled("title", "Title (what the agent sees first)", controls.title), errors.title,
    h("fieldset", {}, h("legend", {}, "Script"),
      labelled("script", "Script", controls.script, "Placeholders: {first_name|fallback}, {product}, {tier}, {cart_names}, {context.key}…"),
      errors.script, customerQuery, customerChoices, preview),
    h("fieldset", {}, h("legend", {}, "Product and push"),
      h("div", { class: "grid two" }, labelled("product_sku", "Product SKU", controls.product_sku),
        labelled("product_name", "Product name ({product})", controls.product_name)),
      h("div", { class: "grid two" }, labelled("push_kind", "One-click push", controls.push_kind),
        labelled("push_target", "Page URL or document id", controls.push_target))),
    h("fieldset", {}, h("legend", {}, "Conditions"),
      STAGES.map(([name, text, hint]) => [labelled(name, text, controls[name], hint), errors[name]]),
      h("p", { class: "muted small" }, "Empty means always. Fields: ", h("span", { class: "field-names" },
        fields.map((f) => h("code", { title: `${f.type}: ${f.help}` }, f.name)).flatMap((c, i) => i ? [" ", c] : [c])))),
    h("fieldset", {}, h("legend", {}, "Ranking, validity and queues"),
      h("div", { class: "grid three" }, labelled("value", "Business value", controls.value),
        labelled("priority", "Priority", controls.priority), labelled("lever", "Lever ×", controls.lever)),
      h("div", { class: "grid two" }, labelled("valid_from", "Valid from", controls.valid_from),
        h("div", {}, labelled("valid_until", "Valid until", controls.valid_until), errors.valid_until)),
      labelled("queues", "Queues", controls.queues)),
    h("fieldset", {}, h("legend", {}, "Contact policy"),
      h("div", { class: "grid three" }, labelled("max_impressions", "At most … impressions", controls.max_impressions),
        labelled("window_days", "… per days", controls.window_days),
        labelled("refusal_days", "Not again after a refusal for days", controls.refusal_days)), errors.policy),
    h("label", { class: "check" }, controls.enabled, " Enabled"),
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
    heading.textContent = action ? `Edit “${action.title}”` : "New action";
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
      toast(`Saved “${saved.title}” as a draft.`, { kind: "ok" });
      onSaved(saved);
    } catch (error) {
      if (error instanceof ApiError && error.errors.length) {
        for (const found of error.errors) {
          const box = errors[found.field] || errors.title;
          showError(box, String(action[found.field] ?? ""), found);
        }
        const first = error.errors[0];
        controls[first.field]?.focus?.();
        toast("The action was not saved: see the marked field.", { kind: "error" });
      } else {
        toast(error.message, { kind: "error", seconds: 0 });
      }
    }
  }

  async function remove() {
    if (!current || !confirm(`Delete the draft “${current.title}”? Published versions keep it.`)) return;
    try {
      await rules.remove(current.id);
      toast(`Deleted “${current.title}”.`);
      onDeleted(current);
      edit(null);
    } catch (error) {
      toast(error.message, { kind: "error", seconds: 0 });
    }
  }

  function edit(action) {
    current = action;
    fill(action);
  }

  edit(null);
  return { edit };
}
