// Goliath Trade: a price history (CSV) and an objective with its limits;
// the answer as weights, the efficient frontier with the chosen portfolio,
// risk figures and the whole-share allocation (docs/api/portfolio.md).
import { runJob } from './api.js';
import { bar, chartBox, scatter } from './charts.js';
import { $, clear, startRun, errorBox, example, fmt, h, kpis, money, num, pct, progressBar, readFile, ready, table } from './ui.js';

const TEMPLATE = `
<h1 id="h-goliath">Goliath Trade: portfolio optimization</h1>
<div class="grid">
  <div class="card wide">
    <form class="stack" id="goliath-form">
      <div class="fields">
        <label>Prices (CSV: date, then one column per asset) <input type="file" id="prices-file" accept=".csv,text/csv"></label>
        <div class="actions"><button type="button" class="secondary" id="prices-example">Use the example prices</button></div>
      </div>
      <p class="note" id="prices-status">No prices loaded yet.</p>
      <div class="fields">
        <label>Objective <select name="objective" id="objective">
          <option value="max_sharpe">Maximum Sharpe ratio</option>
          <option value="min_volatility">Minimum volatility</option>
          <option value="efficient_return">Efficient return (target return)</option>
          <option value="efficient_risk">Efficient risk (target volatility)</option>
          <option value="max_quadratic_utility">Maximum quadratic utility</option>
          <option value="min_cvar">Minimum CVaR</option>
          <option value="risk_parity">Risk parity</option>
          <option value="hrp">Hierarchical risk parity</option>
        </select></label>
        <label>Target return (annual) <input name="target_return" type="number" step="any"></label>
        <label>Target volatility (annual) <input name="target_volatility" type="number" step="any" min="0"></label>
        <label>Risk-free rate <input name="risk_free_rate" type="number" step="any" value="0.02"></label>
        <label>Largest weight per asset <input name="max_weight" type="number" step="any" min="0.05" max="1" value="1"></label>
        <label>Hold at most (assets) <input name="max_assets" type="number" min="1" step="1"></label>
        <label>Budget for whole shares <input name="budget" type="number" min="0" step="100" value="10000"></label>
        <label>Frontier points <input name="frontier_points" type="number" min="2" max="1000" value="25"></label>
      </div>
      <div class="actions"><button type="submit" id="run-goliath">Optimize</button></div>
      <div id="goliath-progress"></div>
    </form>
  </div>
  <div class="card wide" id="goliath-result" aria-live="polite"><p class="note">Load prices and optimize to see the portfolio.</p></div>
</div>`;

function request(form, prices) {
  const doc = { prices_csv: prices, objective: form.elements.objective.value };
  for (const k of ['target_return', 'target_volatility', 'risk_free_rate', 'max_assets', 'budget', 'frontier_points']) {
    const v = num(form, k);
    if (v !== undefined) doc[k] = v;
  }
  if (doc.objective !== 'efficient_return') delete doc.target_return;
  if (doc.objective !== 'efficient_risk') delete doc.target_volatility;
  const hi = num(form, 'max_weight');
  if (hi !== undefined && hi < 1) doc.weight_bounds = [0, hi];
  if (!doc.budget) delete doc.budget;
  return doc;
}

