// The offer ring: WebAudio beeps, no audio file. Browsers only let a page make
// sound after a user gesture, so unlock() is called on the first click or key
// press; until then an offer rings silently (the card and the tab title still
// blink).

const PATTERN = [
  // [start offset s, duration s] of one ring cycle, repeated every CYCLE seconds
  [0, 0.4],
  [0.6, 0.4],
];
const CYCLE = 3;
const TONES = [440, 480]; // the classic two-tone ring

export class Ringer {
  constructor({ volume = 0.18 } = {}) {
    this.volume = volume;
    this.context = null;
    this.timer = null;
    this.ringing = false;
    this.muted = false;
    this._nodes = [];
  }

  /** Create or resume the audio context; call from a user gesture. */
  unlock() {
    const AudioContext = window.AudioContext || window.webkitAudioContext;
    if (!AudioContext) return;
    if (!this.context) {
      try {
        this.context = new AudioContext();
      } catch {
        return;
      }
    }
    if (this.context.state === "suspended") this.context.resume().catch(() => {});
  }

  start() {
    if (this.ringing) return;
    this.ringing = true;
    this._cycle();
    this.timer = setInterval(() => this._cycle(), CYCLE * 1000);
  }

  stop() {
    this.ringing = false;
    clearInterval(this.timer);
    this.timer = null;
    for (const node of this._nodes) {
      try {
        node.stop();
      } catch {
        /* already stopped */
      }
    }
    this._nodes = [];
  }

  setMuted(muted) {
    this.muted = muted;
    if (muted) {
      for (const node of this._nodes) {
        try {
          node.stop();
        } catch {
          /* already stopped */
        }
      }
      this._nodes = [];
    }
  }

  _cycle() {
    const context = this.context;
    if (!context || context.state !== "running" || this.muted) return;
    const now = context.currentTime + 0.02;
    this._nodes = [];
    for (const [offset, duration] of PATTERN) {
      const gain = context.createGain();
      const start = now + offset;
      // Short ramps avoid clicks at the edges of each beep.
      gain.gain.setValueAtTime(0, start);
      gain.gain.linearRampToValueAtTime(this.volume, start + 0.02);
      gain.gain.setValueAtTime(this.volume, start + duration - 0.03);
      gain.gain.linearRampToValueAtTime(0, start + duration);
      gain.connect(context.destination);
      for (const frequency of TONES) {
        const oscillator = context.createOscillator();
        oscillator.type = "sine";
        oscillator.frequency.value = frequency;
        oscillator.connect(gain);
        oscillator.start(start);
        oscillator.stop(start + duration + 0.01);
        this._nodes.push(oscillator);
      }
    }
  }
}
