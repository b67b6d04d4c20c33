// The admin console's knowledge base: list, add, edit, publish or unpublish, delete articles.
// Through the admin API (/api/v1/admin/kb/articles, audited); the body is Markdown, which the
// server renders and sanitises (desktop/kb/markdown.py).
import { h, replace, setText } from "../common/dom.js";
import { errorText } from "../common/errors.js";
import { toast } from "../common/toast.js";
import { api } from "./api.js";
import { t } from "./i18n.js";

const $ = (selector) => document.querySelector(selector);
const listOf = (text) => String(text || "").split(",").map((s) => s.trim()).filter(Boolean);
// Each language by its own name (as the language menus show them).
const LANGUAGES = { en: "English", "zh-CN": "简体中文", "zh-TW": "繁體中文" };
const changed = () => document.dispatchEvent(new CustomEvent("otodesk:admin-changed"));

async function load() {
  const { items } = await api("GET", "/kb/articles");
  replace($("[data-kb-rows]"), items.length ? items.map(row)
    : h("tr", {}, h("td", { colspan: "5", class: "muted" }, t("article.none"))));
}

function row(article) {
  const button = (label, testid, onclick, kind = "") => h("button", { type: "button", class: `btn small ${kind}`, dataset: { testid }, onclick }, label);
  const where = [...article.pages, ...article.queues.map((q) => t("article.queue", { queue: q }))].join(", ");
  return h("tr", { dataset: { testid: "kb-article", id: article.id } },
    // The article is the admin's own words, in its own language.
    h("td", { translate: "no" }, h("strong", {}, article.title), h("br"), h("span", { class: "muted small" }, [article.tags.join(", "), article.summary].filter(Boolean).join(" · "))),
    h("td", { translate: "no" }, LANGUAGES[article.language] || article.language),
    h("td", {}, where ? h("span", { translate: "no" }, where) : h("span", { class: "muted" }, t("article.anywhere"))),
    h("td", { dataset: { testid: "kb-status" } }, article.published
      ? h("span", { class: "badge on" }, t("article.published")) : h("span", { class: "badge off" }, t("article.draft"))),
    h("td", { class: "actions" }, h("div", { class: "row-actions" },
      button(t("article.edit"), "kb-edit", () => open(article.id)),
      article.published
        ? button(t("article.unpublish"), "kb-unpublish", () => act("POST", `/kb/articles/${article.id}/unpublish`, t("article.unpublished")))
        : button(t("article.publish"), "kb-publish", () => act("POST", `/kb/articles/${article.id}/publish`, t("article.published")), "ok"),
      button(t("article.delete"), "kb-delete", () => {
        if (window.confirm(t("article.confirm_delete", { title: article.title }))) {
          act("DELETE", `/kb/articles/${article.id}`, t("article.deleted"));
        }
      }, "danger"))));
}

async function act(method, path, done) {
  try {
    await api(method, path);
    toast(done);
    await load();
    changed();
  } catch (error) {
    toast(errorText(t, error), { kind: "error" });
  }
}

let editing = null;

async function open(id = null) {
  const form = $("[data-kb-form]");
  form.reset();
  setText(form.querySelector("[data-form-error]"), "");
  editing = id;
  setText($("[data-kb-dialog-title]"), t(id ? "article.edit_title" : "article.add"));
  if (id) {
    try {
      const article = await api("GET", `/kb/articles/${id}`);
      form.title.value = article.title;
      form.body.value = article.body;
      form.language.value = article.language;
      form.tags.value = article.tags.join(", ");
      form.pages.value = article.pages.join(", ");
      form.queues.value = article.queues.join(", ");
      form.published.checked = article.published;
    } catch (error) {
      toast(errorText(t, error), { kind: "error" });
      return;
    }
  }
  $("[data-kb-dialog]").showModal();
}

async function save(event) {
  event.preventDefault();
  const form = event.target;
  const body = {
    title: form.title.value.trim(), body: form.body.value, language: form.language.value,
    tags: listOf(form.tags.value), pages: listOf(form.pages.value), queues: listOf(form.queues.value).map((q) => q.toLowerCase()),
    published: form.published.checked,
  };
  try {
    if (editing) await api("PUT", `/kb/articles/${editing}`, body);
    else await api("POST", "/kb/articles", body);
    $("[data-kb-dialog]").close();
    toast(t(editing ? "article.saved" : body.published ? "article.published_now" : "article.saved_draft"));
    await load();
    changed();
  } catch (error) {
    setText(form.querySelector("[data-form-error]"), errorText(t, error));
  }
}

$("[data-kb-new]").addEventListener("click", () => open());
$("[data-kb-new]").disabled = false; // rendered disabled: a click before this line would be lost
$("[data-kb-form]").addEventListener("submit", save);
load().catch((error) => toast(errorText(t, error), { kind: "error" }));
