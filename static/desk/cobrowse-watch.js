// The supervisor's co-browse page (/cobrowse/watch?visitor=<id>): the wall's
// socket, joined to one customer's share; the customer's recorder is asked for
// a fresh full snapshot, so the page shows at once.
import { setText } from "../common/dom.js";
import { HubSocket, wsUrl } from "../common/socket.js";
import { CobrowsePanel } from "./cobrowse.js";
import { t } from "./i18n.js";

const root = document.querySelector(".cobrowse-watch");
const socket = new HubSocket(wsUrl("/ws/supervisor"));
new CobrowsePanel(socket, root.querySelector("[data-cobrowse-slot]"), { watch: root.dataset.visitor });
socket.onState((state) => {
  const indicator = document.querySelector("[data-testid=connection]");
  indicator.dataset.state = state === "idle" ? "connecting" : state;
  setText(indicator.querySelector("[data-connection-text]"), t(state === "open" ? "hub.connected" : "hub.connecting"));
});
socket.connect();
