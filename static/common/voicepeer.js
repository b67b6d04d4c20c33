// One RTCPeerConnection to the server's media anchor (docs/protocol.md, "Voice").
//
//   const peer = new VoicePeer({ iceServers });
//   await peer.start((sdp) => socket.send("voice_offer", { callback_id, sdp }).then((ack) => ack.sdp));
//   peer.setMuted(true);
//   peer.level("mic") / peer.level(0) / peer.level(1)   // 0..1, for meters
//   peer.peak(0)                                        // dominant frequency (Hz) heard on slot 0
//   peer.close();
//
// Two audio transceivers, negotiated once: slot 0 sends the microphone and
// receives the other party; slot 1 receives an extra voice (a supervisor's,
// or the agent's for a listening supervisor). The server switches what each
// slot carries without renegotiating. Signaling is non-trickle: the offer is
// sent once ICE gathering is complete.

const GATHER_TIMEOUT = 3000; // ms: send what we have after this

// getUserMedia's failures by their DOMException's name (its message is the browser's English).
const MICROPHONE_PROBLEMS = {
  NotFoundError: "no_microphone", OverconstrainedError: "no_microphone",
  NotAllowedError: "microphone_refused", SecurityError: "microphone_refused",
  NotReadableError: "microphone_busy", AbortError: "microphone_busy",
};

/** Why the browser gave no microphone: "no_microphone", "microphone_refused" or "microphone_busy"
 * (the problem a widget tells the agent of, voice_problem); null for any other failure. */
export function microphoneProblem(error) {
  return MICROPHONE_PROBLEMS[error?.name] || null;
}

export class VoicePeer {
  constructor({ iceServers = [], onState = () => {} } = {}) {
    this.iceServers = iceServers;
    this.onState = onState;
    this.pc = null;
    this.mic = null;
    this.stream = null;
    this.muted = false;
    this.audio = [null, null]; // <audio> per slot
    this.analysers = { mic: null, 0: null, 1: null };
    this.context = null;
    this.closed = false;
  }

  async start(sendOffer, { microphone = true } = {}) {
    const pc = new RTCPeerConnection({ iceServers: this.iceServers });
    this.pc = pc;
    pc.addEventListener("connectionstatechange", () => this.onState(pc.connectionState));
    if (microphone) {
      this.stream = await navigator.mediaDevices.getUserMedia({
        audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true },
      });
      this.mic = this.stream.getAudioTracks()[0];
      this.mic.enabled = !this.muted;
      this._analyse("mic", this.stream);
    }
    if (this.closed) return this.close();
    pc.addTransceiver(this.mic || "audio", { direction: this.mic ? "sendrecv" : "recvonly", streams: this.stream ? [this.stream] : [] });
    pc.addTransceiver("audio", { direction: "recvonly" });
    pc.addEventListener("track", (event) => {
      const slot = pc.getTransceivers().indexOf(event.transceiver);
      if (slot < 0 || slot > 1) return;
      // One stream per slot: the server may put both slots in one MediaStream.
      const stream = new MediaStream([event.track]);
      const audio = this.audio[slot] || document.createElement("audio");
      audio.autoplay = true;
      audio.srcObject = stream;
      audio.play().catch(() => {}); // may need a gesture; the desk's accept click is one
      this.audio[slot] = audio;
      this._analyse(slot, stream);
    });
    await pc.setLocalDescription(await pc.createOffer());
    await gathered(pc);
    const answer = await sendOffer(pc.localDescription.sdp);
    if (this.closed) return;
    await pc.setRemoteDescription({ type: "answer", sdp: answer });
  }

  setMuted(muted) {
    this.muted = muted;
    if (this.mic) this.mic.enabled = !muted;
  }

  /** RMS level (0..1) of the microphone ("mic") or of what a slot (0, 1) plays. */
  level(which) {
    const analyser = this.analysers[which];
    if (!analyser) return 0;
    const data = new Float32Array(analyser.fftSize);
    analyser.getFloatTimeDomainData(data);
    let sum = 0;
    for (const v of data) sum += v * v;
    return Math.sqrt(sum / data.length);
  }

  /** The dominant frequency (Hz) of a slot or the microphone, or null when silent. */
  peak(which) {
    const analyser = this.analysers[which];
    if (!analyser) return null;
    const bins = new Float32Array(analyser.frequencyBinCount);
    analyser.getFloatFrequencyData(bins);
    let best = 0;
    for (let i = 1; i < bins.length; i++) if (bins[i] > bins[best]) best = i;
    if (!(bins[best] > -70)) return null;
    return (best * this.context.sampleRate) / analyser.fftSize;
  }

  _analyse(which, stream) {
    try {
      this.context = this.context || new AudioContext();
      if (this.context.state === "suspended") this.context.resume().catch(() => {});
      const source = this.context.createMediaStreamSource(stream);
      const analyser = this.context.createAnalyser();
      analyser.fftSize = 4096;
      analyser.smoothingTimeConstant = 0.3;
      source.connect(analyser);
      this.analysers[which] = analyser;
    } catch {
      /* meters are a nicety */
    }
  }

  close() {
    this.closed = true;
    for (const audio of this.audio) if (audio) audio.srcObject = null;
    this.mic?.stop();
    this.pc?.close();
    this.context?.close().catch(() => {});
    this.context = null;
    this.analysers = { mic: null, 0: null, 1: null };
  }
}

function gathered(pc) {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      if (pc.iceGatheringState !== "complete") return;
      pc.removeEventListener("icegatheringstatechange", done);
      resolve();
    };
    pc.addEventListener("icegatheringstatechange", done);
    setTimeout(resolve, GATHER_TIMEOUT);
  });
}
