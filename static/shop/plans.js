// The care-plans page: a small web component with an open shadow root (co-browse
// records those) and a chart drawn on a <canvas> (co-browse can't mirror drawings).

class PlanBadge extends HTMLElement {
  connectedCallback() {
    if (this.shadowRoot) return;
    const root = this.attachShadow({ mode: "open" });
    const plan = this.getAttribute("plan") || "Plus";
    root.innerHTML = `<style>b { display: inline-block; padding: 4px 10px; border-radius: 999px; background: #eef0ff; color: #3730a3; }</style>
      <b>Most chosen: ${plan.replace(/[<>&"]/g, "")} plan, first month free</b>`;
  }
}
customElements.define("nova-plan-badge", PlanBadge);

const canvas = document.querySelector("[data-testid=plans-chart]");
const context = canvas?.getContext("2d");
if (context) {
  const claims = [3, 5, 2, 6, 4, 7];
  context.fillStyle = "#6366f1";
  claims.forEach((value, index) => context.fillRect(20 + index * 48, 110 - value * 14, 30, value * 14));
}
