// Sigma Select: train a lead-scoring model from a CSV (logistic regression
// or gradient-boosted trees) with its ROC curve and calibration, score a
// batch of leads (sortable, with tiers and top factors), and assign leads
// to sales reps within their capacity.
import { getJSON, runJob, call } from './api.js';
import { bar, chartBox, scatter } from './charts.js';
import { $, clear, startRun, errorBox, example, fmt, h, kpis, num, pct, progressBar, readFile, ready, table } from './ui.js';

const TEMPLATE = `
<h1 id="h-sigma">Sigma Select: lead scoring</h1>
<div id="sigma-status" aria-live="polite"></div>
<div class="grid">
  <div class="card wide">
    <h2>Train a model</h2>
    <form class="stack" id="train-form">
      <div class="fields">
        <label>Training data (CSV) <input type="file" id="train-file" accept=".csv,text/csv"></label>
        <div class="actions"><button type="button" class="secondary" id="train-example">Use the example leads history</button></div>
      </div>
      <p class="note" id="train-status">No training data loaded yet.</p>
      <div class="fields">
        <label>Model name <input name="name" value="leads-v1" required></label>
        <label>Outcome column <input name="outcome" value="converted" required></label>
        <label>Positive value <input name="positive" value="yes"></label>
        <label>Drop columns (comma-separated) <input name="drop" value="lead_id"></label>
        <label>Personal columns (comma-separated) <input name="personal" value="name,email"></label>
        <label>Algorithm <select name="algorithm"><option value="logistic">Logistic regression</option><option value="gbt">Gradient-boosted trees</option></select></label>
        <label>Split <select name="split"><option value="mod5">Every fifth row held out</option><option value="random">Random</option><option value="none">None</option></select></label>
        <label>Test fraction <input name="test_fraction" type="number" min="0.05" max="0.9" step="any" value="0.2"></label>
        <label>Seed <input name="seed" type="number" min="0" step="1" value="1"></label>
      </div>
      <div class="actions"><button type="submit" id="run-train">Train</button></div>
      <div id="train-progress"></div>
    </form>
    <div id="train-result"></div>
  </div>
  <div class="card wide">
    <h2>Score leads</h2>
    <form class="stack" id="score-form">
      <div class="fields">
        <label>Model <select name="model" id="score-model"><option value="">(train or refresh the list)</option></select></label>
        <label>Leads (CSV) <input type="file" id="leads-file" accept=".csv,text/csv"></label>
        <div class="actions"><button type="button" class="secondary" id="leads-example">Use the example leads</button></div>
        <label>Id column <input name="id_column" value="lead_id"></label>
        <label>Top k <input name="top_k" type="number" min="1" step="1"></label>
      </div>
      <p class="note" id="leads-status">No leads loaded yet.</p>
      <div class="actions"><button type="submit" id="run-score">Score</button><button type="button" class="secondary" id="refresh-models">Refresh the model list</button></div>
    </form>
    <div id="score-result"></div>
  </div>
  <div class="card wide">
    <h2>Assign leads to reps</h2>
    <form class="stack" id="assign-form">
      <label>Reps (JSON: name, capacity, skills) <textarea name="reps" id="reps-text" spellcheck="false">[{"name": "Ana", "capacity": 5}, {"name": "Ben", "capacity": 5}, {"name": "Chloe", "capacity": 3}]</textarea></label>
      <p class="note">The leads are the scored ones; each lead's value is its score.</p>
      <div class="actions"><button type="submit" id="run-assign">Assign</button></div>
    </form>
    <div id="assign-result"></div>
  </div>
</div>`;

const list = (s) => s.split(',').map((x) => x.trim()).filter(Boolean);

function pick(o, keys) {
  for (const k of keys) if (typeof o[k] === 'number') return o[k];
  return null;
}

