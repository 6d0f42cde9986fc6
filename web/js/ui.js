// DOM helpers shared by the pages: element building (text is always set
// as text, never parsed as HTML), numbers, tables, errors, files, progress.

export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') node.className = v;
    else if (k === 'text') node.textContent = v;
    else if (k.startsWith('on') && typeof v === 'function') node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

export function $(root, sel) {
  return root.querySelector(sel);
}

export function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
  return node;
}

export function fmt(x, digits = 4) {
  if (x === null || x === undefined || Number.isNaN(x)) return '–';
  if (typeof x !== 'number') return String(x);
  if (Number.isInteger(x)) return x.toLocaleString('en-US');
  return Number(x.toPrecision(digits)).toLocaleString('en-US', { maximumFractionDigits: 6 });
}

export function pct(x, digits = 1) {
  if (x === null || x === undefined || Number.isNaN(x)) return '–';
  return `${(x * 100).toFixed(digits)}%`;
}

export function money(x, unit = '') {
  if (x === null || x === undefined) return '–';
  return `${x.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}${unit ? ' ' + unit : ''}`;
}

// An API error (or any error) in words: the problem's detail, its status
// and title, and the pointer of the member at fault.
export function errorBox(err, what) {
  const box = h('div', { class: 'error', role: 'alert' });
  const status = err && err.status ? `${err.status}${err.title ? ' ' + err.title : ''}: ` : '';
  box.append(h('strong', { text: what ? `${what} failed. ` : 'Error. ' }), `${status}${(err && (err.detail || err.message)) || err}`);
  if (err && err.pointer) box.append(' (at ', h('code', { text: err.pointer }), ')');
  return box;
}

export function showError(container, err, what) {
  clear(container).append(errorBox(err, what));
}

export function kpis(items) {
  return h('div', { class: 'kpis' }, items.map(([k, v]) => h('div', { class: 'kpi' }, h('div', { class: 'k', text: k }), h('div', { class: 'v', text: v }))));
}

// A table from columns [{key, label, num, render(row) -> Node|string,
// sort(row) -> value}]. sortable: header buttons sort by that column
// (press again to reverse), keyboard reachable, state in aria-sort.
export function table(columns, rows, opts = {}) {
  const tbl = h('table');
  if (opts.caption) tbl.append(h('caption', { text: opts.caption }));
  const head = h('tr');
  const body = h('tbody');
  let order = { key: null, dir: 1 };
  const cell = (c, r) => {
    const v = c.render ? c.render(r) : r[c.key];
    return h('td', { class: c.num ? 'num' : null }, v instanceof Node ? v : c.num && typeof v === 'number' ? fmt(v) : v ?? '–');
  };
  const fill = (list) => {
    clear(body);
    for (const r of list) {
      const tr = h('tr', { class: opts.rowClass ? opts.rowClass(r) : null }, columns.map((c) => cell(c, r)));
      body.append(tr);
    }
  };
  for (const c of columns) {
    const th = h('th', { scope: 'col' });
    if (opts.sortable && c.sortable !== false) {
      const btn = h('button', { type: 'button', class: 'th-button', text: c.label });
      btn.addEventListener('click', () => {
        order = { key: c.key, dir: order.key === c.key ? -order.dir : c.num ? -1 : 1 };
        const val = c.sort || ((r) => r[c.key]);
        const sorted = [...rows].sort((a, b) => {
          const x = val(a), y = val(b);
          return (x > y ? 1 : x < y ? -1 : 0) * order.dir;
        });
        for (const other of head.children) other.removeAttribute('aria-sort');
        th.setAttribute('aria-sort', order.dir > 0 ? 'ascending' : 'descending');
        fill(sorted);
      });
      th.append(btn);
    } else {
      th.textContent = c.label;
    }
    head.append(th);
  }
  tbl.append(h('thead', {}, head), body);
  fill(rows);
  return h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': opts.caption || 'table' }, tbl);
}

// A labelled progress bar: set(fraction) updates it.
export function progressBar(label) {
  const bar = h('progress', { max: '100', value: '0' });
  const id = `p${Math.random().toString(36).slice(2)}`;
  bar.id = id;
  const text = h('span', { class: 'note', text: '0%' });
  const node = h('div', { class: 'progress-row' }, h('label', { for: id, text: label }), bar, text);
  return {
    node,
    set(f) {
      const v = Math.max(0, Math.min(1, f || 0)) * 100;
      bar.value = v;
      text.textContent = `${v.toFixed(0)}%`;
    },
  };
}

export function readFile(input) {
  const file = input.files && input.files[0];
  return file ? file.text() : Promise.resolve(null);
}

// A shipped example input (web/examples), fetched from the server.
export async function example(name) {
  const res = await fetch(`/ui/${name}`);
  if (!res.ok) throw new Error(`example ${name}: HTTP ${res.status}`);
  return res.text();
}

// Numbers from a form: '' gives undefined, so optional members stay out.
export function num(form, name) {
  const el = form.elements[name];
  if (!el || el.value === '') return undefined;
  const v = Number(el.value);
  return Number.isFinite(v) ? v : undefined;
}

export function debounce(fn, ms) {
  let t = null;
  return (...args) => {
    clearTimeout(t);
    t = setTimeout(() => fn(...args), ms);
  };
}

// A parsed CSV with a header row (no quoted commas: the shipped examples
// and the API's CSV inputs are plain).
export function parseCsv(text) {
  const lines = text.trim().split(/\r?\n/);
  const header = lines[0].split(',').map((s) => s.trim());
  return { header, rows: lines.slice(1).map((l) => l.split(',')) };
}

// Done: tell the router (and the browser test) that the page has its data
// and charts.
export function ready(root) {
  root.dispatchEvent(new CustomEvent('page-ready', { bubbles: true }));
}

// A new run replaces the previous answer (and its done mark) at once, so
// no one reads an old answer or error as the new one's.
export function startRun(box) {
  delete box.dataset.done;
  clear(box).append(h('p', { class: 'note', text: 'Running…' }));
}
