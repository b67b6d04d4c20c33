// Self-service first (issue 14): the knowledge base inside the panel. Fetched with the panel
// (ui.js asks widget.js for it once the form is drawn), never on a page load.
//
// - With no topic yet, the articles of the page the customer is on; as they type a topic
//   (debounced), up to three articles matching it (the server's full-text search, Chinese
//   included: desktop/web/kb_widget.py).
// - A suggestion opens the article inside the panel: HTML the server sanitised
//   (desktop/kb/markdown.py: no script, no handlers, links only http/https/mailto), then
//   "Did this solve your problem? Yes / No, I still want a call". "No" goes back to the form,
//   the topic kept. The view and the answer reach the customer's timeline and the reports.
import { h, replace, setText } from "../common/dom.js";

const DEBOUNCE_MS = 300;

const css = `
.kb { margin: 0 0 12px; padding: 10px 12px; border: 1px solid var(--line); border-radius: 10px; background: var(--accent-soft); }
.kb-head { margin: 0 0 6px; font-size: 13px; font-weight: 600; color: var(--muted); }
.kb ul { list-style: none; margin: 0; padding: 0; display: grid; gap: 6px; }
.kb-item { display: block; width: 100%; text-align: left; border: 0; background: #fff; border-radius: 8px; padding: 8px 10px; font: inherit; color: inherit; cursor: pointer; }
.kb-item:hover, .kb-item:focus-visible { outline: 2px solid var(--accent); }
.kb-item strong { display: block; color: var(--accent-dark); }
.kb-item span { display: block; font-size: 13px; color: var(--muted); }
.kb-reading .body > form { display: none !important; }
.kb-reader h3 { margin: 4px 0 8px; font-size: 17px; }
.kb-article { max-height: 40vh; overflow: auto; font-size: 14px; }
.kb-article a { color: var(--accent-dark); }
.kb-article pre, .kb-article code { white-space: pre-wrap; font-size: 13px; }
.kb-question { font-weight: 600; margin: 12px 0 6px; }
.kb-actions { display: flex; gap: 8px; flex-wrap: wrap; }
.kb-back { border: 0; background: none; color: var(--accent-dark); padding: 0; font: inherit; cursor: pointer; }
`;

/**
 * @param {object} options
 * @param {string} options.base  the contact centre's origin
 * @param {() => string|null} options.token  the visitor token (views and answers are recorded with it)
 * @param {import("./language.js").WidgetLanguage} options.language
 */
export function start({ base, token, language }) {
  const get = async (path, params) => {
    const url = new URL(path, base);
    for (const [key, value] of Object.entries(params || {})) if (value) url.searchParams.set(key, value);
    const visitor = token();
    const response = await fetch(url, { mode: "cors", credentials: "omit", headers: visitor && path.startsWith("/api/kb/articles/") ? { "x-otodesk-visitor": visitor } : {} });
    if (!response.ok) throw new Error(`${path}: ${response.status}`);
    return response.json();
  };
  const answer = (id, solved) => fetch(new URL(`/api/kb/articles/${encodeURIComponent(id)}/feedback`, base), {
    method: "POST", mode: "cors", credentials: "omit",
    headers: { "content-type": "application/json", "x-otodesk-visitor": token() || "" },
    body: JSON.stringify({ solved }),
  }).catch(() => undefined); // the customer's answer is a courtesy to us: never in their way

  /** Draw the suggestions into a panel (ui.js's WidgetUI); again after a redraw. */
  function attach(ui) {
    const { t } = language;
    const topic = ui.controls.topic;
    const list = h("ul", {});
    const box = h("section", { class: "kb", hidden: true, "aria-live": "polite", dataset: { testid: "otodesk-kb" } },
      h("p", { class: "kb-head" }, t("kb.suggested")), list);
    topic.closest(".field").after(box);
    const reader = h("section", { class: "kb-reader", hidden: true, dataset: { testid: "otodesk-kb-reader" } });
    ui.form.before(reader);
    const style = h("style", {}, css);
    ui.root.append(style);

    let asked = 0; // the newest request: an older answer arriving after it is dropped
    let timer = null;
    const suggest = async () => {
      const mine = ++asked;
      let items = [];
      try {
        ({ items } = await get("/api/kb/suggest", {
          q: topic.value.trim().slice(0, 200), url: location.href.slice(0, 2048), locale: language.locale, queue: ui.value("queue"),
        }));
      } catch {
        items = [];
      }
      if (mine !== asked) return;
      replace(list, items.map((item) => h("li", {}, h("button", {
        type: "button", class: "kb-item", dataset: { testid: "otodesk-kb-suggestion", id: item.id },
        onclick: () => read(item),
      }, h("strong", {}, item.title), item.summary ? h("span", {}, item.summary) : null))));
      box.hidden = !items.length;
    };
    topic.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(suggest, DEBOUNCE_MS);
    });

    const closeReader = (focus) => {
      reader.hidden = true;
      ui.panel.classList.remove("kb-reading");
      if (focus) focus.focus();
    };
    const read = async (item) => {
      const back = h("button", { type: "button", class: "kb-back", dataset: { testid: "otodesk-kb-back" },
        onclick: () => closeReader(topic) }, `← ${t("kb.back")}`);
      const heading = h("h3", { tabindex: "-1" }, item.title);
      const article = h("div", { class: "kb-article", dataset: { testid: "otodesk-kb-article" } });
      const outcome = h("p", { class: "kb-question", role: "status", dataset: { testid: "otodesk-kb-outcome" } });
      const yes = h("button", { type: "button", class: "primary", dataset: { testid: "otodesk-kb-yes" }, onclick: async () => {
        yes.disabled = no.disabled = true;
        await answer(item.id, true);
        actions.hidden = question.hidden = true;
        setText(outcome, t("kb.thanks"));
      } }, t("kb.yes"));
      const no = h("button", { type: "button", class: "secondary", dataset: { testid: "otodesk-kb-no" }, onclick: async () => {
        yes.disabled = no.disabled = true;
        await answer(item.id, false);
        closeReader(ui.controls.name.value ? ui.submitButton : ui.controls.name);
      } }, t("kb.no"));
      const question = h("p", { class: "kb-question" }, t("kb.question"));
      const actions = h("div", { class: "kb-actions" }, yes, no);
      replace(reader, back, heading, article, question, actions, outcome);
      reader.hidden = false;
      ui.panel.classList.add("kb-reading");
      heading.focus();
      try {
        const found = await get(`/api/kb/articles/${encodeURIComponent(item.id)}`);
        // Sanitised by the server (desktop/kb/markdown.py), drawn inside the widget's shadow root.
        article.innerHTML = found.html;
      } catch {
        setText(article, t("kb.failed"));
        question.hidden = actions.hidden = true;
      }
    };

    suggest(); // the page's own articles, before any topic
  }

  return { attach };
}
