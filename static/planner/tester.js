// "Test a customer": which actions would show for a customer (or a pasted snapshot) now, in
// what order, and why each other one was not shown.
import { h, replace } from "../common/dom.js";
import { rules } from "./api.js";

const STAGE_NAMES = {
  disabled: "Switched off", queue: "Queue", validity: "Validity", eligibility: "Eligibility",
  applicability: "Applicability", suitability: "Suitability", contact_policy: "Contact policy",
  error: "Error", arbitration: "Arbitration",
};

export function mountTester(root) {
  let customer = null;
  const query = h("input", { type: "search", id: "t-customer", placeholder: "Name, e-mail, phone or id", dataset: { testid: "test-customer" } });
  const choices = h("div", { class: "choices", dataset: { testid: "test-choices" } });
  const chosen = h("p", { class: "muted small", dataset: { testid: "test-chosen" } }, "No customer chosen.");
  const queue = h("input", { id: "t-queue", placeholder: "any queue", dataset: { testid: "test-queue" } });
  const version = h("select", { id: "t-version", dataset: { testid: "test-version" } },
    h("option", { value: "" }, "The live version"), h("option", { value: "0" }, "The drafts, as they are now"));
  const snapshot = h("textarea", { id: "t-snapshot", rows: 5, class: "code", spellcheck: "false", dataset: { testid: "test-snapshot" },
    placeholder: '{"tier": "gold", "cart_skus": ["aurora-laptop-14"], "cart_total": 1299}' });
  const run = h("button", { type: "submit", class: "btn primary", dataset: { testid: "btn-run-test" } }, "Test");
  const out = h("div", { class: "test-result", dataset: { testid: "test-result" }, "aria-live": "polite" });

  async function search() {
    const q = query.value.trim();
    if (q.length < 2) return replace(choices);
    try {
      const found = await rules.searchCustomers(q);
      replace(choices, found.length ? found.map((c) => h("button", {
        type: "button", class: "chip", dataset: { testid: `choose-${c.id}` },
        onclick: () => { customer = c; replace(chosen, "Testing ", h("strong", {}, c.name || c.id), ` (${c.tier})`); replace(choices); },
      }, `${c.name || c.id} · ${c.tier}`)) : h("span", { class: "muted small" }, "No one found."));
    } catch (error) {
      replace(choices, h("span", { class: "muted small" }, error.message));
    }
  }
  let timer;
  query.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(search, 250); });

  const form = h("form", { class: "tester-form", dataset: { testid: "test-form" } },
    h("h2", {}, "Test a customer"),
    h("p", { class: "muted" }, "Pick a customer, or paste a snapshot (it wins), and see what the desk would suggest now."),
    h("div", { class: "grid two" },
      h("div", { class: "field" }, h("label", { for: "t-customer" }, "Customer"), query, choices, chosen),
      h("div", { class: "field" }, h("label", { for: "t-queue" }, "Queue"), queue,
        h("label", { for: "t-version" }, "Catalogue"), version)),
    h("div", { class: "field" }, h("label", { for: "t-snapshot" }, "…or a snapshot (JSON)"), snapshot),
    h("div", { class: "form-actions" }, run));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = { queue: queue.value.trim() || null, version: version.value === "" ? null : Number(version.value) };
    if (snapshot.value.trim()) {
      try {
        body.snapshot = JSON.parse(snapshot.value);
      } catch (error) {
        return replace(out, h("p", { class: "field-error", role: "alert" }, `The snapshot is not JSON: ${error.message}`));
      }
    } else if (customer) {
      body.customer_id = customer.id;
    } else {
      return replace(out, h("p", { class: "field-error", role: "alert" }, "Choose a customer or paste a snapshot."));
    }
    try {
      show(await rules.test(body));
    } catch (error) {
      replace(out, h("p", { class: "field-error", role: "alert" }, error.message));
    }
  });

  function show(result) {
    replace(out,
      h("p", { class: "muted small" }, result.version ? `Version ${result.version}` : "Drafts",
        result.errors ? ` · ${result.errors} condition(s) raised and were skipped` : ""),
      h("h3", {}, "Would show, in this order"),
      result.suggestions.length
        ? h("ol", { class: "suggestions", dataset: { testid: "test-suggestions" } }, result.suggestions.map((s) =>
          h("li", { dataset: { testid: `suggested-${s.action_id}` } },
            h("strong", {}, s.title), " ", h("span", { class: "badge" }, s.kind),
            h("span", { class: "muted small" }, ` score ${+s.score.toFixed(2)}`),
            h("p", { class: "script" }, s.script))))
        : h("p", { class: "muted", dataset: { testid: "test-nothing" } }, "Nothing would show."),
      h("h3", {}, "Not shown, and why"),
      result.excluded.length
        ? h("table", { class: "excluded", dataset: { testid: "test-excluded" } },
          h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Action"), h("th", { scope: "col" }, "Stage"), h("th", { scope: "col" }, "Reason"))),
          h("tbody", {}, result.excluded.map((e) => h("tr", { dataset: { testid: `excluded-${e.action_id}`, stage: e.stage } },
            h("td", {}, e.title), h("td", {}, h("span", { class: "stage", dataset: { stage: e.stage } }, STAGE_NAMES[e.stage] || e.stage)),
            h("td", { class: "reason" }, e.reason)))))
        : h("p", { class: "muted" }, "Every action would show."));
  }

  replace(root, form, out);
}
