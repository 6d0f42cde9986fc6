// Assessment: a compliance assessment (docs/api/assessment.md) scored by
// framework function (radar and bars), its gaps, the remediation plan with
// a budget slider (each change re-plans), and the printable report, fetched
// with the bearer token and shown in a sandboxed iframe.
import { call, runJob } from './api.js';
import { bar, chartBox, radar } from './charts.js';
import { $, clear, startRun, debounce, errorBox, example, fmt, h, kpis, money, progressBar, readFile, ready, table } from './ui.js';

const TEMPLATE = `
<h1 id="h-assessment">Business assessment</h1>
<div class="grid">
  <div class="card wide">
    <form class="stack" id="assess-form">
      <div class="fields">
        <label>Upload an assessment (.json) <input type="file" id="assess-file" accept=".json,application/json"></label>
        <label>Or an example <select id="assess-example"><option value="">(choose)</option><option value="assessment-csf.json">NIST CSF 2.0, half assessed</option></select></label>
      </div>
      <label>Assessment JSON <textarea id="assess-text" spellcheck="false"></textarea></label>
      <div class="actions"><button type="submit" id="run-assess">Assess</button></div>
      <div id="assess-progress"></div>
    </form>
  </div>
  <div class="card wide" id="assess-result" aria-live="polite"><p class="note">Run an assessment to see its scores.</p></div>
  <div class="card wide" id="assess-plan"></div>
  <div class="card wide" id="assess-report"></div>
</div>`;

function functions(ans) {
  return Object.entries(ans.scores.groups).filter(([, g]) => g.level === 'function' || !g.parent).map(([id, g]) => ({ id, ...g }));
}

function showScores(box, ans) {
  const o = ans.scores.overall;
  const fw = ans.framework;
  clear(box).append(h('h2', { text: `${fw.name}, as of ${ans.as_of.slice(0, 10)}` }));
  box.append(kpis([
    ['Progress', `${fmt(o.progress_pct)}%`],
    ['Average maturity', `${fmt(o.avg_score)} of ${fmt(fw.scale.max)}`],
    ['Ready controls', `${fmt(o.ready_by_controls_pct, 3)}%`],
    ['XCCDF pass', `${fmt(o.xccdf_flat_pct, 3)}%`],
    ['Gaps', fmt(ans.gaps.length)],
  ]));
  const fns = functions(ans);
  const rad = chartBox('Ready controls and maturity by function');
  const bars = chartBox('Controls by result per function');
  box.append(h('div', { class: 'grid' },
    h('div', {}, h('h3', { text: 'Readiness by function (%)' }), rad.box),
    h('div', {}, h('h3', { text: 'Results by function' }), bars.box)));
  const scale = (g) => (g.avg_score === null ? 0 : (100 * (g.avg_score - fw.scale.min)) / (fw.scale.max - fw.scale.min));
  radar(rad.canvas, fns.map((g) => `${g.id} ${g.title}`), [
    { label: 'ready controls %', data: fns.map((g) => g.ready_by_controls_pct ?? 0) },
    { label: 'maturity (% of scale)', data: fns.map(scale) },
  ], { max: 100 });
  const kinds = ['compliant', 'partially_compliant', 'non_compliant', 'not_assessed', 'not_applicable'];
  bar(bars.canvas, fns.map((g) => g.id), kinds.map((k) => ({ label: k.replace(/_/g, ' '), data: fns.map((g) => g.result_counts[k] || 0), stack: 'r' })), { stacked: true, y: 'controls' });
  box.append(table([
    { key: 'control', label: 'Control' },
    { key: 'title', label: 'Title' },
    { key: 'kind', label: 'Gap', render: (g) => g.kind.replace(/_/g, ' ') },
    { key: 'cost', label: 'Cost', num: true },
    { key: 'effort', label: 'Effort (days)', num: true },
    { key: 'risk_reduction', label: 'Risk reduction', num: true },
  ], ans.gaps, { caption: `Gaps (${ans.gaps.length})`, sortable: true }));
  if (ans.health) {
    const sub = Object.entries(ans.health.sub_scores).filter(([, v]) => v !== null);
    box.append(h('h3', { text: 'Business health (apart from compliance)' }), kpis([
      ['Financial', fmt(ans.health.financial, 3)],
      ['Operational', fmt(ans.health.operational, 3)],
      ...sub.map(([k, v]) => [k, fmt(v, 3)]),
    ]));
  }
  box.append(h('h3', { text: 'Explanation' }), h('ul', {}, ans.explanation.map((s) => h('li', { text: s }))));
}

