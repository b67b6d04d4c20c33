// The wall's line chart: customers waiting per queue over the last hour,
// drawn by uPlot (static/vendor/uplot, from npm) and updated in place.

export const COLORS = ["#4338ca", "#059669", "#d97706", "#db2777", "#0891b2", "#7c3aed", "#65a30d", "#dc2626"];
const WINDOW = 3600; // s shown

/**
 * Align per-queue series [[at, waiting], …] on one x axis (uPlot's format):
 * [[x…], [queue 1 y…], …], with null where a queue has no point. The current
 * value (at `now`) is appended so the right edge is live.
 */
export function alignHistory(queues, history, now) {
  const perQueue = queues.map((queue) => {
    const points = new Map();
    for (const [at, waiting] of history?.[queue.name] ?? []) points.set(Math.round(at), waiting);
    if (typeof now === "number") points.set(Math.round(now), queue.waiting ?? 0);
    return points;
  });
  const xs = [...new Set(perQueue.flatMap((points) => [...points.keys()]))]
    .filter((x) => typeof now !== "number" || x >= now - WINDOW)
    .sort((a, b) => a - b);
  return [xs, ...perQueue.map((points) => xs.map((x) => (points.has(x) ? points.get(x) : null)))];
}

export class WaitingChart {
  /** `messages`: the wall's language (static/supervisor/i18n.js): t, number, timeOfDay. */
  constructor(container, messages) {
    this.container = container;
    this.messages = messages;
    this.plot = null;
    this.key = "";
    this.now = null;
    this.observer = null;
  }

  /** Draw or update from a `wall` message. */
  update(message) {
    const queues = message.queues || [];
    const uPlot = window.uPlot;
    if (!uPlot) {
      this.container.textContent = this.messages.t("chart.missing");
      return;
    }
    this.now = message.at;
    const data = alignHistory(queues, message.history || {}, message.at);
    const key = queues.map((queue) => queue.name).join("|");
    if (!this.plot || key !== this.key) {
      this._create(uPlot, queues, data);
      this.key = key;
    } else {
      this.plot.setData(data);
    }
    this._describe(queues, data);
  }

  _size() {
    const width = Math.max(280, Math.floor(this.container.clientWidth));
    return { width, height: 260 };
  }

  _create(uPlot, queues, data) {
    this.plot?.destroy();
    this.container.replaceChildren();
    const chart = this;
    const options = {
      ..._optionsBase(this.messages),
      ...this._size(),
      series: [
        { label: this.messages.t("chart.time"), value: (u, v) => (v == null ? "—" : this.messages.timeOfDay(v)) },
        ...queues.map((queue, index) => ({
          label: queue.title || queue.name,
          stroke: COLORS[index % COLORS.length],
          width: 2,
          spanGaps: true,
          points: { show: false },
          value: (u, v) => (v === null || v === undefined ? "—" : this.messages.number(v)),
        })),
      ],
      scales: {
        x: {
          time: true,
          range: (u, min, max) => {
            const end = chart.now ?? max;
            return [end - WINDOW, end];
          },
        },
        y: { range: (u, min, max) => [0, Math.max(4, Math.ceil((max || 0) * 1.2))] },
      },
    };
    this.plot = new uPlot(options, data, this.container);
    if (!this.observer && "ResizeObserver" in window) {
      this.observer = new ResizeObserver(() => this.plot?.setSize(this._size()));
      this.observer.observe(this.container);
    }
  }

  _describe(queues, data) {
    const parts = queues.map((queue, index) => {
      const values = data[index + 1].filter((v) => v !== null);
      const max = values.length ? Math.max(...values) : 0;
      return this.messages.t("chart.queue", { queue: queue.title || queue.name, now: queue.waiting ?? 0, max });
    });
    this.container.setAttribute("aria-label", this.messages.t("chart.label", { queues: this.messages.list(parts) }));
  }
}

function _optionsBase(messages) {
  return {
    legend: { show: true, live: true },
    cursor: { drag: { x: false, y: false } },
    axes: [
      // Times of day in the page's language (uPlot's own are English: "2:30pm").
      { stroke: "#5d6478", grid: { stroke: "#eceef3" }, ticks: { stroke: "#e1e4ec" },
        values: (u, splits) => splits.map((v) => messages.timeOfDay(v)) },
      {
        stroke: "#5d6478",
        grid: { stroke: "#eceef3" },
        ticks: { stroke: "#e1e4ec" },
        incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500],
        values: (u, splits) => splits.map((v) => messages.number(v)),
      },
    ],
  };
}
