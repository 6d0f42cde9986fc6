// Decision engine: a decision request (JSON, docs/api/decision-model.md)
// pasted, uploaded or taken from the examples; run as a job with a progress
// bar; the answer as the decision, the constraint table, the objective's
// parts, alternatives and an explanation in sentences.
import { runJob } from './api.js';
import { bar, chartBox } from './charts.js';
import { $, clear, startRun, errorBox, example, fmt, h, kpis, progressBar, readFile, ready, table } from './ui.js';

const TEMPLATE = `
<h1 id="h-decision">Decision engine</h1>
<div class="grid">
  <div class="card wide">
    <h2>Model</h2>
    <p class="note">A decision request in JSON (variables, objective, constraints, rules). The HTTP API takes JSON only;
      LP and MPS files are read by the command line (<code>nqba decide FILE.lp</code>).</p>
    <form class="stack" id="decision-form">
      <div class="fields">
        <label>Upload a model (.json) <input type="file" id="model-file" accept=".json,application/json"></label>
        <label>Or an example
          <select id="model-example"><option value="">(choose)</option><option value="decision-warehouse.json">Warehouse site</option></select>
        </label>
      </div>
      <label>Model JSON <textarea id="model-text" name="model" spellcheck="false" required></textarea></label>
      <fieldset><legend>Options (override the model's)</legend>
        <div class="fields">
          <label>Solver <select name="solver" id="opt-solver">
            <option value="">model's choice</option><option>auto</option><option>exact</option><option>milp</option>
            <option>native</option><option>sa</option><option>tabu</option><option>pt</option><option>sb</option></select></label>
          <label>Time limit (s) <input name="time_limit" id="opt-time" type="number" min="0.01" step="any"></label>
          <label>Alternatives <input name="alternatives" id="opt-alt" type="number" min="0" max="100" value="3"></label>
          <label>Seed <input name="seed" id="opt-seed" type="number" min="0" step="1"></label>
        </div>
      </fieldset>
      <div class="actions"><button type="submit" id="run-decision">Run decision</button></div>
      <div id="decision-progress"></div>
    </form>
  </div>
  <div class="card wide" id="decision-result" aria-live="polite"></div>
</div>`;

function options(form) {
  const o = {};
  if (form.elements.solver.value) o.solver = form.elements.solver.value;
  for (const k of ['time_limit', 'alternatives', 'seed']) {
    if (form.elements[k].value !== '') o[k] = Number(form.elements[k].value);
  }
  return o;
}

// Sentences from the answer's parts: what was decided, what limits it,
// what the objective is made of, what the rules did.
export function explain(r) {
  const out = [];
  const proven = r.proven ? 'proven optimal' : 'not proven optimal';
  if (r.status === 'infeasible') out.push(`No feasible decision: ${r.conflicts && r.conflicts.note ? r.conflicts.note : 'the hard constraints cannot all hold'}.`);
  else if (r.status === 'policy') out.push('A policy decision: the decision tables alone decide.');
  else out.push(`The decision is ${r.status} (${r.status === 'optimal' ? proven : 'feasible, ' + proven}) with objective ${fmt(r.objective)} (${r.sense}).`);
  if (r.tight_constraints && r.tight_constraints.length) out.push(`It is limited by ${r.tight_constraints.join(', ')}: ${r.tight_constraints.length === 1 ? 'this constraint holds' : 'these constraints hold'} with no slack.`);
  if (r.violated_constraints && r.violated_constraints.length) out.push(`Broken: ${r.violated_constraints.join(', ')}${r.penalty ? ` (penalty ${fmt(r.penalty)})` : ''}.`);
  const parts = (r.contributions || []).filter((c) => c.value).sort((a, b) => Math.abs(b.value) - Math.abs(a.value));
  if (parts.length) out.push(`The largest part of the objective is ${parts[0].group} (${fmt(parts[0].value)}, ${(parts[0].share * 100).toFixed(0)}%).`);
  for (const a of r.actions || []) out.push(`Rule ${a.rule} of "${a.table}" applied ${a.action} ${a.target} = ${a.value}.`);
  if (r.baseline) out.push(`Against the baseline the objective improves by ${fmt(r.baseline.improvement)}${r.baseline.changed && r.baseline.changed.length ? `, changing ${r.baseline.changed.map((c) => c.variable).join(', ')}` : ''}.`);
  if (r.alternatives && r.alternatives.length) out.push(`The next best answer scores ${fmt(r.alternatives[0].objective)} and differs in ${r.alternatives[0].differs_from_best.join(', ')}.`);
  if (r.solver) out.push(`Found by ${r.solver.found_by} in ${fmt(r.solver.elapsed_s * 1000, 3)} ms.`);
  return out;
}

