import { html, type SafeHtml } from './html.js';

/**
 * Bar and line charts drawn on the server as inline SVG: the page needs no script and no asset
 * from anywhere. Each mark carries a <title>, which browsers show as a tooltip.
 */

type Series = { name: string; color: string; values: (number | null)[] };

type ChartOptions = {
  title: string;
  /** The x axis: one slot per day, `YYYY-MM-DD`. */
  days: string[];
  series: Series[];
  format: (value: number) => string;
  /** The top of the y axis; otherwise a round number above the largest value. */
  max?: number;
};

const WIDTH = 720;
const HEIGHT = 200;
const LEFT = 64;
const RIGHT = 12;
const TOP = 10;
const BOTTOM = 24;
const PLOT_WIDTH = WIDTH - LEFT - RIGHT;
const PLOT_HEIGHT = HEIGHT - TOP - BOTTOM;

const round = (value: number) => Math.round(value * 10) / 10;

/** 1, 2, 2.5 or 5 times a power of ten, at least `value`. */
function roundUp(value: number): number {
  if (!(value > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  const step = [1, 2, 2.5, 5, 10].find((candidate) => candidate * power >= value) ?? 10;
  return step * power;
}

function frame(options: ChartOptions, max: number, marks: SafeHtml[]): SafeHtml {
  const y = (value: number) => round(TOP + PLOT_HEIGHT - (value / max) * PLOT_HEIGHT);
  const grid = [0, max / 2, max].map(
    (value) => html`<line class="grid" x1="${LEFT}" x2="${WIDTH - RIGHT}" y1="${y(value)}" y2="${y(value)}"></line>
      <text class="axis" x="${LEFT - 6}" y="${y(value) + 4}" text-anchor="end">${options.format(value)}</text>`,
  );
  const slot = PLOT_WIDTH / Math.max(1, options.days.length);
  // Three dates at most under the axis (first, middle, last) keep 90 days readable.
  const labelled = [...new Set([0, Math.floor((options.days.length - 1) / 2), options.days.length - 1])].filter((index) => index >= 0);
  const last = options.days.length - 1;
  const dates = labelled.map((index) => {
    // The outer dates align with the plot's edges so they are not cut off.
    const [x, anchor] = last > 0 && index === 0 ? [LEFT, 'start'] : last > 0 && index === last ? [WIDTH - RIGHT, 'end'] : [round(LEFT + slot * (index + 0.5)), 'middle'];
    return html`<text class="axis" x="${x}" y="${HEIGHT - 6}" text-anchor="${anchor}">${options.days[index]}</text>`;
  });
  const legend = options.series.map((series) => html`<li><span class="swatch" style="background:${series.color}"></span>${series.name}</li>`);
  return html`<figure>
  <figcaption>${options.title}</figcaption>
  <svg viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-label="${options.title}">${grid}${marks}${dates}</svg>
  <ul class="legend">${legend}</ul>
</figure>`;
}

/** Bars per day, the series stacked in order. */
export function stackedBarChart(options: ChartOptions): SafeHtml {
  const { days, series } = options;
  const totals = days.map((_, index) => series.reduce((sum, one) => sum + (one.values[index] ?? 0), 0));
  const max = options.max ?? roundUp(Math.max(0, ...totals));
  const slot = PLOT_WIDTH / Math.max(1, days.length);
  const barWidth = round(Math.max(1, slot * 0.7));
  const marks: SafeHtml[] = [];
  days.forEach((day, index) => {
    let base = 0;
    for (const one of series) {
      const value = one.values[index] ?? 0;
      if (value <= 0) continue;
      const top = round(TOP + PLOT_HEIGHT - ((base + value) / max) * PLOT_HEIGHT);
      const height = round((value / max) * PLOT_HEIGHT);
      marks.push(
        html`<rect x="${round(LEFT + slot * index + (slot - barWidth) / 2)}" y="${top}" width="${barWidth}" height="${height}" fill="${one.color}"><title>${day} ${one.name}: ${options.format(value)}</title></rect>`,
      );
      base += value;
    }
  });
  return frame(options, max, marks);
}

/** One line per series; a day without a value breaks the line. */
export function lineChart(options: ChartOptions): SafeHtml {
  const { days, series } = options;
  const values = series.flatMap((one) => one.values.filter((value): value is number => value !== null));
  const max = options.max ?? roundUp(Math.max(0, ...values));
  const slot = PLOT_WIDTH / Math.max(1, days.length);
  const point = (index: number, value: number) => ({ x: round(LEFT + slot * (index + 0.5)), y: round(TOP + PLOT_HEIGHT - (value / max) * PLOT_HEIGHT) });
  const lines: SafeHtml[] = [];
  const points: SafeHtml[] = [];
  for (const one of series) {
    let run: { x: number; y: number }[] = [];
    const flush = () => {
      if (run.length > 1) lines.push(html`<polyline fill="none" stroke="${one.color}" stroke-width="2" points="${run.map((p) => `${p.x},${p.y}`).join(' ')}"></polyline>`);
      run = [];
    };
    one.values.forEach((value, index) => {
      if (value === null) return flush();
      const p = point(index, value);
      run.push(p);
      points.push(html`<circle cx="${p.x}" cy="${p.y}" r="3" fill="${one.color}"><title>${days[index]} ${one.name}: ${options.format(value)}</title></circle>`);
    });
    flush();
  }
  return frame(options, max, [...lines, ...points]);
}
