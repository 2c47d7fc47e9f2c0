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
