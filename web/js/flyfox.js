// FLYFOX AI: a site's forecast (load, PV, prices), its battery and one
// deferrable load; the schedule as a stacked chart of power (sources up,
// uses down) with the battery's state of charge, and the savings against
// the naive baseline (docs/api/energy.md).
import { runJob } from './api.js';
import { bar, chartBox, draw, PALETTE } from './charts.js';
import { $, clear, startRun, errorBox, example, fmt, h, kpis, money, num, parseCsv, pct, progressBar, readFile, ready } from './ui.js';

const TEMPLATE = `
<h1 id="h-flyfox">FLYFOX AI: site energy schedule</h1>
<div class="grid">
  <div class="card wide">
    <form class="stack" id="flyfox-form">
      <div class="fields">
        <label>Forecast (CSV: load_w, pv_w, price_import, price_export) <input type="file" id="forecast-file" accept=".csv,text/csv"></label>
        <label>Or a shipped forecast <select id="forecast-example"><option value="">(choose)</option><option value="forecast-24h.csv">24 hours, household with PV</option></select></label>
        <label>Step length (hours) <input name="dt_h" type="number" min="0.01" step="any" value="1"></label>
        <label>Objective <select name="objective"><option value="profit">Profit (cost minus export revenue)</option><option value="cost">Import cost</option><option value="self_consumption">Self-consumption</option></select></label>
      </div>
      <p class="note" id="forecast-status">No forecast loaded yet.</p>
      <fieldset><legend>Battery</legend><div class="fields">
        <label>Capacity (Wh) <input name="capacity_wh" type="number" min="0" value="8000"></label>
        <label>Charge max (W) <input name="charge_max_w" type="number" min="0" value="3000"></label>
        <label>Discharge max (W) <input name="discharge_max_w" type="number" min="0" value="3000"></label>
        <label>SOC min (0..1) <input name="soc_min" type="number" min="0" max="1" step="any" value="0.3"></label>
        <label>SOC max (0..1) <input name="soc_max" type="number" min="0" max="1" step="any" value="0.9"></label>
        <label>SOC at start (0..1) <input name="soc_initial" type="number" min="0" max="1" step="any" value="0.6"></label>
      </div></fieldset>
      <fieldset><legend>Deferrable load</legend><div class="fields">
        <label>Name <input name="load_name" value="washer"></label>
        <label>Power (W) <input name="nominal_w" type="number" min="0" value="2000"></label>
        <label>Energy per day (Wh) <input name="energy_wh" type="number" min="0" value="2000"></label>
        <label>Window start (step) <input name="window_start" type="number" min="0" value="8"></label>
        <label>Window end (step, 0 = whole day) <input name="window_end" type="number" min="0" value="20"></label>
        <label class="check"><input type="checkbox" name="on_off" checked> On or off only</label>
      </div></fieldset>
      <div class="actions"><button type="submit" id="run-flyfox">Schedule</button></div>
      <div id="flyfox-progress"></div>
    </form>
  </div>
  <div class="card wide" id="flyfox-result" aria-live="polite"><p class="note">Load a forecast and schedule to see the plan.</p></div>
</div>`;

function request(form, forecast) {
  const doc = { forecast_csv: forecast, dt_h: num(form, 'dt_h'), objective: form.elements.objective.value };
  const battery = {};
  for (const k of ['capacity_wh', 'charge_max_w', 'discharge_max_w', 'soc_min', 'soc_max', 'soc_initial']) {
    const v = num(form, k);
    if (v !== undefined) battery[k] = v;
  }
  doc.battery = battery;
  const nominal = num(form, 'nominal_w');
  if (form.elements.load_name.value && nominal) {
    doc.loads = [{
      name: form.elements.load_name.value,
      nominal_w: nominal,
      energy_wh: num(form, 'energy_wh'),
      window_start: num(form, 'window_start') || 0,
      window_end: num(form, 'window_end') || 0,
      on_off: form.elements.on_off.checked,
    }];
  }
  return doc;
}

function column(csv, name) {
  const i = csv.header.indexOf(name);
  return i < 0 ? null : csv.rows.map((r) => Number(r[i]));
}

