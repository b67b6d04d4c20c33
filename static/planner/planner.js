// The planner's workspace: the catalogue of actions and their editor, publishing, the
// "test a customer" panel, versions and audit, and the results tab (./stats.js).
import { errorText } from "../common/errors.js";
import { h, ready, replace } from "../common/dom.js";
import { toast } from "../common/toast.js";
import { rules } from "./api.js";
import { mountEditor } from "./editor.js";
import { mountTester } from "./tester.js";
import { showHistory } from "./history.js";
import { number, t } from "./i18n.js";
import { kindName } from "./kinds.js";

const rows = document.querySelector("[data-action-rows]");
const liveVersion = document.querySelector("[data-live-version]");
const draftsState = document.querySelector("[data-drafts-state]");
let actions = [];
let editor;

function selectTab(name) {
  for (const tab of document.querySelectorAll("[data-tab]")) {
    const on = tab.dataset.tab === name;
    tab.setAttribute("aria-selected", String(on));
    tab.tabIndex = on ? 0 : -1;
  }
  for (const panel of document.querySelectorAll("[data-panel]")) panel.hidden = panel.dataset.panel !== name;
  if (name === "history") showHistory(document.querySelector("[data-history]")).catch((e) => toast(e.message, { kind: "error" }));
  if (name === "results") {
    import("./stats.js").then((module) => module.mountStats(document.querySelector("[data-results]")))
      .catch((e) => toast(t("planner.results_failed", { error: e.message }), { kind: "error" }));
  }
}

for (const tab of document.querySelectorAll("[data-tab]")) {
  tab.addEventListener("click", () => selectTab(tab.dataset.tab));
  tab.addEventListener("keydown", (event) => {
    const tabs = [...document.querySelectorAll("[data-tab]")];
    const step = event.key === "ArrowRight" ? 1 : event.key === "ArrowLeft" ? -1 : 0;
    if (!step) return;
    const next = tabs[(tabs.indexOf(tab) + step + tabs.length) % tabs.length];
    next.focus();
    selectTab(next.dataset.tab);
  });
}

function renderList(selected) {
  replace(rows, actions.length ? actions.map((a) => h("tr", {
    class: ["action-row", a.id === selected ? "selected" : "", a.enabled ? "" : "off"],
    dataset: { testid: `action-${a.id}` }, tabindex: 0,
    onclick: () => { editor.edit(a); renderList(a.id); },
    onkeydown: (event) => { if (event.key === "Enter") { editor.edit(a); renderList(a.id); } },
  }, h("td", { translate: "no" }, h("strong", {}, a.title), h("br"), h("code", { class: "muted small" }, a.id)),
  h("td", {}, h("span", { class: "badge", dataset: { kind: a.kind } }, kindName(a.kind))),
  h("td", {}, a.queues.length ? h("span", { translate: "no" }, a.queues.join(", ")) : h("span", { class: "muted" }, t("planner.all_queues"))),
  h("td", {}, number(a.value)))) : h("tr", {}, h("td", { colspan: 4, class: "muted" }, t("planner.no_actions"))));
}

async function refresh(selected) {
  const [list, versions] = await Promise.all([rules.actions(), rules.versions()]);
  actions = list;
  renderList(selected);
  liveVersion.textContent = versions.live ? t("planner.live", { version: versions.live }) : t("planner.nothing_live");
  const newest = versions.items[0];
  draftsState.textContent = newest ? t("planner.last_published", { version: newest.version, count: newest.count }) : t("planner.never_published");
}

async function main() {
  const fields = await rules.fields();
  editor = mountEditor(document.querySelector("[data-editor]"), {
    fields,
    onSaved: (saved) => refresh(saved.id),
    onDeleted: () => refresh(null),
  });
  document.querySelector("[data-new-action]").addEventListener("click", () => { editor.edit(null); renderList(null); });
  document.querySelector("[data-publish-form]").addEventListener("submit", async (event) => {
    event.preventDefault();
    const note = event.target.elements.note;
    try {
      const { version, actions: count } = await rules.publish(note.value);
      note.value = "";
      toast(t("planner.published", { version, count }), { kind: "ok" });
      await refresh();
    } catch (error) {
      toast(t("planner.not_published", { error: errorText(t, error) }), { kind: "error", seconds: 0 });
    }
  });
  mountTester(document.querySelector("[data-tester]"));
  ready();
  await refresh();
}

main().catch((error) => toast(t("planner.load_failed", { error: errorText(t, error) }), { kind: "error", seconds: 0 }));
