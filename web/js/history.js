// History and audit: stored decisions filtered by unit, kind and time,
// page by page (the server's cursor), a decision's detail, and the audit
// chain's verification.
import { getJSON } from './api.js';
import { bar, chartBox } from './charts.js';
import { auditStatus } from './overview.js';
import { $, clear, errorBox, fmt, h, kpis, ready, table } from './ui.js';

const TEMPLATE = `
<h1 id="h-history">History and audit</h1>
<div class="grid">
  <div class="card wide">
    <h2>Decisions</h2>
    <form class="stack" id="history-form">
      <div class="fields">
        <label>Unit <select name="unit" id="f-unit"><option value="">all</option><option>nqba</option><option>goliath</option><option>flyfox</option><option>sigma</option></select></label>
        <label>Kind <input name="kind" id="f-kind" placeholder="e.g. decision-engine"></label>
        <label>From <input name="from" id="f-from" type="datetime-local"></label>
        <label>To <input name="to" id="f-to" type="datetime-local"></label>
        <label>Per page <input name="limit" id="f-limit" type="number" min="1" max="500" value="50"></label>
      </div>
      <div class="actions"><button type="submit" id="search">Search</button><button type="button" class="secondary" id="more" hidden>Next page</button></div>
    </form>
    <div id="history-list" aria-live="polite"></div>
  </div>
  <div class="card wide" id="history-detail"><h2>Decision detail</h2><p class="note">Choose a decision in the list.</p></div>
  <div class="card wide" id="audit-card">
    <h2>Audit log</h2>
    <p class="note">Every decision, sign-in and change is in a hash-chained log; verifying walks the whole chain.</p>
    <div class="actions"><button type="button" id="verify-audit">Verify the audit chain</button></div>
    <div id="audit-result" aria-live="polite"></div>
  </div>
</div>`;

function query(form, cursor) {
  const p = new URLSearchParams();
  for (const k of ['unit', 'kind', 'limit']) if (form.elements[k].value) p.set(k, form.elements[k].value.trim());
  for (const k of ['from', 'to']) if (form.elements[k].value) p.set(k, new Date(form.elements[k].value).toISOString());
  if (cursor) p.set('cursor', cursor);
  return `/api/v1/decisions?${p}`;
}

function summaryOf(d) {
  const r = d.result || {};
  const pairs = [];
  if (r.status) pairs.push(['Outcome', r.status]);
  if (typeof r.objective === 'number') pairs.push(['Objective', fmt(r.objective)]);
  if (r.performance) pairs.push(['Sharpe', fmt(r.performance.sharpe, 3)]);
  if (typeof r.savings_eur === 'number') pairs.push(['Savings (EUR)', fmt(r.savings_eur, 4)]);
  if (r.scores && r.scores.overall) pairs.push(['Progress', `${r.scores.overall.progress_pct}%`]);
  return pairs;
}

async function showDetail(box, id) {
  clear(box).append(h('h2', { text: 'Decision detail' }));
  let d;
  try {
    d = await getJSON(`/api/v1/decisions/${encodeURIComponent(id)}`);
  } catch (err) {
    box.append(errorBox(err, 'Reading the decision'));
    return;
  }
  box.append(kpis([
    ['Id', d.id],
    ['Unit', d.unit],
    ['Kind', d.kind],
    ['Status', d.status],
    ['Solver', d.solver || '–'],
    ['Latency', `${fmt(d.latency_s * 1000, 3)} ms`],
    ['When', d.created_at],
    ...summaryOf(d),
  ]));
  box.dataset.detail = d.id;
  for (const [k, label] of [['request', 'Request'], ['result', 'Result'], ['error', 'Error']]) {
    if (d[k] === undefined || d[k] === null) continue;
    box.append(h('details', {}, h('summary', { text: label }), h('pre', { class: 'json', text: JSON.stringify(d[k], null, 2) })));
  }
  box.querySelector('h2').focus();
}

export async function render(root) {
  root.innerHTML = TEMPLATE;
  const form = $(root, '#history-form');
  const list = $(root, '#history-list');
  const detail = $(root, '#history-detail');
  const more = $(root, '#more');
  let items = [];
  let cursor = null;
  const chart = chartBox('Latency of the listed decisions, milliseconds');
  const draw = () => {
    clear(list);
    list.append(h('p', { class: 'note', text: `${items.length} decision(s) listed${cursor ? '; more on the next page' : ''}.` }));
    if (!items.length) return;
    list.append(chart.box);
    const shown = items.slice(0, 100).reverse();
    bar(chart.canvas, shown.map((d) => d.created_at.slice(11, 19)), [{ label: 'latency (ms)', data: shown.map((d) => d.latency_s * 1000) }], { y: 'ms' });
    list.append(table([
      { key: 'created_at', label: 'When' },
      { key: 'unit', label: 'Unit' },
      { key: 'kind', label: 'Kind' },
      { key: 'status', label: 'Status' },
      { key: 'solver', label: 'Solver' },
      { key: 'latency_s', label: 'Latency (ms)', num: true, render: (d) => fmt(d.latency_s * 1000, 3) },
      { key: 'id', label: 'Detail', sortable: false, render: (d) => h('button', { type: 'button', class: 'secondary', 'data-id': d.id, text: 'Open', 'aria-label': `Open decision ${d.id}` }) },
    ], items, { caption: 'Stored decisions, newest first', sortable: true }));
  };
  list.addEventListener('click', (e) => {
    const btn = e.target.closest('button[data-id]');
    if (btn) showDetail(detail, btn.dataset.id);
  });
  const load = async (append) => {
    try {
      const page = await getJSON(query(form, append ? cursor : null));
      items = append ? items.concat(page.items) : page.items;
      cursor = page.next_cursor;
      more.hidden = !cursor;
      draw();
    } catch (err) {
      clear(list).append(errorBox(err, 'Searching the decisions'));
    }
  };
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    load(false);
  });
  more.addEventListener('click', () => load(true));
  $(root, '#verify-audit').addEventListener('click', async () => {
    const out = $(root, '#audit-result');
    clear(out).append(h('p', { class: 'note', text: 'Verifying…' }));
    try {
      clear(out).append(auditStatus(await getJSON('/api/v1/audit/verify')));
    } catch (err) {
      clear(out).append(errorBox(err, 'Verifying the audit chain'));
    }
  });
  await load(false);
  ready(root);
}
