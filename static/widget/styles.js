// The panel's stylesheet, applied inside the widget's shadow root with the panel
// (the host's and the launcher's are in shell.js): nothing here leaks into the
// host page, and the host page's CSS does not reach in (`all: initial` on the
// host stops inherited fonts and colours as well).
export const css = `
/* The console's look (shell.js setLook writes it as the host's inline style, the fewest bytes in
   the first load): the colour's darker and softer shades, mixed by the browser; on the left,
   the panel and the launcher line up on the left (alone, the launcher is the root's only child). */
:host([style]) {
  --accent-dark: color-mix(in srgb, var(--accent) 82%, #000); --accent-soft: color-mix(in srgb, var(--accent) 10%, #fff);
}
:host([style*="left:"]) .root { align-items: flex-start; }
.launcher:focus-visible, button:focus-visible, input:focus-visible, select:focus-visible, textarea:focus-visible {
  outline: 3px solid #f59e0b; outline-offset: 2px;
}

.panel {
  width: 360px; max-width: calc(100vw - 24px);
  /* The window less the launcher under it (46 px, 20 px from the bottom, 12 px gap) and a margin. */
  max-height: calc(100vh - 92px); overflow: auto;
  background: #fff; border-radius: 16px; border: 1px solid var(--line);
  box-shadow: 0 18px 50px rgba(20, 20, 60, .25);
}
.panel header {
  display: flex; align-items: center; justify-content: space-between; gap: 8px;
  padding: 10px 14px; background: linear-gradient(135deg, #4338ca, #6d28d9); color: #fff;
  border-radius: 15px 15px 0 0; position: sticky; top: 0; z-index: 1;
}
:host([style]) .panel header { background: linear-gradient(135deg, var(--accent), var(--accent-dark)); }
.panel h2 { margin: 0; font-size: 16px; font-weight: 650; }
.panel header p { margin: 2px 0 0; font-size: 13px; opacity: .9; }
.icon-button {
  border: 0; background: rgba(255,255,255,.16); color: #fff; width: 32px; height: 32px;
  border-radius: 50%; font-size: 20px; line-height: 1; cursor: pointer; flex: none;
}
.icon-button:hover { background: rgba(255,255,255,.3); }
.body { padding: 12px 14px 14px; }
.connection {
  margin: 0; padding: 6px 16px; background: #fff7e6; color: var(--warn); font-size: 13px;
  border-bottom: 1px solid #fde3b0;
}

form { display: grid; gap: 10px; }
.field { display: grid; gap: 4px; }
label, legend { font-size: 13px; font-weight: 600; color: #343a4d; }
.optional { font-weight: 400; color: var(--muted); }
input[type=text], input[type=tel], input[type=datetime-local], select, textarea {
  width: 100%; font: inherit; color: inherit; background: #fff;
  border: 1px solid #b9bfcf; border-radius: 10px; padding: 7px 10px;
}
textarea { min-height: 40px; resize: vertical; }
[aria-invalid="true"] { border-color: var(--bad) !important; background: #fff6f6 !important; }
.error { margin: 0; color: var(--bad); font-size: 13px; }
.error:empty { display: none; }
.hint { margin: 0; color: var(--muted); font-size: 12.5px; }
.availability { margin: -4px 0 0; color: var(--muted); font-size: 13px; }
.availability.closed, .status .wait.closed {
  color: var(--warn); background: #fff7e6; border: 1px solid #fde3b0; border-radius: 10px; padding: 8px 10px;
}
fieldset { border: 0; margin: 0; padding: 0; display: grid; gap: 6px; }
.choices { display: grid; grid-template-columns: 1fr 1fr; gap: 8px; }
.choice { position: relative; }
.choice input { position: absolute; opacity: 0; inset: 0; margin: 0; cursor: pointer; }
.choice span {
  display: block; text-align: center; padding: 6px; border: 1px solid #b9bfcf;
  border-radius: 10px; font-size: 14px; cursor: pointer;
}
.choice.unavailable span { opacity: .45; text-decoration: line-through; cursor: not-allowed; }
.slots { display: flex; flex-wrap: wrap; gap: 6px; }
.slot {
  font: inherit; font-size: 13px; padding: 5px 9px; border-radius: 999px; cursor: pointer;
  border: 1px solid #b9bfcf; background: #fff; color: inherit;
}
.slot[aria-pressed="true"] { border-color: var(--accent); background: var(--accent-soft); color: var(--accent-dark); font-weight: 600; }
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
  .panel { width: calc(100vw - 24px); max-height: calc(100vh - 80px); }
}
@media (prefers-reduced-motion: reduce) {
  .status .big.ringing { animation: none; transition: none; }
}
`;
