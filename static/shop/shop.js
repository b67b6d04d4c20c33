// The demo shop's little script: a cart in localStorage, the cart and
// checkout pages, telling the otodesk widget what is in the cart so the
// agent sees it (otodesk.setContext), and who is signed in (otodesk.identify).
import { h, replace } from "../common/dom.js";
import { money } from "../common/format.js";
import { placeIcons } from "../common/icons.js";

const CART_KEY = "nova.cart";

/** Call a widget method now, or queue it for when the widget has loaded. */
function otodesk(method, ...args) {
  const widget = window.otodesk || (window.otodesk = { q: [] });
  if (typeof widget[method] === "function") return widget[method](...args);
  widget.q.push([method, args, () => {}, () => {}]);
  return undefined;
}

// -- the cart -----------------------------------------------------------------

function readCart() {
  try {
    const lines = JSON.parse(localStorage.getItem(CART_KEY) || "[]");
    return Array.isArray(lines) ? lines.filter((line) => line && line.slug && line.qty > 0) : [];
  } catch {
    return [];
  }
}

function writeCart(lines) {
  try {
    localStorage.setItem(CART_KEY, JSON.stringify(lines));
  } catch {
    /* private mode: the cart lives as long as the page */
  }
  cartChanged(lines);
}

function total(lines) {
  return Math.round(lines.reduce((sum, line) => sum + line.price * line.qty, 0) * 100) / 100;
}

function addToCart({ slug, name, price }, qty = 1) {
  const lines = readCart();
  const line = lines.find((item) => item.slug === slug);
  if (line) line.qty = Math.min(99, line.qty + qty);
  else lines.push({ slug, name, price: Number(price), qty });
  writeCart(lines);
}

function setQty(slug, qty) {
  const lines = readCart()
    .map((line) => (line.slug === slug ? { ...line, qty } : line))
    .filter((line) => line.qty > 0);
  writeCart(lines);
}

function cartChanged(lines = readCart()) {
  const count = lines.reduce((sum, line) => sum + line.qty, 0);
  for (const badge of document.querySelectorAll(".cart-count")) {
    badge.textContent = String(count);
    badge.setAttribute("aria-label", `${count} item${count === 1 ? "" : "s"} in cart`);
  }
  otodesk("setContext", {
    cart: lines.map(({ slug, name, price, qty }) => ({ slug, name, price, qty })),
    cart_total: total(lines),
    currency: "USD",
  });
  renderCart(lines);
  renderSummary(lines);
}

// -- pages ----------------------------------------------------------------------

function renderCart(lines) {
  const body = document.querySelector("[data-cart-lines]");
  if (!body) return;
  const empty = lines.length === 0;
  document.querySelector("[data-cart-empty]").hidden = !empty;
  document.querySelector("[data-cart-table]").hidden = empty;
  document.querySelector("[data-cart-actions]").hidden = empty;
  replace(body, lines.map((line) => h("tr", { dataset: { testid: `cart-line-${line.slug}` } },
    h("td", {}, h("a", { href: `/product/${encodeURIComponent(line.slug)}` }, line.name)),
    h("td", {}, money(line.price)),
    h("td", {}, h("label", { class: "visually-hidden", for: `qty-${line.slug}` }, `Quantity of ${line.name}`),
      h("input", {
        id: `qty-${line.slug}`, type: "number", min: "0", max: "99", value: String(line.qty), class: "qty",
        onchange: (event) => setQty(line.slug, Math.max(0, Math.min(99, parseInt(event.target.value, 10) || 0))),
      })),
    h("td", {}, money(line.price * line.qty)),
    h("td", {}, h("button", {
      type: "button", class: "link-button", "aria-label": `Remove ${line.name}`,
      onclick: () => setQty(line.slug, 0),
    }, "Remove")))));
  document.querySelector("[data-cart-total]").textContent = money(total(lines));
}

function renderSummary(lines) {
  const list = document.querySelector("[data-summary-lines]");
  if (!list) return;
  replace(list, lines.map((line) => h("li", {}, h("span", {}, `${line.qty} × ${line.name}`), h("span", {}, money(line.price * line.qty)))));
  document.querySelector("[data-summary-total]").textContent = money(total(lines));
  const pay = document.querySelector("[data-checkout-total]");
  if (pay) pay.textContent = money(total(lines));
  const empty = document.querySelector(".summary [data-cart-empty]");
  if (empty) empty.hidden = lines.length > 0;
}

