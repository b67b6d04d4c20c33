// The widget's stylesheet, applied inside its shadow root: nothing here leaks
// into the host page, and the host page's CSS does not reach in (`all:
// initial` on the host stops inherited fonts and colours as well).
export const css = `
:host {
  all: initial;
  position: fixed;
  right: 20px;
  bottom: 20px;
  z-index: 2147483000;
  font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  color: #1f2433;
  --accent: #4338ca;
  --accent-dark: #3730a3;
  --accent-soft: #eef0ff;
  --ok: #047857;
  --warn: #b45309;
  --bad: #b91c1c;
  --muted: #5b6275;
  --line: #d9dce6;
}
* { box-sizing: border-box; }
[hidden] { display: none !important; }
.root { display: flex; flex-direction: column; align-items: flex-end; gap: 12px; }

.launcher {
  display: inline-flex; align-items: center; gap: 8px;
  border: 0; border-radius: 999px; padding: 12px 20px 12px 16px;
  background: var(--accent); color: #fff; font: inherit; font-weight: 600;
  box-shadow: 0 6px 20px rgba(40, 40, 90, .28); cursor: pointer;
  transition: transform .15s ease, background .15s ease;
}
.launcher:hover { background: var(--accent-dark); transform: translateY(-1px); }
.launcher:focus-visible, button:focus-visible, input:focus-visible, select:focus-visible, textarea:focus-visible {
  outline: 3px solid #f59e0b; outline-offset: 2px;
}
.launcher .icon { font-size: 18px; line-height: 1; display: inline-flex; }
.launcher .badge {
  background: #fff; color: var(--accent-dark); border-radius: 999px;
  padding: 1px 8px; font-size: 13px; font-weight: 700;
}
.launcher.live { animation: pulse 1.6s ease-in-out infinite; }
@keyframes pulse { 50% { box-shadow: 0 0 0 8px rgba(67, 56, 202, .18), 0 6px 20px rgba(40, 40, 90, .28); } }

.panel {
  width: 360px; max-width: calc(100vw - 24px);
  max-height: calc(100vh - 110px); overflow: auto;
  background: #fff; border-radius: 16px; border: 1px solid var(--line);
  box-shadow: 0 18px 50px rgba(20, 20, 60, .25);
}
.panel header {
  display: flex; align-items: center; justify-content: space-between; gap: 8px;
  padding: 14px 16px; background: linear-gradient(135deg, #4338ca, #6d28d9); color: #fff;
  border-radius: 15px 15px 0 0; position: sticky; top: 0; z-index: 1;
}
.panel h2 { margin: 0; font-size: 16px; font-weight: 650; }
.panel header p { margin: 2px 0 0; font-size: 13px; opacity: .9; }
.icon-button {
  border: 0; background: rgba(255,255,255,.16); color: #fff; width: 32px; height: 32px;
  border-radius: 50%; font-size: 20px; line-height: 1; cursor: pointer; flex: none;
}
.icon-button:hover { background: rgba(255,255,255,.3); }
.body { padding: 16px; }
.connection {
  margin: 0; padding: 6px 16px; background: #fff7e6; color: var(--warn); font-size: 13px;
  border-bottom: 1px solid #fde3b0;
}

form { display: grid; gap: 12px; }
.field { display: grid; gap: 4px; }
label, legend { font-size: 13px; font-weight: 600; color: #343a4d; }
.optional { font-weight: 400; color: var(--muted); }
input[type=text], input[type=tel], input[type=datetime-local], select, textarea {
  width: 100%; font: inherit; color: inherit; background: #fff;
  border: 1px solid #b9bfcf; border-radius: 10px; padding: 9px 11px;
}
textarea { min-height: 52px; resize: vertical; }
[aria-invalid="true"] { border-color: var(--bad) !important; background: #fff6f6 !important; }
.error { margin: 0; color: var(--bad); font-size: 13px; }
.error:empty { display: none; }
.hint { margin: 0; color: var(--muted); font-size: 12.5px; }
fieldset { border: 0; margin: 0; padding: 0; display: grid; gap: 6px; }
.choices { display: grid; grid-template-columns: 1fr 1fr; gap: 8px; }
.choice { position: relative; }
.choice input { position: absolute; opacity: 0; inset: 0; margin: 0; cursor: pointer; }
.choice span {
  display: block; text-align: center; padding: 8px 6px; border: 1px solid #b9bfcf;
  border-radius: 10px; font-size: 14px; cursor: pointer;
}
.choice input:checked + span { border-color: var(--accent); background: var(--accent-soft); color: var(--accent-dark); font-weight: 600; }
.choice input:focus-visible + span { outline: 3px solid #f59e0b; outline-offset: 2px; }
.form-error {
  margin: 0; padding: 8px 10px; border-radius: 10px; background: #fff1f1; color: var(--bad); font-size: 14px;
}
.form-error:empty { display: none; }

.primary, .secondary {
  font: inherit; font-weight: 600; border-radius: 10px; padding: 11px 14px; cursor: pointer; width: 100%;
}
.primary { border: 0; background: var(--accent); color: #fff; }
.primary:hover { background: var(--accent-dark); }
.primary[disabled] { background: #8d8fc4; cursor: progress; }
.secondary { border: 1px solid #b9bfcf; background: #fff; color: #343a4d; }
.secondary:hover { background: #f4f5f9; }
.secondary[disabled] { opacity: .6; cursor: progress; }
.privacy { margin: 0; font-size: 12px; color: var(--muted); text-align: center; }

.status { display: grid; gap: 10px; text-align: center; }
.status .state { margin: 4px 0 0; font-size: 18px; font-weight: 650; outline: none; }
.status .state.connected { color: var(--ok); }
.status .state.final { color: #343a4d; }
.status .big {
  margin: 0 auto; width: 64px; height: 64px; border-radius: 50%;
  display: grid; place-items: center; font-size: 28px; color: var(--accent); background: var(--accent-soft);
}
.status .big.ringing { animation: ring 1.2s ease-in-out infinite; }
@keyframes ring { 0%, 100% { transform: rotate(0); } 20% { transform: rotate(-12deg); } 40% { transform: rotate(12deg); } 60% { transform: rotate(-6deg); } }
.status .line { margin: 0; }
.status .position { font-size: 16px; }
.status .wait, .status .detail, .status .scheduled { color: var(--muted); font-size: 14px; }
.status .actions { display: grid; gap: 8px; margin-top: 4px; }

@media (max-width: 480px) {
  :host { right: 12px; bottom: 12px; left: auto; }
  .panel { width: calc(100vw - 24px); }
}
@media (prefers-reduced-motion: reduce) {
  .launcher, .launcher.live, .status .big.ringing { animation: none; transition: none; }
}
`;