function showMetrics(box, r) {
  const m = r.metrics || {};
  const sets = ['train', 'test'].filter((k) => m[k]);
  clear(box).append(h('h3', { text: `Model ${r.name || ''}` }));
  box.append(kpis(sets.flatMap((k) => [[`${k} AUC`, fmt(m[k].auc, 3)], [`${k} log loss`, fmt(m[k].logloss, 3)], [`${k} accuracy`, pct(m[k].accuracy)]])));
  const roc = chartBox('ROC curve');
  const cal = chartBox('Calibration: predicted against observed');
  box.append(h('div', { class: 'grid' }, h('div', {}, h('h3', { text: 'ROC curve' }), roc.box), h('div', {}, h('h3', { text: 'Calibration' }), cal.box)));
  const diag = { label: 'chance', data: [{ x: 0, y: 0 }, { x: 1, y: 1 }], line: true, radius: 0, color: '#8a94a3', dash: [4, 4] };
  scatter(roc.canvas, [...sets.map((k) => ({ label: `${k} (AUC ${fmt(m[k].auc, 3)})`, data: (m[k].roc || []).map((p) => ({ x: p.fpr, y: p.tpr })), line: true, radius: 0 })), diag],
    { x: 'false positive rate', y: 'true positive rate', xmin: 0, xmax: 1, ymin: 0, ymax: 1 });
  const calPoints = (k) => (m[k].calibration || []).map((b) => ({
    x: pick(b, ['predicted', 'mean_predicted', 'predicted_mean', 'mean_probability', 'p_mean', 'prob', 'pred']),
    y: pick(b, ['observed', 'fraction_positive', 'observed_rate', 'positive_rate', 'actual', 'rate']),
  })).filter((p) => p.x !== null && p.y !== null);
  scatter(cal.canvas, [...sets.map((k) => ({ label: k, data: calPoints(k), line: true, radius: 4 })), { ...diag, label: 'perfect' }],
    { x: 'predicted probability', y: 'observed rate', xmin: 0, xmax: 1, ymin: 0, ymax: 1 });
}

function tierBadge(t) {
  return h('span', { class: `badge tier-${String(t).toUpperCase().slice(0, 1)}`, text: String(t) });
}

function showLeads(box, leads) {
  clear(box).append(h('p', { class: 'note', text: `${leads.length} lead(s) scored. Sort by any column.` }));
  box.append(table([
    { key: 'row', label: 'Row', num: true },
    { key: 'id', label: 'Id' },
    { key: 'probability', label: 'Probability', num: true, render: (l) => pct(l.probability) },
    { key: 'score', label: 'Score', num: true },
    { key: 'tier', label: 'Tier', render: (l) => tierBadge(l.tier) },
    { key: 'factors', label: 'Top factors', sortable: false, render: (l) => (l.factors || []).slice(0, 3).map((f) => `${f.column} ${f.contribution >= 0 ? '+' : ''}${fmt(f.contribution, 3)}`).join('; ') },
  ], leads, { caption: 'Scored leads', sortable: true }));
}

function showAssignment(box, r) {
  clear(box).append(kpis([['Total value', fmt(r.total_value)], ['Assigned', fmt((r.assignment || []).length)]]));
  const loads = r.loads || {};
  const names = Array.isArray(loads) ? loads.map((l) => l.rep || l.name) : Object.keys(loads);
  const values = Array.isArray(loads) ? loads.map((l) => l.load ?? l.count ?? l.value) : names.map((n) => loads[n]);
  if (names.length) {
    const c = chartBox('Leads per rep');
    box.append(c.box);
    bar(c.canvas, names, [{ label: 'load', data: values }], { y: 'load' });
  }
  box.append(table([{ key: 'lead', label: 'Lead' }, { key: 'rep', label: 'Rep' }], r.assignment || [], { caption: 'Assignment', sortable: true }));
}

async function refreshModels(root, status) {
  const sel = $(root, '#score-model');
  try {
    const doc = await getJSON('/api/v1/sigma/models');
    const models = Array.isArray(doc) ? doc : doc.models || doc.items || [];
    const keep = sel.value;
    clear(sel).append(h('option', { value: '', text: models.length ? '(choose a model)' : '(no model yet: train one)' }));
    for (const m of models) {
      const name = typeof m === 'string' ? m : m.name;
      sel.append(h('option', { value: name, text: name }));
    }
    if (keep) sel.value = keep;
    clear(status);
    return true;
  } catch (err) {
    clear(status).append(errorBox(err, 'Listing the Sigma Select models'));
    if (err.status === 404) status.append(h('p', { class: 'note', text: 'This server does not offer the Sigma Select routes yet.' }));
    return false;
  }
}