function showPlan(box, ans, onBudget) {
  const p = ans.plan;
  clear(box).append(h('h2', { text: 'Remediation plan' }));
  if (!p) {
    box.append(h('p', { class: 'note', text: 'The request has no "plan" member: add one to get a plan.' }));
    return;
  }
  const total = ans.gaps.reduce((s, g) => s + g.cost, 0);
  const id = 'budget-slider';
  const slider = h('input', { type: 'range', id, min: '0', max: String(Math.max(total, p.budget)), step: '5000', value: String(p.budget) });
  const shown = h('output', { for: id, text: money(p.budget) });
  slider.addEventListener('input', () => { shown.textContent = money(Number(slider.value)); });
  slider.addEventListener('change', () => onBudget(Number(slider.value)));
  box.append(h('div', { class: 'fields' }, h('label', { for: id }, 'Budget (re-plans when released)', slider), h('p', {}, 'Budget: ', shown)));
  box.append(kpis([
    ['Actions chosen', `${p.n_chosen} of ${p.n_actions}`],
    ['Cost used', money(p.cost_used)],
    ['Budget left', money(p.budget_left)],
    ['Risk reduction', `${fmt(p.risk_reduction)} of ${fmt(p.total_risk_reduction)}`],
    ['Method', `${p.method}${p.proven_optimal ? ', proven optimal' : ''}`],
  ]));
  const chosen = new Set(p.chosen);
  const rows = ans.gaps.filter((g) => chosen.has(g.control));
  box.append(table([
    { key: 'control', label: 'Action (control)' },
    { key: 'title', label: 'Title' },
    { key: 'cost', label: 'Cost', num: true },
    { key: 'effort', label: 'Effort (days)', num: true },
    { key: 'risk_reduction', label: 'Risk reduction', num: true },
  ], rows, { caption: 'Chosen actions', sortable: true }));
}

async function showReport(box, id) {
  clear(box).append(h('h2', { text: 'Printable report' }));
  let html;
  try {
    const res = await call(`/api/v1/nqba/business-assessment/${encodeURIComponent(id)}/report`);
    html = await res.text();
  } catch (err) {
    box.append(errorBox(err, 'Fetching the report'));
    return;
  }
  // No scripts in the frame; same origin only so that its print dialog can
  // be opened from here. The report itself carries no script.
  const frame = h('iframe', { class: 'report', title: 'Assessment report', sandbox: 'allow-same-origin allow-modals' });
  frame.srcdoc = html;
  const print = h('button', { type: 'button', class: 'secondary', text: 'Print the report' });
  print.addEventListener('click', () => frame.contentWindow.print());
  const url = URL.createObjectURL(new Blob([html], { type: 'text/html' }));
  const open = h('a', { href: url, target: '_blank', rel: 'noopener', text: 'Open the report in a new tab' });
  box.append(h('div', { class: 'actions' }, print, open), frame);
  box.dataset.done = 'yes';
}

export function render(root) {
  root.innerHTML = TEMPLATE;
  const text = $(root, '#assess-text');
  const result = $(root, '#assess-result');
  const planBox = $(root, '#assess-plan');
  const reportBox = $(root, '#assess-report');
  $(root, '#assess-file').addEventListener('change', async (e) => {
    const t = await readFile(e.target);
    if (t !== null) text.value = t;
  });
  $(root, '#assess-example').addEventListener('change', async (e) => {
    if (e.target.value) text.value = await example(e.target.value);
  });
  const run = async (budget) => {
    let doc;
    try {
      doc = JSON.parse(text.value);
    } catch (err) {
      clear(result).append(errorBox({ detail: `the assessment is not JSON: ${err.message}` }, 'Reading the assessment'));
      return;
    }
    if (budget !== undefined && doc.plan) {
      doc.plan.budget = budget;
      text.value = JSON.stringify(doc, null, 1);
    }
    startRun(result);
    delete reportBox.dataset.done;
    const p = progressBar('Assessing');
    const btn = $(root, '#run-assess');
    btn.disabled = true;
    clear($(root, '#assess-progress')).append(p.node);
    try {
      const { id, result: ans } = await runJob('/api/v1/nqba/business-assessment', doc, (f) => p.set(f));
      showScores(result, ans);
      showPlan(planBox, ans, debounce((b) => run(b), 150));
      result.dataset.done = 'yes';
      await showReport(reportBox, id);
    } catch (err) {
      clear(result).append(errorBox(err, 'The assessment'));
    } finally {
      btn.disabled = false;
    }
  };
  $(root, '#assess-form').addEventListener('submit', (e) => {
    e.preventDefault();
    run();
  });
  ready(root);
  return () => {
    const a = reportBox.querySelector('a[href^="blob:"]');
    if (a) URL.revokeObjectURL(a.href);
  };
}