function setUpCheckout() {
  const form = document.querySelector("[data-checkout-form]");
  if (!form) return;
  const problem = form.querySelector("[data-form-problem]");
  const failure = form.querySelector("[data-payment-error]");
  const pay = form.querySelector("[data-pay]");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    problem.textContent = "";
    const missing = [...form.elements].filter((el) => el.required && !el.value.trim());
    for (const el of form.elements) if (el.required) el.toggleAttribute("aria-invalid", !el.value.trim());
    if (missing.length) {
      problem.textContent = "Please fill in every field.";
      missing[0].focus();
      return;
    }
    if (readCart().length === 0) {
      problem.textContent = "Your cart is empty.";
      return;
    }
    // A site that knows who is buying tells the widget (prefills "Call me").
    otodesk("identify", {
      name: form.elements.namedItem("name").value.trim(),
      email: form.elements.namedItem("email").value.trim(),
    });
    pay.disabled = true;
    const label = pay.innerHTML;
    pay.textContent = "Processing payment…";
    // The demo's bank always declines, after a believable pause.
    setTimeout(() => {
      pay.disabled = false;
      pay.innerHTML = label;
      renderSummary(readCart());
      const reference = `05-${Math.random().toString(36).slice(2, 5).toUpperCase()}`;
      form.querySelector("[data-payment-ref]").textContent = reference;
      failure.hidden = false;
      failure.querySelector("button").focus();
      otodesk("setContext", {
        cart: readCart().map(({ slug, name, price, qty }) => ({ slug, name, price, qty })),
        cart_total: total(readCart()),
        currency: "USD",
        checkout: "payment declined",
        payment_reference: reference,
      });
    }, 1200);
  });
}

// -- wiring ---------------------------------------------------------------------

document.addEventListener("click", (event) => {
  const add = event.target.closest("[data-add-to-cart]");
  if (add) {
    const qtySelect = add.closest(".product-detail")?.querySelector("[data-qty]");
    const qty = qtySelect ? parseInt(qtySelect.value, 10) || 1 : 1;
    addToCart({ slug: add.dataset.slug, name: add.dataset.name, price: add.dataset.price }, qty);
    const note = add.closest(".product-detail")?.querySelector("[data-added]");
    const message = `Added ${qty} × ${add.dataset.name} to your cart.`;
    if (note) note.textContent = message;
    const original = add.dataset.label || add.textContent.trim();
    add.dataset.label = original;
    add.textContent = "Added ✓";
    setTimeout(() => { add.textContent = original; }, 1500);
    return;
  }
  const call = event.target.closest("[data-call-me]");
  if (call) {
    otodesk("open", { queue: call.dataset.queue, topic: call.dataset.topic });
  }
});

// -- a signed-in customer -------------------------------------------------------

/** Tell the widget who is signed in, with the HMAC the shop's server computed (base.html). */
function identifySignedIn() {
  const data = document.getElementById("nova-identify");
  if (!data) return;
  try {
    otodesk("identify", JSON.parse(data.textContent));
  } catch (error) {
    console.warn("nova: could not read the signed-in customer", error);
  }
}

/**
 * Signing out tells the widget too (otodesk.reset), or what this browser does next would
 * still join the signed-out customer's record. A widget not loaded yet is reset on the
 * page the sign-out lands on (/account?signed_out=1).
 */
function setUpSignOut() {
  const form = document.querySelector("[data-sign-out]");
  form?.addEventListener("submit", async (event) => {
    if (typeof window.otodesk?.reset !== "function") return;
    event.preventDefault();
    const timeout = new Promise((done) => setTimeout(done, 3000));
    await Promise.race([window.otodesk.reset().catch(() => {}), timeout]);
    sessionStorage.setItem("nova.widget-reset", "1");
    form.submit();
  });
  const params = new URLSearchParams(location.search);
  if (params.has("signed_out") || params.has("erased")) {
    if (sessionStorage.getItem("nova.widget-reset")) sessionStorage.removeItem("nova.widget-reset");
    else otodesk("reset");
  }
}

/**
 * The customer erased their data in the widget's "My data": the help service has signed
 * this browser out and will not link this account again, so the shop signs them out too
 * (a fresh start). An identify the service refuses for that reason just says so.
 */
function setUpErasure() {
  otodesk("on", "erased", async ({ reason } = {}) => {
    if (reason === "my_data") {
      sessionStorage.setItem("nova.widget-reset", "1"); // the widget has started afresh already
      await fetch("/account/sign-out", { method: "POST" }).catch(() => {});
      location.assign("/account?erased=1");
      return;
    }
    if (document.querySelector("[data-erased-notice]")) return;
    document.getElementById("main")?.prepend(h("p", { class: "note", dataset: { erasedNotice: "", testid: "erased-notice" } },
      "Our help service erased your data at your request: it no longer recognises this account."));
  });
}

placeIcons(document);
cartChanged();
setUpCheckout();
setUpErasure();
identifySignedIn();
setUpSignOut();
