// The admin console's knowledge base: list, add, edit, publish or unpublish, delete articles.
// Through the admin API (/api/v1/admin/kb/articles, audited); the body is Markdown, which the
// server renders and sanitises (desktop/kb/markdown.py).
import { h, replace, setText } from "../common/dom.js";
import { toast } from "../common/toast.js";
import { api } from "./api.js";

const $ = (selector) => document.querySelector(selector);
const listOf = (text) => String(text || "").split(",").map((s) => s.trim()).filter(Boolean);
const LANGUAGES = { en: "English", "zh-CN": "简体中文", "zh-TW": "繁體中文" };
const changed = () => document.dispatchEvent(new CustomEvent("otodesk:admin-changed"));

async function load() {
  const { items } = await api("GET", "/kb/articles");
  replace($("[data-kb-rows]"), items.length ? items.map(row)
    : h("tr", {}, h("td", { colspan: "5", class: "muted" }, "No articles yet.")));
}

function row(article) {
  const button = (label, testid, onclick, kind = "") => h("button", { type: "button", class: `btn small ${kind}`, dataset: { testid }, onclick }, label);
  const where = [...article.pages, ...article.queues.map((q) => `queue ${q}`)].join(", ");
  return h("tr", { dataset: { testid: "kb-article", id: article.id } },
    h("td", {}, h("strong", {}, article.title), h("br"), h("span", { class: "muted small" }, [article.tags.join(", "), article.summary].filter(Boolean).join(" · "))),
    h("td", {}, LANGUAGES[article.language] || article.language),
    h("td", {}, where || h("span", { class: "muted" }, "any page, any queue")),
    h("td", { dataset: { testid: "kb-status" } }, article.published
      ? h("span", { class: "badge on" }, "Published") : h("span", { class: "badge off" }, "Draft")),
    h("td", { class: "actions" }, h("div", { class: "row-actions" },
      button("Edit", "kb-edit", () => open(article.id)),
      article.published
        ? button("Unpublish", "kb-unpublish", () => act("POST", `/kb/articles/${article.id}/unpublish`, "Unpublished"))
        : button("Publish", "kb-publish", () => act("POST", `/kb/articles/${article.id}/publish`, "Published"), "ok"),
      button("Delete", "kb-delete", () => {
        if (window.confirm(`Delete “${article.title}”? Its figures stay in the reports.`)) {
          act("DELETE", `/kb/articles/${article.id}`, "Deleted");
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
    toast(error.message, { kind: "error" });
  }
}

let editing = null;

async function open(id = null) {
  const form = $("[data-kb-form]");
  form.reset();
  setText(form.querySelector("[data-form-error]"), "");
  editing = id;
  setText($("[data-kb-dialog-title]"), id ? "Edit the article" : "Add an article");
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
      toast(error.message, { kind: "error" });
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
    toast(editing ? "Saved" : body.published ? "Published: the widget suggests it now" : "Saved as a draft");
    await load();
    changed();
  } catch (error) {
    setText(form.querySelector("[data-form-error]"), error.message);
  }
}

$("[data-kb-new]").addEventListener("click", () => open());
$("[data-kb-form]").addEventListener("submit", save);
load().catch((error) => toast(error.message, { kind: "error" }));
