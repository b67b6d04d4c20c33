// "Test a customer": which actions would show for a customer (or a pasted snapshot) now, in
// what order, and why each other one was not shown.
import { errorText } from "../common/errors.js";
import { h, replace } from "../common/dom.js";
import { rules } from "./api.js";
import { number, t } from "./i18n.js";
import { kindName, tierName } from "./kinds.js";

// The matcher's stages are codes (desktop/rules); these are their names.
const STAGE_NAMES = {
  disabled: "stage.disabled", queue: "stage.queue", validity: "stage.validity", eligibility: "stage.eligibility",
  applicability: "stage.applicability", suitability: "stage.suitability", contact_policy: "stage.contact_policy",
  error: "stage.error", arbitration: "stage.arbitration",
};

export function mountTester(root) {
  let customer = null;
  const query = h("input", { type: "search", id: "t-customer", placeholder: t("tester.ph_customer"), dataset: { testid: "test-customer" } });
  const choices = h("div", { class: "choices", dataset: { testid: "test-choices" } });
  const chosen = h("p", { class: "muted small", dataset: { testid: "test-chosen" } }, t("tester.none_chosen"));
  const queue = h("input", { id: "t-queue", placeholder: t("tester.any_queue"), dataset: { testid: "test-queue" } });
  const version = h("select", { id: "t-version", dataset: { testid: "test-version" } },
    h("option", { value: "" }, t("tester.live_version")), h("option", { value: "0" }, t("tester.drafts")));
  const snapshot = h("textarea", { id: "t-snapshot", rows: 5, class: "code", spellcheck: "false", dataset: { testid: "test-snapshot" },
    placeholder: '{"tier": "gold", "cart_skus": ["aurora-laptop-14"], "cart_total": 1299}' });
  const run = h("button", { type: "submit", class: "btn primary", dataset: { testid: "btn-run-test" } }, t("tester.run"));
  const out = h("div", { class: "test-result", dataset: { testid: "test-result" }, "aria-live": "polite" });

  async function search() {
    const q = query.value.trim();
    if (q.length < 2) return replace(choices);
    try {
      const found = await rules.searchCustomers(q);
      replace(choices, found.length ? found.map((c) => h("button", {
        type: "button", class: "chip", dataset: { testid: `choose-${c.id}` },
        onclick: () => { customer = c; replace(chosen, t("tester.testing", { name: c.name || c.id, tier: tierName(c.tier) })); replace(choices); },
      }, t("tester.choice", { name: c.name || c.id, tier: tierName(c.tier) }))) : h("span", { class: "muted small" }, t("tester.no_one")));
    } catch (error) {
      replace(choices, h("span", { class: "muted small" }, errorText(t, error)));
    }
  }
  let timer;
  query.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(search, 250); });

  const form = h("form", { class: "tester-form", dataset: { testid: "test-form" } },
    h("h2", {}, t("tester.title")),
    h("p", { class: "muted" }, t("tester.intro")),
    h("div", { class: "grid two" },
      h("div", { class: "field" }, h("label", { for: "t-customer" }, t("tester.customer")), query, choices, chosen),
      h("div", { class: "field" }, h("label", { for: "t-queue" }, t("tester.queue")), queue,
        h("label", { for: "t-version" }, t("tester.catalogue")), version)),
    h("div", { class: "field" }, h("label", { for: "t-snapshot" }, t("tester.snapshot")), snapshot),
    h("div", { class: "form-actions" }, run));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = { queue: queue.value.trim() || null, version: version.value === "" ? null : Number(version.value) };
    if (snapshot.value.trim()) {
      try {
        body.snapshot = JSON.parse(snapshot.value);
      } catch (error) {
        return replace(out, h("p", { class: "field-error", role: "alert" }, t("tester.not_json", { error: error.message })));
      }
    } else if (customer) {
      body.customer_id = customer.id;
    } else {
      return replace(out, h("p", { class: "field-error", role: "alert" }, t("tester.choose")));
    }
    try {
      show(await rules.test(body));
    } catch (error) {
      replace(out, h("p", { class: "field-error", role: "alert" }, errorText(t, error)));
    }
  });

  function show(result) {
    replace(out,
      h("p", { class: "muted small" }, result.version ? t("tester.version", { version: result.version }) : t("tester.drafts_short"),
        result.errors ? t("tester.errors", { count: result.errors }) : ""),
      h("h3", {}, t("tester.would_show")),
      result.suggestions.length
        ? h("ol", { class: "suggestions", dataset: { testid: "test-suggestions" } }, result.suggestions.map((s) =>
          h("li", { dataset: { testid: `suggested-${s.action_id}` } },
            h("strong", { translate: "no" }, s.title), " ", h("span", { class: "badge" }, kindName(s.kind)),
            h("span", { class: "muted small" }, t("tester.score", { score: number(+s.score.toFixed(2)) })),
            h("p", { class: "script", translate: "no" }, s.script))))
        : h("p", { class: "muted", dataset: { testid: "test-nothing" } }, t("tester.nothing")),
      h("h3", {}, t("tester.not_shown")),
      result.excluded.length
        ? h("table", { class: "excluded", dataset: { testid: "test-excluded" } },
          h("thead", {}, h("tr", {}, h("th", { scope: "col" }, t("tester.col_action")), h("th", { scope: "col" }, t("tester.col_stage")), h("th", { scope: "col" }, t("tester.col_reason")))),
          h("tbody", {}, result.excluded.map((e) => h("tr", { dataset: { testid: `excluded-${e.action_id}`, stage: e.stage } },
            h("td", { translate: "no" }, e.title), h("td", {}, h("span", { class: "stage", dataset: { stage: e.stage } }, STAGE_NAMES[e.stage] ? t(STAGE_NAMES[e.stage]) : e.stage)),
            // The reason quotes the condition, in the conditions' own language (the server's).
            h("td", { class: "reason", translate: "no" }, e.reason)))))
        : h("p", { class: "muted" }, t("tester.every_action")));
  }

  replace(root, form, out);
}
