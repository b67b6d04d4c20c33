// The widget's panel, inside the shadow root of the shell (shell.js, which draws
// the launcher and fetches this module when the panel is first needed): a "call
// me" form and a status panel. It knows nothing about sockets: the widget
// (widget.js) calls render*/show* through the shell and passes callbacks in.
import { h, setText } from "../common/dom.js";
import { icon } from "../common/icons.js";
import { errorText } from "./errors.js";
import { queueForLanguage, topicText } from "./queue_choice.js";
import { ACTIVE_STATES, FINAL_STATES } from "./shell.js";
import { css } from "./styles.js";

export { ACTIVE_STATES, FINAL_STATES };
export { errorText as friendlyMessage }; // the words for a server's error (errors.js)

/** Which form field shows the server's error, by error code. */
const FIELD_OF_ERROR = {
  invalid_phone: "phone",
  phone_refused: "phone",
  phone_country: "phone",
  phone_waiting: "phone",
  bad_time: "scheduled_at",
  unknown_queue: "queue",
};

/** The picture above the status line, by callback state. */
const STATUS_ICONS = {
  scheduled: "calendar", queued: "hourglass", offered: "phone", connected: "headphones",
  completed: "check-circle", cancelled: "x-circle", abandoned: "hourglass",
};

const FIELDS = ["name", "queue", "topic", "message", "channel", "phone", "when", "scheduled_at"];

