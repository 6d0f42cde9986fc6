// NQBA overview: decisions per unit over time, latency percentiles, the job
// queue, solver usage, the result cache's hit rate and the audit chain.
// Each card loads on its own, so one refused read (a role without
// system:read) shows its error without hiding the rest.
import { getJSON, getText } from './api.js';
import { bar, chartBox, doughnut, line } from './charts.js';
import { $, clear, errorBox, fmt, h, kpis, pct, ready } from './ui.js';

const TEMPLATE = `
<h1 id="h-overview">NQBA overview</h1>
<div class="actions">
  <label>Time buckets
    <select id="bucket"><option value="hour">Hours (last 48 h)</option><option value="day">Days (last 30 days)</option></select>
  </label>
  <button type="button" id="refresh" class="secondary">Refresh</button>
</div>
<div class="grid">
  <div class="card wide" id="card-series"><h2>Decisions per unit over time</h2></div>
  <div class="card" id="card-latency"><h2>Latency percentiles</h2></div>
  <div class="card" id="card-queue"><h2>Job queue</h2></div>
  <div class="card" id="card-solvers"><h2>Solver usage</h2></div>
  <div class="card" id="card-cache"><h2>Result cache</h2></div>
  <div class="card" id="card-audit"><h2>Audit chain</h2></div>
</div>`;

