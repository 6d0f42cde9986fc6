// Charts on Chart.js (Debian's libjs-chart.js, served as /ui/chart.min.js).
// Animations are off: a chart is drawn completely when the call returns,
// which is what a dashboard refresh wants (and what the browser test reads
// back from the canvas).
import { h } from './ui.js';

export const PALETTE = ['#0b5cad', '#c0392b', '#1e8449', '#8e44ad', '#b9770e', '#117a8b', '#5d6d7e', '#d35400'];

function lib() {
  if (!window.Chart) throw new Error('the chart library did not load');
  return window.Chart;
}

// A canvas in a sized box, labelled for screen readers.
export function chartBox(label, tall = false) {
  const canvas = h('canvas', { role: 'img', 'aria-label': label });
  return { box: h('div', { class: tall ? 'chart-box tall' : 'chart-box' }, canvas), canvas };
}

export function draw(canvas, config) {
  const Chart = lib();
  const old = Chart.getChart(canvas);
  if (old) old.destroy();
  config.options = {
    animation: false,
    responsive: true,
    maintainAspectRatio: false,
    ...(config.options || {}),
  };
  return new Chart(canvas, config);
}

const axis = (title, extra = {}) => ({ title: { display: !!title, text: title }, ...extra });

export function line(canvas, labels, series, opts = {}) {
  return draw(canvas, {
    type: 'line',
    data: {
      labels,
      datasets: series.map((s, i) => ({
        label: s.label,
        data: s.data,
        borderColor: s.color || PALETTE[i % PALETTE.length],
        backgroundColor: s.fill || s.color || PALETTE[i % PALETTE.length],
        fill: !!s.fillArea,
        stack: s.stack,
        yAxisID: s.axis || 'y',
        pointRadius: s.points === undefined ? 0 : s.points,
        borderWidth: 2,
        spanGaps: true,
      })),
    },
    options: {
      scales: { x: axis(opts.x), y: axis(opts.y, { stacked: !!opts.stacked, beginAtZero: true }), ...(opts.scales || {}) },
      plugins: { legend: { position: 'bottom' } },
    },
  });
}

export function bar(canvas, labels, series, opts = {}) {
  return draw(canvas, {
    type: 'bar',
    data: {
      labels,
      datasets: series.map((s, i) => ({
        label: s.label,
        data: s.data,
        backgroundColor: s.color || PALETTE[i % PALETTE.length],
        stack: s.stack,
        yAxisID: s.axis,
      })),
    },
    options: {
      indexAxis: opts.horizontal ? 'y' : 'x',
      scales: {
        x: axis(opts.horizontal ? opts.y : opts.x, { stacked: !!opts.stacked }),
        y: axis(opts.horizontal ? opts.x : opts.y, { stacked: !!opts.stacked, beginAtZero: true }),
        ...(opts.scales || {}),
      },
      plugins: { legend: { display: series.length > 1 || !!opts.legend, position: 'bottom' } },
    },
  });
}

// Points (and optionally a line through them); series data are {x, y}.
export function scatter(canvas, series, opts = {}) {
  return draw(canvas, {
    type: 'scatter',
    data: {
      datasets: series.map((s, i) => ({
        label: s.label,
        data: s.data,
        showLine: !!s.line,
        borderColor: s.color || PALETTE[i % PALETTE.length],
        backgroundColor: s.color || PALETTE[i % PALETTE.length],
        pointRadius: s.radius ?? 3,
        pointStyle: s.style || 'circle',
        borderDash: s.dash,
      })),
    },
    options: {
      scales: { x: axis(opts.x, { min: opts.xmin, max: opts.xmax }), y: axis(opts.y, { min: opts.ymin, max: opts.ymax }) },
      plugins: { legend: { position: 'bottom' } },
    },
  });
}

export function doughnut(canvas, labels, data) {
  return draw(canvas, {
    type: 'doughnut',
    data: { labels, datasets: [{ data, backgroundColor: labels.map((_, i) => PALETTE[i % PALETTE.length]) }] },
    options: { plugins: { legend: { position: 'bottom' } } },
  });
}

export function radar(canvas, labels, series, opts = {}) {
  return draw(canvas, {
    type: 'radar',
    data: {
      labels,
      datasets: series.map((s, i) => ({
        label: s.label,
        data: s.data,
        borderColor: PALETTE[i % PALETTE.length],
        backgroundColor: `${PALETTE[i % PALETTE.length]}33`,
      })),
    },
    options: { scales: { r: { min: 0, max: opts.max, beginAtZero: true } }, plugins: { legend: { position: 'bottom' } } },
  });
}
