// One participant's leg of a call, kept up: a VoicePeer (common/voicepeer.js)
// that is made again when the network drops it, and the browser's own view of
// the leg (getStats) reported to the server.
//
//   const link = new VoiceLink({ socket, callbackId, iceServers, mode, onState, onCall });
//   await link.start();      // rejects if the first offer is refused
//   link.peer                // the current VoicePeer (meters, peak, mute)
//   link.state               // connecting | connected | reconnecting | failed | closed
//   link.close();
//
// aiortc (the server's side) can't do an ICE restart, so a dropped leg gets a
// fresh RTCPeerConnection and a new `voice_offer` with `reconnect: true`; the
// server swaps the leg in place and the call (its talk time, its recording,
// the other party) goes on. A leg is "reconnecting" as soon as the browser
// says `disconnected` (ICE checks unanswered for ~2.5 s); it is remade after
// DROP_GRACE more ms unless it comes back by itself, at once on `failed`, and at once when the
// server says the leg is lost on its side (anchorLost: the call's anchor moved to another process,
// whose voice_state says every leg is reconnecting, seconds before the browser hears the silence).
import { VoicePeer } from "./voicepeer.js";

const DROP_GRACE = 1500; // ms a disconnected leg may recover by itself before it is remade
const MAX_ATTEMPTS = 10; // reconnect attempts (1 s, 2 s, 4 s, then every 8 s) before giving up
const STATS_EVERY = 4000; // ms between voice_stats reports
const SETTLED = 3000; // ms a leg is up before the server's word that it is lost may remake it (not a stale one)

export class VoiceLink {
  constructor({ socket, callbackId, iceServers = [], mode = null, muted = false, onState = () => {}, onCall = () => {} }) {
    this.socket = socket;
    this.callbackId = callbackId;
    this.iceServers = iceServers;
    this.mode = mode;
    this.muted = muted;
    this.onState = onState;
    this.onCall = onCall;
    this.peer = null;
    this.state = "connecting";
    this.error = null;
    this.attempts = 0;
    this.reconnects = 0; // legs remade so far (for tests and the console)
    this.anchorLosses = 0; // of those, remade at the server's word (anchorLost) before any silence here
    this.closed = false;
    this._connectedAt = 0;
    this._timer = null;
    this._last = null; // previous getStats counters, for per-report deltas
    this._stats = setInterval(() => this._report(), STATS_EVERY);
  }

  async start() {
    try {
      await this._connect(false);
    } catch (error) {
      // A reload can offer before the server sees the old tab's leg go quiet: once more, a little later.
      if (error.code !== "already_connected" || this.closed) throw error;
      this.peer?.close();
      await new Promise((resolve) => setTimeout(resolve, 3000));
      if (!this.closed) await this._connect(false);
    }
  }

  setMuted(muted) {
    this.muted = muted;
    this.peer?.setMuted(muted);
  }

  /** The server has lost this leg (its voice_state says "reconnecting"): remake it now. Not a
   * leg just made: that word may be about the leg it replaced. */
  anchorLost() {
    if (this.closed || this.state !== "connected" || Date.now() - this._connectedAt < SETTLED) return;
    clearTimeout(this._timer);
    this.anchorLosses += 1;
    this._set("reconnecting");
    this._reconnect(this.peer);
  }

  close() {
    this.closed = true;
    clearTimeout(this._timer);
    clearInterval(this._stats);
    this.peer?.close();
    this.peer = null;
    this._set("closed");
  }

  async _connect(reconnect) {
    const peer = new VoicePeer({ iceServers: this.iceServers, onState: (state) => this._peerState(peer, state) });
    peer.setMuted(this.muted);
    this.peer = peer;
    this._last = null;
    await peer.start(async (sdp) => {
      const fields = { callback_id: this.callbackId, sdp, ...(this.mode ? { mode: this.mode } : {}), ...(reconnect ? { reconnect: true } : {}) };
      const ack = await this.socket.send("voice_offer", fields);
      if (ack.call) this.onCall(ack.call);
      return ack.sdp;
    });
  }

  _peerState(peer, state) {
    if (peer !== this.peer || this.closed) return;
    clearTimeout(this._timer);
    if (state === "connected") {
      this.attempts = 0;
      this.error = null;
      this._connectedAt = Date.now();
      this._set("connected");
    } else if (state === "disconnected") {
      this._set("reconnecting");
      this._timer = setTimeout(() => this._reconnect(peer), DROP_GRACE);
    } else if (state === "failed") {
      this._set("reconnecting");
      this._reconnect(peer);
    } else {
      this._set(this.state === "reconnecting" ? "reconnecting" : "connecting");
    }
  }

  _reconnect(peer) {
    if (peer !== this.peer || this.closed) return;
    if (++this.attempts > MAX_ATTEMPTS) {
      this._set("failed");
      return;
    }
    peer.close();
    this.reconnects += 1;
    const delay = this.attempts === 1 ? 0 : Math.min(8000, 1000 * 2 ** (this.attempts - 2));
    this._timer = setTimeout(async () => {
      if (this.closed) return;
      try {
        await this._connect(true);
      } catch (error) {
        // The offer was refused or timed out (e.g. the call's server is being replaced): try again.
        this.error = error.message || String(error);
        if (["not_found", "invalid_state"].includes(error.code) && /ended|not connected/.test(this.error)) {
          this._set("failed");
          return;
        }
        this._reconnect(this.peer);
      }
    }, delay);
  }

  _set(state) {
    if (state === this.state) return;
    this.state = state;
    this.onState(state);
  }

  /** The browser's view of this leg: RTT of what we send, jitter, loss and concealment of what we hear. */
  async _report() {
    const pc = this.peer?.pc;
    if (this.closed || this.state !== "connected" || !pc || !this.socket.ready) return;
    let report;
    try {
      report = await pc.getStats();
    } catch {
      return;
    }
    const mid = pc.getTransceivers()[0]?.mid;
    let rtt = null;
    let jitter = null;
    const now = { received: 0, lost: 0, concealed: 0, samples: 0 };
    report.forEach((s) => {
      if (s.type === "remote-inbound-rtp" && s.roundTripTime != null) rtt = Math.max(rtt ?? 0, s.roundTripTime * 1000);
      if (s.type === "inbound-rtp" && s.kind === "audio" && (s.mid == null || s.mid === mid)) {
        if (s.jitter != null) jitter = Math.max(jitter ?? 0, s.jitter * 1000);
        now.received += s.packetsReceived || 0;
        now.lost += Math.max(0, s.packetsLost || 0);
        now.concealed += s.concealedSamples || 0;
        now.samples += s.totalSamplesReceived || 0;
      }
    });
    const last = this._last || { received: 0, lost: 0, concealed: 0, samples: 0 };
    this._last = now;
    const got = now.received - last.received;
    const lost = now.lost - last.lost;
    const fields = { callback_id: this.callbackId };
    if (rtt != null) fields.rtt_ms = Math.min(600000, rtt);
    if (jitter != null) fields.jitter_ms = Math.min(600000, jitter);
    if (got + lost > 0) fields.loss = Math.min(1, Math.max(0, lost / (got + lost)));
    // Concealed samples are counted at 48 kHz (Opus): in ms.
    if (now.concealed >= last.concealed) fields.concealed_ms = Math.min(600000, (now.concealed - last.concealed) / 48);
    this.socket.dropQueued("voice_stats");
    this.socket.notify("voice_stats", fields);
  }
}
