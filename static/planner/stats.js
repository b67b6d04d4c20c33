// The "Results" tab: what each action achieved. A placeholder until the desk's feedback
// (impressions, acceptances, attributed orders) is there to show.
import { h, replace } from "../common/dom.js";

export function mountStats(element) {
  replace(element, h("p", { class: "muted", dataset: { testid: "results-empty" } }, "No results yet."));
}