function showResult(box, r) {
  clear(box).append(h('h2', { text: 'Portfolio' }));
  const p = r.performance || {};
  box.append(kpis([
    ['Expected return', pct(p.expected_return)],
    ['Volatility', pct(p.volatility)],
    ['Sharpe ratio', fmt(p.sharpe, 3)],
    ['Assets held', fmt(r.held)],
    ['Method', r.method],
  ]));
  const names = Object.keys(r.weights);
  const w = chartBox('Weights by asset');
  const f = chartBox('Efficient frontier with the chosen portfolio');
  box.append(h('div', { class: 'grid' },
    h('div', {}, h('h3', { text: 'Weights' }), w.box),
    h('div', {}, h('h3', { text: 'Efficient frontier' }), f.box)));
  bar(w.canvas, names, [{ label: 'weight', data: names.map((n) => r.weights[n]) }], { y: 'weight' });
  const frontier = (r.frontier || []).map((q) => ({ x: q.volatility, y: q.expected_return }));
  scatter(f.canvas, [
    { label: 'efficient frontier', data: frontier, line: true, radius: 2 },
    { label: 'chosen portfolio', data: [{ x: p.volatility, y: p.expected_return }], radius: 8, style: 'rectRot', color: '#c0392b' },
  ], { x: 'volatility (annual)', y: 'expected return (annual)' });
  const risk = r.risk;
  if (risk) {
    const rows = [
      ['Periods', fmt(risk.periods)],
      ['Annual return', pct(risk.annual_return)],
      ['Annual volatility', pct(risk.annual_volatility)],
      ['Sharpe', fmt(risk.sharpe, 3)],
      ['Sortino', fmt(risk.sortino, 3)],
      ['Max drawdown', pct(risk.max_drawdown)],
      [`VaR ${pct(risk.level, 0)} (historical, per period)`, pct(risk.historical && risk.historical.var, 2)],
      [`CVaR ${pct(risk.level, 0)} (historical, per period)`, pct(risk.historical && risk.historical.cvar, 2)],
      ['VaR (parametric)', pct(risk.parametric && risk.parametric.var, 2)],
    ].map(([k, v]) => ({ k, v }));
    box.append(table([{ key: 'k', label: 'Risk figure' }, { key: 'v', label: 'Value' }], rows, { caption: 'Risk of the chosen weights over the price history' }));
  }
  if (r.allocation) {
    const a = r.allocation;
    const rows = Object.entries(a.shares).map(([asset, shares]) => ({ asset, shares, weight: r.weights[asset] }));
    box.append(table([
      { key: 'asset', label: 'Asset' },
      { key: 'shares', label: 'Shares', num: true },
      { key: 'weight', label: 'Target weight', render: (x) => pct(x.weight) },
    ], rows, { caption: `Discrete allocation: ${money(a.invested)} invested of ${money(a.budget)}, ${money(a.leftover)} left over` }));
  }
  if (r.explanation) box.append(h('h3', { text: 'Explanation' }), h('ul', {}, r.explanation.map((s) => h('li', { text: s }))));
}

export function render(root) {
  root.innerHTML = TEMPLATE;
  const form = $(root, '#goliath-form');
  const result = $(root, '#goliath-result');
  let prices = null;
  const loaded = (text, from) => {
    prices = text;
    const lines = text.trim().split(/\r?\n/);
    $(root, '#prices-status').textContent = `${from}: ${lines.length - 1} days of ${lines[0].split(',').length - 1} assets (${lines[0].split(',').slice(1).join(', ')}).`;
  };
  $(root, '#prices-file').addEventListener('change', async (e) => {
    const t = await readFile(e.target);
    if (t !== null) loaded(t, e.target.files[0].name);
  });
  $(root, '#prices-example').addEventListener('click', async () => loaded(await example('prices-4-assets.csv'), 'Example'));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (!prices) {
      clear(result).append(errorBox({ detail: 'load a price file first' }, 'Optimizing'));
      return;
    }
    startRun(result);
    const bar2 = progressBar('Optimizing');
    const btn = $(root, '#run-goliath');
    btn.disabled = true;
    clear($(root, '#goliath-progress')).append(bar2.node);
    try {
      const { result: r } = await runJob('/api/v1/goliath/portfolio-optimization', request(form, prices), (f) => bar2.set(f));
      showResult(result, r);
      result.dataset.done = 'yes';
    } catch (err) {
      clear(result).append(errorBox(err, 'Optimizing'));
    } finally {
      btn.disabled = false;
    }
  });
  ready(root);
}
