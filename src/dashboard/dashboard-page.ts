import type { DashboardSummary, DayRange } from '../store/store.js';
import { html, SafeHtml } from './html.js';
import { lineChart, stackedBarChart } from './svg-charts.js';

/** The /dashboard page: figures from the analyst views, drawn on the server, one self-contained HTML document. */

const DAY_MS = 86_400_000;

/** The last `days` UTC calendar days up to and including the one `now` falls in. */
export function dayRange(days: number, now: Date): DayRange {
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  return { firstDay: isoDay(today - (days - 1) * DAY_MS), lastDay: isoDay(today) };
}

const isoDay = (time: number) => new Date(time).toISOString().slice(0, 10);

export function daysIn(range: DayRange): string[] {
  const days: string[] = [];
  for (let time = Date.parse(`${range.firstDay}T00:00:00Z`); time <= Date.parse(`${range.lastDay}T00:00:00Z`); time += DAY_MS) days.push(isoDay(time));
  return days;
}

const decisionColors: Record<string, string> = { pass: '#2e7d32', review: '#f9a825', flagged: '#c62828', error: '#757575' };
const contentColors: Record<string, string> = { image: '#1565c0', video: '#6a1b9a', text: '#00838f' };
const fallbackColors = ['#5d4037', '#455a64', '#ad1457', '#9e9d24'];

const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const count = (value: number) => integer.format(value);
const milliseconds = (value: number) => `${integer.format(value)} ms`;
const percent = (ratio: number) => `${(ratio * 100).toFixed(1)} %`;
const ratioOf = (part: number, whole: number) => (whole > 0 ? part / whole : 0);

const sum = <T>(rows: T[], pick: (row: T) => number) => rows.reduce((total, row) => total + pick(row), 0);

/** Known names first in their usual order, then any other in alphabetical order. */
function ordered(names: Iterable<string>, known: string[]): string[] {
  const present = new Set(names);
  return [...known.filter((name) => present.has(name)), ...[...present].filter((name) => !known.includes(name)).sort()];
}

function colorFor(name: string, palette: Record<string, string>, index: number): string {
  return palette[name] ?? (fallbackColors[index % fallbackColors.length] as string);
}

function table(headers: string[], rows: unknown[][], numericFrom = 1, empty = 'No answered requests in this period.'): SafeHtml {
  if (rows.length === 0) return html`<p class="empty">${empty}</p>`;
  return html`<table>
  <thead><tr>${headers.map((header, index) => html`<th${index >= numericFrom ? html` class="number"` : ''}>${header}</th>`)}</tr></thead>
  <tbody>${rows.map((row) => html`<tr>${row.map((cell, index) => html`<td${index >= numericFrom ? html` class="number"` : ''}>${cell}</td>`)}</tr>`)}</tbody>
</table>`;
}

const numbers = (content: SafeHtml) => html`<details><summary>Numbers</summary>${content}</details>`;

const styles = `
  :root { color-scheme: light; font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1f2328; }
  body { margin: 0 auto; max-width: 780px; padding: 16px; }
  h1 { font-size: 1.5rem; margin: 0 0 4px; }
  h2 { font-size: 1.1rem; margin: 28px 0 8px; }
  nav a { margin-right: 12px; }
  .range { color: #57606a; margin: 0 0 16px; }
  .tiles { display: grid; grid-template-columns: repeat(auto-fit, minmax(170px, 1fr)); gap: 12px; margin: 16px 0; }
  .tiles div { border: 1px solid #d0d7de; border-radius: 6px; padding: 10px 12px; }
  .tiles dt { color: #57606a; font-size: 0.85rem; }
  .tiles dd { margin: 4px 0 0; font-size: 1.4rem; font-weight: 600; }
  figure { margin: 0; }
  figcaption { font-weight: 600; margin-bottom: 4px; }
  svg { width: 100%; height: auto; display: block; }
  svg .grid { stroke: #d0d7de; stroke-width: 1; }
  svg .axis { font-size: 11px; fill: #57606a; }
  .legend { list-style: none; padding: 0; margin: 4px 0 0; display: flex; flex-wrap: wrap; gap: 14px; font-size: 0.85rem; }
  .swatch { display: inline-block; width: 10px; height: 10px; margin-right: 5px; border-radius: 2px; }
  table { border-collapse: collapse; width: 100%; font-size: 0.85rem; margin-top: 6px; }
  th, td { border-bottom: 1px solid #d0d7de; padding: 4px 6px; text-align: left; }
  td { overflow-wrap: anywhere; }
  .number { text-align: right; font-variant-numeric: tabular-nums; }
  details { margin-top: 6px; }
  .empty, .note { color: #57606a; font-size: 0.9rem; }
`;

