/* otodesk widget loader, served as /widget.js. The one script tag a site adds:
 *
 *   <script src="https://otodesk.example.com/widget.js" async></script>
 *
 * It only defines window.otodesk as a stub that queues calls, then loads the
 * widget proper (a module) when the browser is idle, which replays the queue.
 * Calls may even be made before this file runs:
 *
 *   window.otodesk = window.otodesk || { q: [] };  otodesk.q.push(["setContext", [{...}]]);
 *
 * Every stub method returns a Promise settled by the real one.
 */
(function () {
  "use strict";
  var w = window;
  var existing = w.otodesk;
  if (existing && existing.loaded) return; // the tag was added twice

  var script = document.currentScript;
  if (!script || !/\/widget\.js(\?|#|$)/.test(script.src || "")) {
    var tags = document.getElementsByTagName("script");
    for (var i = tags.length - 1; i >= 0; i--) {
      if (/\/widget\.js(\?|#|$)/.test(tags[i].src || "")) { script = tags[i]; break; }
    }
  }
  var base = script ? new URL(script.src, location.href).origin : location.origin;
  // <script src=".../widget.js" data-locale="zh-TW">: the widget's language (widget.js, language.js).
  var locale = script && script.getAttribute && script.getAttribute("data-locale");

  var q = (existing && existing.q) || [];
  var api = existing || {};
  api.q = q;
  api.base = base;
  if (locale && !api.locale) api.locale = locale;
  api.loaded = true;
  // Every method of the widget's API (widget.js `api`; tests/js/loader.test.mjs keeps them equal).
  ["open", "close", "reset", "callMe", "cancel", "identify", "setContext", "myData", "setLocale", "on", "off"].forEach(function (name) {
    if (typeof api[name] === "function") return;
    api[name] = function () {
      var args = Array.prototype.slice.call(arguments);
      if (name === "on" || name === "off") { q.push([name, args]); return api; }
      return new Promise(function (resolve, reject) { q.push([name, args, resolve, reject]); });
    };
  });
  w.otodesk = api;

  // Note this page now: a shopper who moves on before the widget has loaded
  // still leaves it in the trail (the widget sends these on connect).
  try {
    var pending = JSON.parse(w.localStorage.getItem("otodesk.pending") || "[]").slice(-19);
    api.pageId = Math.random().toString(36).slice(2);
    pending.push({ id: api.pageId, url: location.href.slice(0, 2048), title: document.title.slice(0, 200), at: Date.now() / 1000 });
    w.localStorage.setItem("otodesk.pending", JSON.stringify(pending));
  } catch (e) { /* storage blocked: the trail starts when the widget connects */ }

  function load() {
    var module = document.createElement("script");
    module.type = "module";
    module.src = base + "/static/widget/widget.js";
    module.crossOrigin = "anonymous";
    if ("fetchPriority" in module) module.fetchPriority = "low";
    module.onerror = function () { if (w.console) console.warn("otodesk: the widget could not be loaded from " + base); };
    (document.head || document.documentElement).appendChild(module);
  }

  // Out of the host page's way: after its own load event (its images and scripts
  // first), then when its main thread is idle (at the latest 2 s on), at low priority.
  function idle() {
    if (w.requestIdleCallback) w.requestIdleCallback(load, { timeout: 2000 });
    else setTimeout(load, 50);
  }
  if (document.readyState === "complete") idle();
  else w.addEventListener("load", idle, { once: true });
})();