export async function render(root) {
  root.innerHTML = TEMPLATE;
  const status = $(root, '#sigma-status');
  let data = null;
  let leadsCsv = null;
  let scored = [];
  const loadTrain = (t, from) => {
    data = t;
    $(root, '#train-status').textContent = `${from}: ${t.trim().split(/\r?\n/).length - 1} rows; columns ${t.split(/\r?\n/)[0]}.`;
  };
  const loadLeads = (t, from) => {
    leadsCsv = t;
    $(root, '#leads-status').textContent = `${from}: ${t.trim().split(/\r?\n/).length - 1} leads.`;
  };
  $(root, '#train-file').addEventListener('change', async (e) => { const t = await readFile(e.target); if (t !== null) loadTrain(t, e.target.files[0].name); });
  $(root, '#train-example').addEventListener('click', async () => loadTrain(await example('sigma-train.csv'), 'Example'));
  $(root, '#leads-file').addEventListener('change', async (e) => { const t = await readFile(e.target); if (t !== null) loadLeads(t, e.target.files[0].name); });
  $(root, '#leads-example').addEventListener('click', async () => loadLeads(await example('sigma-leads.csv'), 'Example'));
  $(root, '#refresh-models').addEventListener('click', () => refreshModels(root, status));

  $(root, '#train-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const f = e.target;
    const out = $(root, '#train-result');
    if (!data) { clear(out).append(errorBox({ detail: 'load training data first' }, 'Training')); return; }
    const body = { name: f.elements.name.value.trim(), data_csv: data, outcome: f.elements.outcome.value.trim(), algorithm: f.elements.algorithm.value, split: { method: f.elements.split.value } };
    if (f.elements.positive.value.trim()) body.positive = f.elements.positive.value.trim();
    if (list(f.elements.drop.value).length) body.drop = list(f.elements.drop.value);
    if (list(f.elements.personal.value).length) body.personal = list(f.elements.personal.value);
    if (body.split.method === 'random') body.split.test_fraction = num(f, 'test_fraction');
    if (body.split.method !== 'none' && num(f, 'seed') !== undefined) body.split.seed = num(f, 'seed');
    startRun(out);
    const p = progressBar('Training');
    clear($(root, '#train-progress')).append(p.node);
    try {
      const { result } = await runJob('/api/v1/sigma/models', body, (x) => p.set(x));
      showMetrics(out, { name: body.name, ...result });
      out.dataset.done = 'yes';
      await refreshModels(root, status);
      $(root, '#score-model').value = body.name;
    } catch (err) {
      clear(out).append(errorBox(err, 'Training'));
    }
  });

  $(root, '#score-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const f = e.target;
    const out = $(root, '#score-result');
    if (!leadsCsv || !f.elements.model.value) { clear(out).append(errorBox({ detail: 'choose a model and load leads first' }, 'Scoring')); return; }
    const body = { model: f.elements.model.value, leads_csv: leadsCsv };
    if (f.elements.id_column.value.trim()) body.id_column = f.elements.id_column.value.trim();
    if (num(f, 'top_k') !== undefined) body.top_k = num(f, 'top_k');
    startRun(out);
    try {
      const res = await call('/api/v1/sigma/lead-scoring', { method: 'POST', body });
      scored = (await res.json()).leads || [];
      showLeads(out, scored);
      out.dataset.done = 'yes';
    } catch (err) {
      clear(out).append(errorBox(err, 'Scoring'));
    }
  });

  $(root, '#assign-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const out = $(root, '#assign-result');
    let reps;
    try { reps = JSON.parse($(root, '#reps-text').value); } catch (err) { clear(out).append(errorBox({ detail: `the reps are not JSON: ${err.message}` }, 'Assigning')); return; }
    if (!scored.length) { clear(out).append(errorBox({ detail: 'score some leads first' }, 'Assigning')); return; }
    const leads = scored.map((l) => ({ id: String(l.id ?? l.row), value: l.score }));
    startRun(out);
    try {
      const res = await call('/api/v1/sigma/lead-assignment', { method: 'POST', body: { reps, leads } });
      showAssignment(out, await res.json());
      out.dataset.done = 'yes';
    } catch (err) {
      clear(out).append(errorBox(err, 'Assigning'));
    }
  });

  await refreshModels(root, status);
  ready(root);
}