function scheduleChart(canvas, r, csv) {
  const s = r.schedule;
  const n = r.steps;
  const labels = Array.from({ length: n }, (_, t) => `${fmt(t * r.dt_h)} h`);
  const neg = (a) => a.map((v) => -v);
  const pv = column(csv, 'pv_w') || new Array(n).fill(0);
  const load = column(csv, 'load_w') || new Array(n).fill(0);
  const deferred = new Array(n).fill(0);
  for (const series of Object.values(s.loads || {})) series.forEach((v, t) => { deferred[t] += v; });
  const barSet = (label, data, color) => ({ type: 'bar', label, data, backgroundColor: color, stack: 'power', yAxisID: 'y' });
  draw(canvas, {
    data: {
      labels,
      datasets: [
        barSet('PV', pv, '#e6a700'),
        barSet('Grid import', s.import_w, '#5d6d7e'),
        barSet('Battery discharge', s.discharge_w, PALETTE[2]),
        barSet('Load', neg(load), PALETTE[0]),
        barSet('Deferrable loads', neg(deferred), PALETTE[3]),
        barSet('Battery charge', neg(s.charge_w), '#82c99b'),
        barSet('Grid export', neg(s.export_w), '#a9b4c2'),
        {
          type: 'line', label: 'State of charge', data: s.soc.slice(1).map((v) => v * 100),
          borderColor: PALETTE[1], backgroundColor: PALETTE[1], yAxisID: 'soc', pointRadius: 0, borderWidth: 2,
        },
      ],
    },
    options: {
      scales: {
        x: { stacked: true, title: { display: true, text: 'time' } },
        y: { stacked: true, title: { display: true, text: 'W (sources up, uses down)' } },
        soc: { position: 'right', min: 0, max: 100, grid: { drawOnChartArea: false }, title: { display: true, text: 'state of charge %' } },
      },
      plugins: { legend: { position: 'bottom' } },
    },
  });
}

function showResult(box, r, csv) {
  clear(box).append(h('h2', { text: 'Schedule' }));
  box.append(kpis([
    ['Cost', money(r.cost_eur, 'EUR')],
    ['Baseline cost', money(r.baseline_cost_eur, 'EUR')],
    ['Savings', `${money(r.savings_eur, 'EUR')} (${pct(r.savings_fraction)})`],
    ['Peak import', `${fmt(r.peak_import_w, 4)} W`],
    ['Self-consumption', pct(r.self_consumption)],
    ['Status', `${r.status}${r.milp ? ' (MILP)' : ''}`],
  ]));
  const sched = chartBox('Power schedule and state of charge', true);
  const save = chartBox('Cost against the baseline');
  box.append(h('h3', { text: 'Power per step' }), sched.box,
    h('div', { class: 'grid' }, h('div', {}, h('h3', { text: 'Savings against the baseline' }), save.box),
      h('div', {}, h('h3', { text: 'Explanation' }), h('ul', {}, (r.explanation || []).map((s) => h('li', { text: s }))))));
  scheduleChart(sched.canvas, r, csv);
  bar(save.canvas, ['baseline', 'optimized'], [{ label: 'cost (EUR)', data: [r.baseline_cost_eur, r.cost_eur] }], { y: 'EUR' });
}

export function render(root) {
  root.innerHTML = TEMPLATE;
  const form = $(root, '#flyfox-form');
  const result = $(root, '#flyfox-result');
  let forecast = null;
  const loaded = (text, from) => {
    forecast = text;
    const csv = parseCsv(text);
    $(root, '#forecast-status').textContent = `${from}: ${csv.rows.length} steps, columns ${csv.header.join(', ')}.`;
  };
  $(root, '#forecast-file').addEventListener('change', async (e) => {
    const t = await readFile(e.target);
    if (t !== null) loaded(t, e.target.files[0].name);
  });
  $(root, '#forecast-example').addEventListener('change', async (e) => {
    if (e.target.value) loaded(await example(e.target.value), e.target.value);
  });
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (!forecast) {
      clear(result).append(errorBox({ detail: 'load a forecast first' }, 'Scheduling'));
      return;
    }
    startRun(result);
    const p = progressBar('Scheduling');
    const btn = $(root, '#run-flyfox');
    btn.disabled = true;
    clear($(root, '#flyfox-progress')).append(p.node);
    try {
      const { result: r } = await runJob('/api/v1/flyfox/energy-optimization', request(form, forecast), (f) => p.set(f));
      showResult(result, r, parseCsv(forecast));
      result.dataset.done = 'yes';
    } catch (err) {
      clear(result).append(errorBox(err, 'Scheduling'));
    } finally {
      btn.disabled = false;
    }
  });
  ready(root);
}