function valueText(v) {
  return typeof v === 'number' ? fmt(v) : String(v);
}

function showResult(box, id, r) {
  clear(box).append(h('h2', { text: `Decision${r.name ? ': ' + r.name : ''}` }));
  box.append(kpis([
    ['Status', r.status],
    ['Objective', fmt(r.objective)],
    ['Feasible', r.feasible ? 'yes' : 'no'],
    ['Solver', r.solver ? r.solver.found_by : '–'],
    ['Job', id || '–'],
  ]));
  const assignment = Object.entries(r.assignment || {}).map(([name, value]) => ({ name, value }));
  box.append(h('div', { class: 'grid' },
    h('div', {}, table([{ key: 'name', label: 'Variable' }, { key: 'value', label: 'Value', render: (x) => valueText(x.value) }], assignment, { caption: 'The decision' })),
    h('div', { id: 'contrib' })));
  const contrib = (r.contributions || []);
  if (contrib.length) {
    const { box: cbox, canvas } = chartBox('Objective by part');
    $(box, '#contrib').append(h('h3', { text: 'Objective by part' }), cbox);
    bar(canvas, contrib.map((c) => c.group), [{ label: 'value', data: contrib.map((c) => c.value) }], { y: 'objective' });
  }
  box.append(table([
    { key: 'name', label: 'Constraint' },
    { key: 'value', label: 'Value', num: true },
    { key: 'sense', label: 'Sense' },
    { key: 'rhs', label: 'Right-hand side', num: true },
    { key: 'violation', label: 'Violation', num: true },
    { key: 'hard', label: 'Kind', render: (c) => (c.hard ? 'hard' : `soft (weight ${fmt(c.weight)})`) },
    { key: 'tight', label: 'Tight', render: (c) => (c.tight ? 'yes' : 'no') },
    { key: 'satisfied', label: 'Holds', render: (c) => h('span', { class: c.satisfied ? 'ok' : 'bad', text: c.satisfied ? 'yes' : 'no' }) },
  ], r.constraints || [], { caption: 'Constraints', sortable: true }));
  if (r.alternatives && r.alternatives.length) {
    box.append(table([
      { key: 'rank', label: 'Rank', num: true },
      { key: 'objective', label: 'Objective', num: true },
      { key: 'assignment', label: 'Assignment', render: (a) => Object.entries(a.assignment).map(([k, v]) => `${k}=${v}`).join(', ') },
      { key: 'differs_from_best', label: 'Differs in', render: (a) => a.differs_from_best.join(', ') },
    ], r.alternatives, { caption: 'Alternatives' }));
  }
  box.append(h('h3', { text: 'Explanation' }), h('ul', {}, explain(r).map((s) => h('li', { text: s }))));
}

export function render(root) {
  root.innerHTML = TEMPLATE;
  const form = $(root, '#decision-form');
  const text = $(root, '#model-text');
  const result = $(root, '#decision-result');
  result.append(h('p', { class: 'note', text: 'Run a model to see its decision here.' }));
  $(root, '#model-file').addEventListener('change', async (e) => {
    const t = await readFile(e.target);
    if (t !== null) text.value = t;
  });
  $(root, '#model-example').addEventListener('change', async (e) => {
    if (e.target.value) text.value = await example(e.target.value);
  });
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    let doc;
    try {
      doc = JSON.parse(text.value);
    } catch (err) {
      clear(result).append(errorBox({ detail: `the model is not JSON: ${err.message}` }, 'Reading the model'));
      return;
    }
    const o = options(form);
    if (Object.keys(o).length) doc.options = { ...(doc.options || {}), ...o };
    startRun(result);
    const bar = progressBar('Solving');
    const btn = $(root, '#run-decision');
    btn.disabled = true;
    clear($(root, '#decision-progress')).append(bar.node);
    try {
      const { id, result: r } = await runJob('/api/v1/nqba/decision-engine', doc, (f) => bar.set(f));
      showResult(result, id, r);
      result.dataset.done = 'yes';
    } catch (err) {
      clear(result).append(errorBox(err, 'The decision'));
    } finally {
      btn.disabled = false;
    }
  });
  ready(root);
}