/** "2030-04-05T18:30" for a Date, in local time (what datetime-local wants). */
export function toLocalInput(date) {
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

/** Epoch seconds for a datetime-local value (read as local time); null if empty or invalid. */
export function fromLocalInput(value) {
  if (!value) return null;
  const match = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(value);
  if (!match) return null;
  const [, y, mo, d, hh, mm] = match.map(Number);
  const date = new Date(y, mo - 1, d, hh, mm, 0, 0);
  return isNaN(date.getTime()) ? null : date.getTime() / 1000;
}

/** A sensible default for "later": the next whole hour at least 30 minutes away. */
function defaultLater(now = new Date()) {
  const date = new Date(now.getTime() + 30 * 60000);
  if (date.getMinutes() || date.getSeconds()) date.setHours(date.getHours() + 1, 0, 0, 0);
  return date;
}

export class WidgetUI {
  /**
   * @param {object} handlers
   * @param {(values: object) => Promise<void>} handlers.submit  rejects with {code, message}
   * @param {() => Promise<void>} handlers.cancel
   * @param {(open: boolean) => void} [handlers.openChanged]
   * @param {() => void} [handlers.dismiss]  the final message was closed
   * @param {import("./shell.js").WidgetShell} shell  the host, its shadow root and the launcher
   */
  constructor(handlers, shell) {
    this.handlers = handlers;
    this.shell = shell;
    this.language = shell.language; // language.js: t() and Intl formatting in the customer's language
    this.queues = [];
    this.callback = null;
    this.mode = "form"; // "form" | "status"
    this.isOpen = false;
    this.connection = "open";
    this._build();
  }

  // -- building -------------------------------------------------------------

  _build() {
    const { host, root, launcher, launcherText, badge, main } = this.shell;
    Object.assign(this, { host, root, launcher, launcherText, badge });
    const { t } = this.language;
    const style = document.createElement("style");
    style.textContent = css;
    this.style = style;

    this.title = h("h2", { id: "otodesk-title", tabindex: "-1" }, t("panel.title"));
    this.subtitle = h("p", { id: "otodesk-subtitle", dataset: { testid: "otodesk-subtitle" } }, greeting(this) || t("panel.subtitle"));
    this.minimize = h("button", {
      type: "button", class: "icon-button", "aria-label": t("panel.minimize"), title: t("panel.minimize"),
      dataset: { testid: "otodesk-minimize" }, onclick: () => this.close(),
    }, "×");
    this.connectionLine = h("p", { class: "connection", role: "status", hidden: true, dataset: { testid: "otodesk-connection" } },
      t("connection.reconnecting"));

    this.form = this._buildForm();
    this.status = this._buildStatus();
    this._statusChildren = this.status.children.length;

    this.panel = h("div", {
      class: "panel", id: "otodesk-panel", role: "dialog", "aria-modal": "false",
      "aria-labelledby": "otodesk-title", "aria-describedby": "otodesk-subtitle", hidden: true,
      onkeydown: (event) => {
        if (event.key === "Escape") {
          event.stopPropagation();
          this.close();
        }
      },
    },
    h("header", {}, h("div", {}, this.title, this.subtitle), this.minimize),
    this.connectionLine,
    h("div", { class: "body" }, this.form, this.status));

    this.root.append(style);
    main.prepend(this.panel);
    this._renderLauncher();
    // Self-service first: articles for the topic or the page (kb.js, fetched now, not before).
    this.handlers.kb?.().then((kb) => kb.attach(this), () => undefined);
  }

  _field(name, labelText, control, { optional = false, hint = null } = {}) {
    const errorId = `otodesk-${name}-error`;
    const hintId = hint ? `otodesk-${name}-hint` : null;
    control.id = control.id || `otodesk-${name}`;
    control.setAttribute("aria-describedby", [hintId, errorId].filter(Boolean).join(" "));
    const error = h("p", { class: "error", id: errorId, dataset: { testid: `otodesk-error-${name}` } });
    const wrapper = h("div", { class: "field", dataset: { field: name } },
      h("label", { for: control.id }, labelText, optional ? h("span", { class: "optional" }, this.language.t("form.optional")) : null),
      control,
      hint ? h("p", { class: "hint", id: hintId }, hint) : null,
      error);
    this.errors[name] = error;
    this.controls[name] = control;
    return wrapper;
  }

  _choices(name, legend, options) {
    const errorId = `otodesk-${name}-error`;
    const error = h("p", { class: "error", id: errorId, dataset: { testid: `otodesk-error-${name}` } });
    this.errors[name] = error;
    const inputs = options.map(([value, text], index) => h("input", {
      type: "radio", name, value, id: `otodesk-${name}-${value}`, checked: index === 0,
      dataset: { testid: `otodesk-${name}-${value}` },
      onchange: () => {
        if (name === "when") this._autoLater = false; // the customer's own choice from now on
        this._syncForm();
      },
    }));
    this.controls[name] = inputs;
    return h("fieldset", { "aria-describedby": errorId },
      h("legend", {}, legend),
      h("div", { class: "choices" }, inputs.map((input, index) =>
        h("label", { class: "choice", for: input.id }, input, h("span", {}, options[index][1])))),
      error);
  }

  _buildForm() {
    const { t } = this.language;
    this.errors = {};
    this.controls = {};
    const name = h("input", { type: "text", name: "name", autocomplete: "name", required: true, maxlength: "200" });
    const queue = h("select", {
      name: "queue", required: true,
      onchange: () => { this._queueChosen = true; this._syncForm(); }, // the customer's own choice: kept
    });
    const topic = h("input", { type: "text", name: "topic", maxlength: "200", placeholder: t("form.topic_placeholder") });
    const message = h("textarea", { name: "message", maxlength: "2000", rows: "2" });
    const phone = h("input", { type: "tel", name: "phone", autocomplete: "tel", maxlength: "200", placeholder: t("form.phone_placeholder") });
    const scheduled = h("input", {
      type: "datetime-local", name: "scheduled_at", step: "60",
      onchange: () => { this._autoScheduled = false; }, // the customer's own time: kept
    });

    this.phoneField = this._field("phone", t("form.phone"), phone, { hint: t("form.phone_hint") });
    // What the customer agrees to by asking for a call: sent as shown, kept with the request.
    this.phoneField.append(h("p", { class: "hint consent", dataset: { testid: "otodesk-consent" } }, t("form.consent")));
    this.laterField = this._field("scheduled_at", t("form.scheduled_at"), scheduled);
    // The queue's next open times (its business hours), one tap each; the field stays for any other.
    this.slotList = h("div", { class: "slots", role: "group", "aria-label": t("form.slots"), hidden: true, dataset: { testid: "otodesk-slots" } });
    this.laterField.insertBefore(this.slotList, scheduled);
    // The queue's topics (set in the admin console), one tap each; the customer may type their own.
    this.topicField = this._field("topic", t("form.topic"), topic, { optional: true });
    this.topicList = h("div", { class: "slots", role: "group", "aria-label": t("form.topics"), hidden: true, dataset: { testid: "otodesk-topics" } });
    this.topicField.insertBefore(this.topicList, topic.nextSibling);
    // A queue whose calls are recorded says so before the customer asks.
    this.recordingLine = h("p", { class: "hint", hidden: true, dataset: { testid: "otodesk-recording" } });
    this.formError = h("p", { class: "form-error", role: "alert", dataset: { testid: "otodesk-error" } });
    this.submitButton = h("button", { type: "submit", class: "primary", dataset: { testid: "otodesk-submit" } }, t("form.submit_now"));

    return h("form", {
      id: "otodesk-form", novalidate: true, dataset: { testid: "otodesk-form" },
      onsubmit: (event) => {
        event.preventDefault();
        this._submit();
      },
    },
    this._field("name", t("form.name"), name),
    this._field("queue", t("form.queue"), queue),
    this.availability = h("p", { class: "availability", role: "status", hidden: true, dataset: { testid: "otodesk-availability" } }),
    this.topicField,
    this._field("message", t("form.message"), message, { optional: true }),
    this._choices("channel", t("form.channel"), [["browser", t("form.channel_browser")], ["phone", t("form.channel_phone")]]),
    this.phoneField,
    this._choices("when", t("form.when"), [["now", t("form.when_now")], ["later", t("form.when_later")]]),
    this.laterField,
    this.recordingLine,
    this.formError,
    this.submitButton,
    h("p", { class: "privacy" }, t("form.privacy")));
  }

  _buildStatus() {
    const { t } = this.language;
    this.statusIcon = h("div", { class: "big", "aria-hidden": "true" }, icon("hourglass"));
    this.stateLine = h("p", { class: "state", tabindex: "-1", dataset: { testid: "otodesk-state" } });
    this.positionLine = h("p", { class: "line position", dataset: { testid: "otodesk-position" } });
    this.waitLine = h("p", { class: "line wait", dataset: { testid: "otodesk-wait" } });
    this.scheduledLine = h("p", { class: "line scheduled", dataset: { testid: "otodesk-scheduled" } });
    this.detailLine = h("p", { class: "line detail", dataset: { testid: "otodesk-detail" } });
    this.movedLine = h("p", { class: "line", hidden: true, dataset: { testid: "otodesk-moved" } });
    this.statusError = h("p", { class: "form-error", role: "alert", dataset: { testid: "otodesk-status-error" } });
    this.laterButton = h("button", {
      type: "button", class: "primary", hidden: true, dataset: { testid: "otodesk-later" }, onclick: () => this._later(),
    }, t("status.later"));
    this.cancelButton = h("button", {
      type: "button", class: "secondary", dataset: { testid: "otodesk-cancel" }, onclick: () => this._cancel(),
    }, t("status.cancel"));
    this.againButton = h("button", {
      type: "button", class: "primary", hidden: true, dataset: { testid: "otodesk-again" },
      onclick: () => this.showForm({ focus: true }),
    }, t("status.again"));
    this.closeButton = h("button", {
      type: "button", class: "secondary", hidden: true, dataset: { testid: "otodesk-close" },
      onclick: () => {
        this.handlers.dismiss?.();
        this.callback = null;
        this.close();
        this.mode = "form";
        this._render();
      },
    }, t("status.close"));
    return h("section", { class: "status", hidden: true, "aria-labelledby": "otodesk-title", dataset: { testid: "otodesk-status" } },
      this.statusIcon,
      // One live region: state and position are read out when they change.
      h("div", { "aria-live": "polite", "aria-atomic": "true" }, this.stateLine, this.positionLine),
      this.movedLine, this.waitLine, this.scheduledLine, this.detailLine, this.statusError,
      h("div", { class: "actions" }, this.laterButton, this.cancelButton, this.againButton, this.closeButton));
  }

  // -- the form -------------------------------------------------------------

  value(name) {
    const control = this.controls[name];
    if (Array.isArray(control)) return control.find((input) => input.checked)?.value ?? "";
    return control.value;
  }

  setValue(name, value) {
    const control = this.controls[name];
    if (value === undefined || value === null) return;
    if (Array.isArray(control)) control.forEach((input) => { input.checked = input.value === value; });
    else control.value = value;
  }

  /** Fill empty fields from what the site or an earlier request told us. */
  prefill(values = {}) {
    for (const [name, value] of Object.entries(values)) {
      if (!FIELDS.includes(name) || value === undefined || value === null || value === "") continue;
      if (name === "scheduled_at") {
        const seconds = typeof value === "number" ? value : Date.parse(value) / 1000;
        if (isFinite(seconds)) this.setValue(name, toLocalInput(new Date(seconds * 1000)));
        this._autoScheduled = false;
        continue;
      }
      const control = this.controls[name];
      if (Array.isArray(control) || name === "queue" || !control.value) this.setValue(name, String(value));
      if (name === "queue") this._queueChosen = true; // the site named it: no language guess over it
    }
    this._syncForm();
  }

  setQueues(queues) {
    this.queues = Array.isArray(queues) ? queues : [];
    const select = this.controls.queue;
    const current = select.value;
    select.replaceChildren(...this.queues.map((queue) => h("option", { value: queue.name }, queue.title || queue.name)));
    if (this.queues.some((queue) => queue.name === current)) select.value = current;
    else if (!this._queueChosen) {
      // Nobody chose one: the queue whose agents speak the customer's language, if any.
      const spoken = queueForLanguage(this.queues, this.language.locale);
      if (spoken) select.value = spoken.name;
    }
    this._syncForm();
  }

  _syncForm() {
    this._syncAvailability();
    const byPhone = this.value("channel") === "phone";
    const later = this.value("when") === "later";
    this.phoneField.hidden = !byPhone;
    this.controls.phone.required = byPhone;
    this.laterField.hidden = !later;
    this.controls.scheduled_at.required = later;
    const queue = this.queues.find((q) => q.name === this.value("queue"));
    const slots = Array.isArray(queue?.slots) ? queue.slots : [];
    if (later) {
      const min = new Date(Date.now() + 60000);
      this.controls.scheduled_at.min = toLocalInput(min);
      // The queue's first open slot (never 03:00 when it opens at 09:00), else the next whole hour;
      // a time the customer (or the site) chose stays.
      const input = this.controls.scheduled_at;
      if (!input.value || (this._autoScheduled && this._slotQueue !== queue?.name)) {
        input.value = toLocalInput(slots.length ? new Date(slots[0] * 1000) : defaultLater());
        this._autoScheduled = true;
      }
      this._slotQueue = queue?.name;
    }
    this._renderSlots(later ? slots : []);
    this._renderTopics(queue);
    const recording = queue?.recording === "on" || queue?.recording === "consent" ? queue.recording : null;
    this.recordingLine.hidden = !recording;
    setText(this.recordingLine, !recording ? ""
      : this.language.t(recording === "on" ? "form.recording_on" : "form.recording_consent"));
    setText(this.submitButton, this.language.t(later ? "form.submit_later" : "form.submit_now"));
  }

  _renderSlots(slots) {
    this.slotList.hidden = !slots.length;
    const chosen = this.controls.scheduled_at.value;
    this.slotList.replaceChildren(...slots.map((at) => {
      const value = toLocalInput(new Date(at * 1000));
      return h("button", {
        type: "button", class: "slot", "aria-pressed": String(value === chosen), dataset: { testid: "otodesk-slot" },
        onclick: () => {
          this.controls.scheduled_at.value = value;
          this._autoScheduled = false;
          this._renderSlots(slots);
        },
      }, this.language.dateTime(at));
    }));
  }

  _renderTopics(queue) {
    const topics = Array.isArray(queue?.topics) ? queue.topics : [];
    const input = this.controls.topic;
    this.topicList.hidden = !topics.length;
    this.topicList.replaceChildren(...topics.map((topic) => {
      const words = topicText(topic, this.language.locale);
      return h("button", {
        type: "button", class: "slot", "aria-pressed": String(input.value === words), dataset: { testid: "otodesk-topic" },
        onclick: () => {
          input.value = words;
          input.dispatchEvent(new Event("input")); // the knowledge base suggests for it (kb.js)
          this._renderTopics(queue);
        },
      }, words);
    }));
  }

  /** Whether somebody can answer the chosen queue now (the welcome's and `queues`' `open`). */
  _syncAvailability() {
    const queue = this.queues.find((q) => q.name === this.value("queue"));
    const closed = queue?.open === false;
    const outsideHours = queue?.closed === "hours";
    this.availability.hidden = !queue || (!closed && (queue.estimated_wait ?? null) === null);
    this.availability.classList.toggle("closed", closed);
    // Outside business hours nobody takes a call now: only "Later", at the times offered.
    const now = this.controls.when[0];
    now.disabled = outsideHours;
    now.closest("label").classList.toggle("unavailable", outsideHours);
    if (!queue) return;
    const { t } = this.language;
    if (outsideHours) {
      const queueTitle = queue.title || queue.name;
      setText(this.availability, queue.opens_at
        ? t("availability.closed_hours", { queue: queueTitle, opens: this.language.dateTime(queue.opens_at) })
        : t("availability.no_hours", { queue: queueTitle }));
      if (this.value("when") === "now") {
        this.setValue("when", "later");
        this._autoLater = true;
      }
      this._laterOfferedFor = queue.name;
    } else if (closed) {
      setText(this.availability, t("availability.closed", { queue: queue.title || queue.name }));
      // Offer a later time once for this queue; a customer who picks "Now" again keeps it.
      if (this._laterOfferedFor !== queue.name && this.value("when") === "now") {
        this.setValue("when", "later");
        this._autoLater = true;
      }
      this._laterOfferedFor = queue.name;
    } else {
      // The same figure as the wall's "for a new request".
      setText(this.availability, t("availability.wait", { wait: waitText(queue.estimated_wait, this.language) }));
      this._laterOfferedFor = null;
      if (this._autoLater) this.setValue("when", "now"); // somebody is back: "Now" again, as it was
      this._autoLater = false;
    }
  }

  clearErrors() {
    for (const [name, error] of Object.entries(this.errors)) {
      setText(error, "");
      const control = this.controls[name];
      for (const element of Array.isArray(control) ? control : [control]) element.removeAttribute("aria-invalid");
    }
    setText(this.formError, "");
  }

  /** Show `message` next to `field` (or above the button when field is null) and focus it. */
  showError(field, message, { focus = true } = {}) {
    const error = field && this.errors[field];
    if (!error) {
      setText(this.formError, message);
      if (focus) this.submitButton.focus();
      return;
    }
    setText(error, message);
    const control = this.controls[field];
    const first = Array.isArray(control) ? control[0] : control;
    for (const element of Array.isArray(control) ? control : [control]) element.setAttribute("aria-invalid", "true");
    if (focus) first.focus();
  }

  /** Show a server error: on its field when it has one, above the button otherwise. */
  showServerError(error) {
    const field = FIELD_OF_ERROR[error?.code] ?? null;
    this.showError(field, errorText(error, this.language));
  }

  _validate() {
    const values = {
      name: this.value("name").trim(),
      queue: this.value("queue"),
      topic: this.value("topic").trim(),
      message: this.value("message").trim(),
      channel: this.value("channel") || "browser",
      phone: null,
      scheduled_at: null,
    };
    const { t } = this.language;
    const problems = [];
    if (!values.name) problems.push(["name", t("check.name")]);
    if (!values.queue) problems.push(["queue", t("check.queue")]);
    if (values.channel === "phone") {
      values.phone = this.value("phone").trim();
      if (!values.phone) problems.push(["phone", t("check.phone")]);
      else if (!/\d/.test(values.phone)) problems.push(["phone", t("check.phone_digits")]);
      values.consent = t("form.consent");
    }
    if (this.value("when") === "later") {
      values.scheduled_at = fromLocalInput(this.value("scheduled_at"));
      if (values.scheduled_at === null) problems.push(["scheduled_at", t("check.time")]);
      else if (values.scheduled_at < Date.now() / 1000 + 30) problems.push(["scheduled_at", t("check.time_future")]);
    }
    return { values, problems };
  }

  async _submit() {
    if (this.submitButton.disabled) return;
    this.clearErrors();
    const { values, problems } = this._validate();
    if (problems.length) {
      problems.forEach(([field, message], index) => this.showError(field, message, { focus: index === 0 }));
      return;
    }
    this.submitButton.disabled = true;
    const label = this.submitButton.textContent;
    setText(this.submitButton, this.language.t("form.sending"));
    try {
      const result = await this.handlers.submit(values);
      // Outside the hours its phone may ring: booked for the next allowed time, said plainly.
      this._calling = result?.calling ? { id: result.callback_id, ...result.calling } : null;
      this._render();
    } catch (error) {
      this.showServerError(error);
    } finally {
      this.submitButton.disabled = false;
      setText(this.submitButton, label);
    }
  }

  // -- the status panel -----------------------------------------------------

  /** Nobody can answer now: cancel this request and offer the form at a later time, prefilled. */
  async _later() {
    const callback = this.callback;
    if (!callback || this.laterButton.disabled) return;
    this.laterButton.disabled = true;
    this._replaced = callback.id; // its "cancelled" must not cover the form
    try {
      await this.handlers.cancel(callback.id);
      this.handlers.dismiss?.();
      this.setValue("when", "later");
      this.setValue("queue", callback.queue);
      this._laterOfferedFor = callback.queue;
      this._autoLater = false;
      this.showForm({ focus: true });
    } catch (error) {
      this._replaced = null;
      setText(this.statusError, errorText(error, this.language));
    } finally {
      this.laterButton.disabled = false;
    }
  }

  async _cancel() {
    if (!this.callback || this.cancelButton.disabled) return;
    this.cancelButton.disabled = true;
    setText(this.statusError, "");
    setText(this.cancelButton, this.language.t("status.cancelling"));
    try {
      await this.handlers.cancel(this.callback.id);
    } catch (error) {
      setText(this.statusError, errorText(error, this.language));
    } finally {
      this.cancelButton.disabled = false;
      setText(this.cancelButton, this.language.t("status.cancel"));
    }
  }

  /** Show `callback` (a CallbackStatus, or null for none). */
  setCallback(callback) {
    if (callback && callback.id === this._replaced && FINAL_STATES.has(callback.state)) {
      // Cancelled to be asked again later: the form stays.
      if (this.mode === "status") this.showForm({ focus: false });
      return;
    }
    const previous = this.callback;
    // A phone's retry is a new request (desktop/voice/phone.py): it says how the last attempt ended.
    if (callback?.state === "scheduled" && !callback.phone_call && retried(previous || {}) && previous.phone === callback.phone) {
      callback = { ...callback, phone_call: previous.phone_call };
    }
    this.callback = callback;
    // Its queue was deleted and it waits in another now (said once by the server: kept shown).
    if (callback?.moved_from) this._moved = callback.id;
    if (callback) this.mode = "status";
    else if (this.mode === "status") this.mode = "form";
    this._render();
    if (callback && previous?.state !== callback.state && this.isOpen && this.mode === "status" && !this.panel.contains(this.root.activeElement)) {
      // Nothing focused in the panel: keep keyboard users where the news is.
      this.stateLine.focus({ preventScroll: true });
    }
  }

  showForm({ focus = false, prefill = null } = {}) {
    this.mode = "form";
    this.callback = null;
    this.clearErrors();
    if (prefill) this.prefill(prefill);
    this._render();
    this.open({ focus });
  }

  setConnection(state) {
    this.connection = state;
    this.connectionLine.hidden = state === "open";
    setText(this.connectionLine, this.language.t(state === "closed" ? "connection.closed" : "connection.reconnecting"));
  }

  /** The console changed the look: the greeting under the title (the colours follow by themselves). */
  relook() {
    this._render();
  }

  _render() {
    const callback = this.callback;
    const status = this.mode === "status" && callback;
    this.form.hidden = !!status;
    this.status.hidden = !status;
    this._syncForm();
    const { t } = this.language;
    setText(this.title, t(status ? "status.title" : "panel.title"));
    setText(this.subtitle, status ? queueTitle(this.queues, callback.queue) : greeting(this) || t("panel.subtitle"));
    this._renderLauncher();
    if (!status) return;

    const { state } = callback;
    const final = FINAL_STATES.has(state);
    this.stateLine.className = `state ${state === "connected" ? "connected" : final ? "final" : ""}`;
    setText(this.stateLine, stateText(callback, this.language));
    this.statusIcon.className = `big ${state === "offered" ? "ringing" : ""}`;
    const iconName = STATUS_ICONS[state] || "hourglass";
    if (this.statusIcon.firstElementChild?.dataset.iconName !== iconName) this.statusIcon.replaceChildren(icon(iconName));

    const queued = state === "queued";
    this.positionLine.hidden = !queued;
    setText(this.positionLine, queued ? positionText(callback.position, this.language) : "");
    const nobody = queued && callback.nobody_available === true;
    this.waitLine.hidden = !queued;
    this.waitLine.classList.toggle("closed", nobody);
    // "Your" wait: for this place in line (the wall shows the wait for a new request).
    setText(this.waitLine, !queued ? "" : nobody
      ? t("status.nobody")
      : t("status.wait", { wait: waitText(callback.estimated_wait, this.language) }));
    this.laterButton.hidden = !nobody;
    this.scheduledLine.hidden = !(callback.scheduled_at && (state === "scheduled" || queued));
    const calling = this._calling?.id === callback.id && state === "scheduled" ? this._calling : null;
    setText(this.scheduledLine, calling
      ? t("status.calling_hours", { window: calling.window, when: zoneTime(calling.scheduled_at, calling.zone, this.language.locale) })
      : callback.scheduled_at ? t("status.scheduled_for", { when: this.language.dateTime(callback.scheduled_at) }) : "");
    const moved = this._moved === callback.id && !final;
    this.movedLine.hidden = !moved;
    setText(this.movedLine, moved ? t("status.moved", { queue: queueTitle(this.queues, callback.queue) }) : "");
    setText(this.detailLine, detailText(callback, this.language));
    this.detailLine.hidden = !this.detailLine.textContent;

    this.cancelButton.hidden = final || state === "connected";
    this.closeButton.hidden = !final;
    this.againButton.hidden = !final;
    if (!final) setText(this.statusError, "");
  }

  _renderLauncher() {
    const callback = this.callback;
    const active = callback && ACTIVE_STATES.has(callback.state);
    const { t } = this.language;
    let badge = "";
    if (active && callback.state === "queued" && callback.position) badge = t("position.ordinal", { n: callback.position });
    this.badge.hidden = !badge;
    setText(this.badge, badge);
    const text = t(!active ? "launcher.call"
      : { scheduled: "launcher.scheduled", queued: "launcher.queued", offered: "launcher.offered",
        // A dialled phone is "On a call" once it answers, as the panel's "Connected with …".
        connected: callback.channel === "phone" && callback.phone_call?.state !== "connected" ? "launcher.calling_phone" : "launcher.on_call" }[callback.state]);
    setText(this.launcherText, text);
    this.launcher.classList.toggle("live", !!active && !this.isOpen && callback.state === "offered");
    this.launcher.setAttribute("aria-label", !active ? t("launcher.label")
      : badge ? t("launcher.label_position", { state: text, position: badge }) : t("launcher.label_active", { state: text }));
  }

  /** This panel drawn anew (in another language: shell.js), as it was: what was typed, the request, open or not. */
  redrawn() {
    const values = FIELDS.map((name) => [name, this.value(name)]);
    // What other modules put in the status (voice.js: the call's controls) moves to the new one.
    const added = [...this.status.children].slice(this._statusChildren);
    this.panel.remove();
    this.style.remove();
    const ui = new WidgetUI(this.handlers, this.shell);
    ui.status.append(...added);
    ui.setQueues(this.queues);
    ui.setConnection(this.connection);
    for (const [name, value] of values) ui.setValue(name, value);
    ui._laterOfferedFor = this._laterOfferedFor;
    ui._autoLater = this._autoLater;
    ui._queueChosen = this._queueChosen;
    ui._moved = this._moved;
    ui.mode = this.mode;
    ui.setCallback(this.callback);
    if (!this.callback) ui._render();
    if (this.isOpen) ui.open({ focus: false });
    else ui._renderLauncher();
    return ui;
  }

  // -- opening and closing --------------------------------------------------

  showLauncher() {
    this.launcher.hidden = false;
  }

  open({ focus = true } = {}) {
    const wasOpen = this.isOpen;
    this.isOpen = true;
    this.panel.hidden = false;
    this.launcher.setAttribute("aria-expanded", "true");
    this._renderLauncher();
    if (!wasOpen) this.handlers.openChanged?.(true);
    if (focus) {
      const target = this.mode === "status" ? this.stateLine : firstEmpty(this.controls) ?? this.controls.name;
      requestAnimationFrame(() => target.focus({ preventScroll: true }));
    }
  }

  close() {
    const hadFocus = this.panel.contains(this.root.activeElement);
    const wasOpen = this.isOpen;
    this.isOpen = false;
    this.panel.hidden = true;
    this.launcher.setAttribute("aria-expanded", "false");
    this._renderLauncher();
    if (wasOpen) this.handlers.openChanged?.(false);
    if (hadFocus && !this.launcher.hidden) this.launcher.focus();
  }
}

function firstEmpty(controls) {
  for (const name of ["name", "phone"]) {
    const control = controls[name];
    if (control && !control.value && !control.closest("[hidden]")) return control;
  }
  return null;
}

/** "Thu 08:00" on the called phone's clock (its zone, from the server), in the customer's language. */
export function zoneTime(at, zone, locale) {
  const options = { weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit", hourCycle: "h23" };
  try {
    return new Intl.DateTimeFormat(locale, { ...options, timeZone: zone }).format(new Date(at * 1000));
  } catch {
    return new Intl.DateTimeFormat(locale, options).format(new Date(at * 1000)); // a zone this browser lacks
  }
}

function queueTitle(queues, name) {
  const queue = queues.find((q) => q.name === name);
  return queue ? queue.title : name ? String(name) : "";
}

/** Estimated wait in words: null -> "estimating…", 40 -> "less than a minute", 170 -> "about 3 min". */
export function waitText(seconds, { t, duration }) {
  if (seconds === null || seconds === undefined || !isFinite(seconds)) return t("wait.estimating");
  if (seconds < 60) return t("wait.under_minute");
  return t("wait.about", { duration: duration(seconds) });
}

export function positionText(position, { t }) {
  if (!position) return t("position.finding");
  return t("position.place", { position });
}

/** A phone callback scheduled again after a busy, unanswered or failed attempt (its SIP call ended so). */
const retried = (callback) => callback.phone_call?.state === "ended" && callback.phone_call.result !== "completed";

export function stateText(callback, { t }) {
  const agent = callback.agent_name;
  switch (callback.state) {
    // After a failed attempt it keeps saying why ("Your line was busy"), the retry's time below it.
    case "scheduled": return retried(callback) ? phoneStateText(callback, { t }) : t("state.scheduled");
    case "queued": return t("state.queued");
    case "offered": return t("state.offered");
    // A phone callback is "connected" only once the phone answers (phone_call: the SIP call's
    // state from voice_state); dialled by hand (no trunk) it never says so.
    case "connected":
      if (callback.channel === "phone") return phoneStateText(callback, { t });
      return agent ? t("state.connected", { agent }) : t("state.connected_anonymous");
    case "completed": return t("state.completed");
    case "cancelled": return t("state.cancelled");
    case "abandoned": return t("state.abandoned");
    default: return String(callback.state || "");
  }
}

/** A phone callback being dialled by the server: `callback.phone_call` is voice_state's `phone`. */
function phoneStateText(callback, { t }) {
  const agent = callback.agent_name;
  const call = callback.phone_call;
  if (!call || call.state === "dialling") return agent ? t("state.calling", { agent }) : t("state.calling_anonymous");
  if (call.state === "ringing") return t("state.phone_ringing");
  if (call.state === "connected") return agent ? t("state.connected", { agent }) : t("state.connected_anonymous");
  if (call.result === "completed") return t("state.completed");
  if (call.result === "busy") return t("state.phone_busy");
  if (call.result === "cancelled") return t("state.phone_cancelled");
  return t("state.phone_unreached");
}

function detailText(callback, { t }) {
  const byPhone = callback.channel === "phone";
  const phone = callback.phone;
  switch (callback.state) {
    case "scheduled":
      if (!byPhone) return t("detail.scheduled_browser");
      return phone ? t("detail.scheduled_phone", { phone }) : t("detail.scheduled_phone_anonymous");
    case "queued":
      if (!byPhone) return t("detail.queued_browser");
      return phone ? t("detail.queued_phone", { phone }) : t("detail.queued_phone_anonymous");
    case "offered":
      if (!byPhone) return t("detail.offered_browser");
      return phone ? t("detail.offered_phone", { phone }) : t("detail.offered_phone_anonymous");
    case "connected":
      if (byPhone && callback.phone_call?.state === "connected") return "";
      if (byPhone && callback.phone_call?.state === "ended") {
        return callback.phone_call.result === "completed" ? "" : t("detail.phone_retry");
      }
      if (byPhone) return phone ? t("detail.connected_phone", { phone }) : t("detail.connected_phone_anonymous");
      return callback.agent_name ? t("detail.connected_browser", { agent: callback.agent_name }) : "";
    case "abandoned":
      return t("detail.abandoned");
    case "cancelled":
      return t("detail.cancelled");
    default:
      return "";
  }
}

/** The console's greeting in the customer's language (the welcome's `look`), "" for the widget's own words. */
function greeting(ui) {
  return ui.shell.look?.greeting?.[ui.language.locale] || "";
}