// Prometheus text: {name: [{labels: {...}, value}]}.
export function parseMetrics(text) {
  const out = {};
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels = {};
    for (const kv of (m[3] || '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[kv[1]] = kv[2];
    (out[m[1]] ||= []).push({ labels, value: Number(m[4]) });
  }
  return out;
}

function body(card) {
  const title = card.querySelector('h2');
  clear(card).append(title);
  return card;
}

function seriesCard(card, summary, bucket) {
  const labels = summary.series.map((b) => {
    const d = new Date(b.start);
    return bucket === 'hour' ? `${d.toISOString().slice(5, 10)} ${d.toISOString().slice(11, 13)}h` : d.toISOString().slice(0, 10);
  });
  const units = Object.keys(summary.units);
  const { box, canvas } = chartBox('Decisions per unit over time', true);
  body(card).append(
    kpis([
      ['Decisions', fmt(summary.totals.decisions)],
      ['Succeeded', fmt(summary.totals.succeeded)],
      ['Failed', fmt(summary.totals.failed)],
      ['Cancelled', fmt(summary.totals.cancelled)],
    ]),
    box,
  );
  const series = units.length
    ? units.map((u) => ({ label: u, data: summary.series.map((b) => b.per_unit[u] || 0), stack: 'units' }))
    : [{ label: 'decisions', data: summary.series.map((b) => b.decisions) }];
  bar(canvas, labels, series, { stacked: true, y: 'decisions', legend: true });
  if (summary.truncated) card.append(h('p', { class: 'note', text: 'More decisions than one summary scans: the oldest are left out.' }));
}

function latencyCard(card, summary) {
  const units = Object.keys(summary.units);
  const { box, canvas } = chartBox('Latency percentiles by unit, milliseconds');
  body(card).append(
    kpis([
      ['p50 (all)', `${fmt(summary.totals.latency_p50_s * 1000, 3)} ms`],
      ['p99 (all)', `${fmt(summary.totals.latency_p99_s * 1000, 3)} ms`],
    ]),
    box,
  );
  const ms = (v) => (v === null || v === undefined ? null : v * 1000);
  bar(canvas, units.length ? units : ['(none)'], [
    { label: 'p50', data: units.map((u) => ms(summary.units[u].latency_p50_s)) },
    { label: 'p99', data: units.map((u) => ms(summary.units[u].latency_p99_s)) },
  ], { y: 'milliseconds' });
}

function queueCard(card, readyz, metrics) {
  const states = (metrics.nqba_jobs || []).map((s) => [s.labels.state, s.value]);
  const { box, canvas } = chartBox('Jobs by state');
  body(card).append(
    kpis([
      ['Status', readyz.status],
      ['Workers', fmt(readyz.workers)],
      ['Queued', fmt(readyz.queued)],
      ['Running', fmt(readyz.running)],
    ]),
    box,
  );
  bar(canvas, states.map((s) => s[0]), [{ label: 'jobs', data: states.map((s) => s[1]) }], { y: 'jobs since start' });
}

function solverCard(card, summary) {
  const use = {};
  for (const u of Object.values(summary.units)) for (const [s, n] of Object.entries(u.solvers || {})) use[s] = (use[s] || 0) + n;
  const names = Object.keys(use).sort((a, b) => use[b] - use[a]);
  body(card);
  if (!names.length) {
    card.append(h('p', { class: 'note', text: 'No solver has run in this period.' }));
    return;
  }
  const { box, canvas } = chartBox('Solver usage');
  card.append(box);
  bar(canvas, names, [{ label: 'runs', data: names.map((n) => use[n]) }], { horizontal: true, x: 'decisions' });
}

function cacheCard(card, metrics) {
  const get = (n) => (metrics[n] && metrics[n][0] ? metrics[n][0].value : 0);
  const hits = get('nqba_cache_hits_total');
  const misses = get('nqba_cache_misses_total');
  body(card).append(kpis([
    ['Hit rate', hits + misses ? pct(hits / (hits + misses)) : '–'],
    ['Hits', fmt(hits)],
    ['Misses', fmt(misses)],
  ]));
  if (!hits && !misses) {
    card.append(h('p', { class: 'note', text: 'No cache lookups since the server started.' }));
    return;
  }
  const { box, canvas } = chartBox('Cache hits and misses');
  card.append(box);
  doughnut(canvas, ['hits', 'misses'], [hits, misses]);
}

export function auditStatus(v) {
  if (v.ok) return h('p', { class: 'ok', 'data-audit': 'verified', text: `Audit chain verified: ${v.entries} entries, head at ${v.head_seq}.` });
  return h('p', { class: 'bad', 'data-audit': 'broken', text: `Audit chain broken at entry ${v.first_bad_seq}: ${v.reason || 'hash mismatch'}.` });
}

function auditCard(card, v) {
  body(card).append(auditStatus(v));
}

async function load(root) {
  const bucket = $(root, '#bucket').value;
  const now = Date.now();
  const from = new Date(now - (bucket === 'hour' ? 48 * 3600e3 : 30 * 86400e3)).toISOString();
  const q = `/api/v1/analytics/summary?bucket=${bucket}&from=${encodeURIComponent(from)}`;
  const [summary, readyz, metricsText, audit] = await Promise.allSettled([
    getJSON(q),
    fetch('/readyz', { cache: 'no-store' }).then((r) => r.json()),
    getText('/metrics'),
    getJSON('/api/v1/audit/verify'),
  ]);
  const fail = (id, r, what) => body($(root, id)).append(errorBox(r.reason, what));
  const metrics = metricsText.status === 'fulfilled' ? parseMetrics(metricsText.value) : null;
  if (summary.status === 'fulfilled') {
    seriesCard($(root, '#card-series'), summary.value, bucket);
    latencyCard($(root, '#card-latency'), summary.value);
    solverCard($(root, '#card-solvers'), summary.value);
  } else {
    for (const id of ['#card-series', '#card-latency', '#card-solvers']) fail(id, summary, 'Reading the analytics');
  }
  if (metrics && readyz.status === 'fulfilled') queueCard($(root, '#card-queue'), readyz.value, metrics);
  else fail('#card-queue', metrics ? readyz : metricsText, 'Reading the queue');
  if (metrics) cacheCard($(root, '#card-cache'), metrics);
  else fail('#card-cache', metricsText, 'Reading /metrics');
  if (audit.status === 'fulfilled') auditCard($(root, '#card-audit'), audit.value);
  else fail('#card-audit', audit, 'Verifying the audit chain');
}

export async function render(root) {
  root.innerHTML = TEMPLATE;
  $(root, '#bucket').addEventListener('change', () => load(root));
  $(root, '#refresh').addEventListener('click', () => load(root));
  await load(root);
  ready(root);
}