export function renderDashboard(summary: DashboardSummary, range: DayRange, choices: number[]): string {
  const days = daysIn(range);
  const dayIndex = new Map(days.map((day, index) => [day, index]));
  const perDay = <T extends { day: string }>(rows: T[], pick: (row: T) => number, keep: (row: T) => boolean = () => true) => {
    const values: (number | null)[] = days.map(() => null);
    for (const row of rows) {
      const index = dayIndex.get(row.day);
      if (index === undefined || !keep(row)) continue;
      values[index] = (values[index] ?? 0) + pick(row);
    }
    return values;
  };

  // Period totals
  const answered = sum(summary.cache, (row) => row.answered);
  const saved = sum(summary.cache, (row) => row.providerCallsSaved);
  const providerRequests = sum(summary.providerErrors, (row) => row.providerRequests);
  const failures = sum(summary.providerErrors, (row) => row.failures);
  const worstP95 = summary.latency.reduce((worst, row) => Math.max(worst, row.p95LatencyMs), 0);

  // Decisions per day, all content types stacked by decision.
  const decisionNames = ordered(summary.decisions.map((row) => row.decision), ['pass', 'review', 'flagged', 'error']);
  const decisionsChart = stackedBarChart({
    title: 'Decisions per day',
    days,
    series: decisionNames.map((decision, index) => ({
      name: decision,
      color: colorFor(decision, decisionColors, index),
      values: perDay(summary.decisions, (row) => row.requests, (row) => row.decision === decision),
    })),
    format: count,
  });

  // Cache: the share answered from the store, and the calls that saved.
  const answeredPerDay = perDay(summary.cache, (row) => row.answered);
  const savedPerDay = perDay(summary.cache, (row) => row.providerCallsSaved);
  const hitRatioChart = lineChart({
    title: 'Cache hit ratio per day',
    days,
    series: [
      { name: 'answered from the store', color: '#1565c0', values: answeredPerDay.map((total, index) => (total ? ratioOf(savedPerDay[index] ?? 0, total) : null)) },
    ],
    format: percent,
    max: 1,
  });
  const savedChart = stackedBarChart({
    title: 'Provider calls saved per day',
    days,
    series: [
      { name: 'same content (cache_exact)', color: '#2e7d32', values: perDay(summary.cache, (row) => row.cacheExact) },
      { name: 'near-identical (cache_near)', color: '#81c784', values: perDay(summary.cache, (row) => row.cacheNear) },
    ],
    format: count,
  });

  // Latency: p95 per content type.
  const latencyTypes = ordered(summary.latency.map((row) => row.contentType), ['image', 'video', 'text']);
  const latencyChart = lineChart({
    title: 'p95 latency per day',
    days,
    series: latencyTypes.map((contentType, index) => ({
      name: contentType,
      color: colorFor(contentType, contentColors, index),
      values: perDay(summary.latency, (row) => row.p95LatencyMs, (row) => row.contentType === contentType),
    })),
    format: milliseconds,
  });

  // Providers over the whole period.
  const providers = ordered(summary.providerErrors.map((row) => row.provider), []);
  const providerRows = providers.map((provider) => {
    const rows = summary.providerErrors.filter((row) => row.provider === provider);
    const asked = sum(rows, (row) => row.providerRequests);
    const failed = sum(rows, (row) => row.failures);
    return [provider, count(asked), count(failed), percent(ratioOf(failed, asked))];
  });

  const page = html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>Moderation dashboard</title>
<style>${new SafeHtml(styles)}</style>
</head>
<body>
<h1>Moderation dashboard</h1>
<p class="range">${range.firstDay} to ${range.lastDay} (UTC), the last ${days.length} ${days.length === 1 ? 'day' : 'days'}.</p>
<nav>${choices.map((choice) => html`<a href="?days=${choice}">${choice} days</a>`)}</nav>

<dl class="tiles">
  <div><dt>Requests answered</dt><dd>${count(answered)}</dd></div>
  <div><dt>Cache hit ratio</dt><dd>${percent(ratioOf(saved, answered))}</dd></div>
  <div><dt>Provider calls saved</dt><dd>${count(saved)}</dd></div>
  <div><dt>Highest daily p95 latency</dt><dd>${milliseconds(worstP95)}</dd></div>
  <div><dt>Provider failures</dt><dd>${count(failures)} (${percent(ratioOf(failures, providerRequests))})</dd></div>
</dl>

<h2>Decisions</h2>
${decisionsChart}
${numbers(table(['day', 'content type', 'decision', 'requests'], summary.decisions.map((row) => [row.day, row.contentType, row.decision, count(row.requests)]), 3))}

<h2>Cache</h2>
<p class="note">Each request answered from the store (same bytes or text, or a near-identical picture) is a provider call saved.</p>
${hitRatioChart}
${savedChart}
${numbers(
  table(
    ['day', 'content type', 'answered', 'cache_exact', 'cache_near', 'provider', 'local', 'error', 'hit ratio'],
    summary.cache.map((row) => [row.day, row.contentType, count(row.answered), count(row.cacheExact), count(row.cacheNear), count(row.provider), count(row.local), count(row.error), percent(row.cacheHitRatio)]),
    2,
  ),
)}

<h2>Latency</h2>
${latencyChart}
${numbers(
  table(
    ['day', 'content type', 'requests', 'mean', 'p95'],
    summary.latency.map((row) => [row.day, row.contentType, count(row.requests), milliseconds(row.avgLatencyMs), milliseconds(row.p95LatencyMs)]),
    2,
  ),
)}

<h2>Providers</h2>
<p class="note">Requests that asked a provider or the local classifier, and those it could not answer (held for review, or a text "error").</p>
${table(['provider', 'requests', 'failures', 'failure rate'], providerRows, 1, 'No provider or local classifier was asked in this period.')}

<h2>Most-flagged users</h2>
${table(
  ['user_uuid', 'flagged', 'review', 'answered', 'last flagged (UTC)'],
  summary.flaggedUsers.map((row) => [row.userUuid, count(row.flagged), count(row.review), count(row.total), row.lastFlaggedAt ?? '']),
  1,
  'No flagged or review answers in this period.',
)}
</body>
</html>
`;
  return page.value;
}
