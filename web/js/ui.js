// The DOM helpers every screen uses (worker, company, reviewer, staff, finance): no innerHTML, so every text
// from the server goes in as text; one screen at a time, a late answer never paints over a newer one.
import { T } from '/js/es.js';

// ----------------------------------------------------------------------------------------
// DOM helpers (no innerHTML: every text from the server goes in as text)
// ----------------------------------------------------------------------------------------

export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

const main = document.getElementById('main');
let routeGen = 0;
let router = () => {};

/** The router `go` re-runs when the hash does not change. */
export function setRouter(f) {
  router = f;
}

/** A new screen starts: answers for older ones are dropped by `show`. */
export function nextScreen() {
  return ++routeGen;
}

/** Whether screen `gen` is still the one shown (for work that polls). */
export const current = (gen) => gen === routeGen;

export function show(gen, title, ...nodes) {
  if (gen !== routeGen) return false;
  document.title = `${title} · ${T.appName}`;
  const heading = h('h1', { tabindex: '-1', id: 'screen-title' }, title);
  main.replaceChildren(heading, ...nodes.filter((n) => n !== null && n !== undefined && n !== false));
  if (document.activeElement === document.body || !main.contains(document.activeElement)) heading.focus({ preventScroll: true });
  return true;
}

/** A message for the next screen drawn (after a save, a publish, a payment…). */
let flash = null;
export function setFlash(text) {
  flash = text;
}
/** The message left for this screen, once, as a success notice. */
export function takeFlash() {
  const f = flash;
  flash = null;
  return f ? notice(f, 'ok') : null;
}

export function notice(text, kind = 'info') {
  return h('p', { class: `notice ${kind}`, role: kind === 'error' ? 'alert' : 'status' }, text);
}

export function field(id, label, attrs = {}) {
  return h('div', { class: 'field' }, h('label', { for: id }, label), h('input', { id, name: id, ...attrs }));
}

/** A form whose submit runs `action`; refusals are shown in the form, in Spanish. */
export function form(id, children, action) {
  const msg = h('div', { class: 'form-msg', 'aria-live': 'polite' });
  const f = h('form', { id, novalidate: true }, children, msg);
  f.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const button = f.querySelector('button[type=submit]');
    if (button) button.disabled = true;
    msg.replaceChildren();
    try {
      const done = await action(new FormData(f), f);
      if (typeof done === 'string') msg.replaceChildren(notice(done, 'ok'));
    } catch (err) {
      msg.replaceChildren(notice(err.message || String(err), 'error'));
    } finally {
      if (button) button.disabled = false;
    }
  });
  return f;
}

export function button(label, onclick, cls = '') {
  return h('button', { type: 'button', class: cls, onclick }, label);
}

export function go(hash) {
  if (location.hash === hash) router();
  else location.hash = hash;
}

// ----------------------------------------------------------------------------------------
// Tables and figures (the office screens: company, staff, finance)
// ----------------------------------------------------------------------------------------

/** Draw an office screen (company, staff, finance): wider than the worker's, desktop first. */
export function office(gen, title, ...nodes) {
  return show(gen, title, h('div', { class: 'co' }, ...nodes));
}

/** A table that scrolls sideways on a phone (a focusable, named region, for the keyboard). */
export function table(caption, headers, rows, cls = '', { quietCaption = false } = {}) {
  return h('div', { class: 'table-wrap', role: 'region', 'aria-label': caption, tabindex: '0' },
    h('table', { class: `data ${cls}` },
      h('caption', { class: quietCaption ? 'sr-only' : null }, caption),
      h('thead', {}, h('tr', {}, headers.map((x) => h('th', { scope: 'col' }, x)))),
      h('tbody', {}, rows.map((r) => h('tr', {}, r.map((cell, i) => (i === 0 ? h('th', { scope: 'row' }, cell) : h('td', {}, cell)))))),
    ));
}

/** Figures as a definition list: `[[label, value, cls], …]`. */
export function figures(items, cls = '') {
  return h('dl', { class: `figures ${cls}` }, items.filter(Boolean).map(([label, value, c]) => h('div', { class: `figure ${c || ''}` }, h('dt', {}, label), h('dd', {}, value))));
}

/** A status as a coloured label, in Spanish. */
export const badge = (status, labels) => h('span', { class: `badge st-${status}` }, labels[status] || status);

// ----------------------------------------------------------------------------------------
// Spreadsheets chosen in the browser (a company's batch, a staff cohort)
// ----------------------------------------------------------------------------------------

/**
 * A CSV file's text as the server will read it: UTF-8 (a leading BOM dropped), comma or
 * semicolon (whichever the header uses more), quoted cells with `""`, blank lines skipped.
 * Each row keeps the file line it starts on (the header is line 1).
 */
export function readCsv(text) {
  const t = String(text).replace(/^\uFEFF/, '');
  const first = t.split(/\r?\n/, 1)[0] || '';
  const count = (ch) => first.split(ch).length - 1;
  const sep = count(';') > count(',') ? ';' : ',';
  const records = [];
  let row = [];
  let cell = '';
  let quoted = false;
  let line = 1;
  let start = 1;
  const endRow = () => {
    row.push(cell);
    if (row.some((c) => c.trim() !== '')) records.push({ line: start, cells: row });
    row = [];
    cell = '';
  };
  for (let i = 0; i < t.length; i++) {
    const c = t[i];
    if (quoted) {
      if (c === '"') {
        if (t[i + 1] === '"') {
          cell += '"';
          i++;
        } else quoted = false;
      } else {
        if (c === '\n') line++;
        cell += c;
      }
    } else if (c === '"' && cell === '') {
      quoted = true;
    } else if (c === sep) {
      row.push(cell);
      cell = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && t[i + 1] === '\n') i++;
      endRow();
      line++;
      start = line;
    } else {
      cell += c;
    }
  }
  if (cell !== '' || row.length) endRow();
  const [header, ...rows] = records;
  return { sep, header: header ? header.cells.map((c) => c.trim()) : [], rows };
}

/** The file's text: UTF-8 when it is, else Windows-1252 (what Excel in Spanish saves as
 * "CSV delimitado por comas"), so accents arrive either way; a leading BOM is dropped.
 * `unreadable` is the sentence shown when the browser cannot read it. */
export function readFile(file, unreadable) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => {
      const bytes = new Uint8Array(reader.result || new ArrayBuffer(0));
      let text;
      try {
        text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
      } catch {
        text = new TextDecoder('windows-1252').decode(bytes);
      }
      resolve(text.replace(/^\uFEFF/, ''));
    };
    reader.onerror = () => reject(new Error(unreadable));
    reader.readAsArrayBuffer(file);
  });
}
