// «Reporte de impacto» (issue 22 §2): GET /v1/reports/impact for admin, finance and the
// read-only funder (whose only screen it is). Texts in /js/es.js (T.impact).
//
// `#/impacto?desde=YYYY-MM&hasta=YYYY-MM&por=department&mes=YYYY-MM`: a month range (by default
// the last twelve) and a breakdown; a summary with each month's total, then one month in detail
// (by default the newest with anyone counted), its total and its cells. A cell the API left
// without figures is «reservado» (fewer than 5 people, or hidden so a small one can't be
// derived). The CSV and the PDF are links to the same report: fetched with the session cookie,
// as every other download of the app.
import { T, money, bogotaParts } from '/js/es.js';
import { get } from '/js/api.js';
import { h, notice, form, go, figures, office } from '/js/ui.js';

const I = T.impact;
const HOME = '#/impacto';
const BYS = ['department', 'municipality', 'group', 'cohort'];
/** How far back the month lists go (the API reads at most 36 months at once). */
const MONTHS_BACK = 47;

const isMonth = (s) => /^\d{4}-(0[1-9]|1[0-2])$/.test(s || '');
const monthShift = (ym, n) => {
  const [y, m] = ym.split('-').map(Number);
  const t = y * 12 + (m - 1) + n;
  return `${Math.floor(t / 12)}-${String((t % 12) + 1).padStart(2, '0')}`;
};
const monthFmt = new Intl.DateTimeFormat('es-CO', { timeZone: 'UTC', month: 'long', year: 'numeric' });
const monthName = (ym) => monthFmt.format(new Date(`${ym}-15T12:00:00Z`));

/** A decimal string as es-CO writes it: `1234.5` → `1.234,5`; `dp` fixes the decimals. */
function decimal(value, dp) {
  if (value === null || value === undefined || value === '') return '—';
  let s = String(value);
  if (dp !== undefined) s = Number(s).toFixed(dp);
  const negative = s.startsWith('-');
  const [int, frac] = s.replace('-', '').split('.');
  const g = int.replace(/\B(?=(\d{3})+(?!\d))/g, '.');
  return `${negative ? '-' : ''}${g}${frac ? `,${frac}` : ''}`;
}
/** `42.0` → `42 %`, `42.5` → `42,5 %`. */
const percent = (p) => (p === undefined || p === null ? '—' : I.percent(decimal(String(Number(p)))));

const reserved = () => h('span', { class: 'reserved' }, I.reserved);

/** The columns of a cell's figures, in order: `[header, value of figures]`. */
const COLUMNS = [
  [I.people, (f) => decimal(f.people)],
  [I.hours, (f) => I.hoursValue(decimal(f.hours))],
  [I.median, (f) => h('span', { class: 'amount' }, money(f.income_median))],
  [I.mean, (f) => h('span', { class: 'amount' }, money(f.income_mean))],
  [I.smmlvShare, (f) => percent(f.at_least_smmlv_percent)],
  [I.vsRural, (f) => I.times(decimal(f.mean_vs_rural, 2))],
  [I.withBaseline, (f) => decimal(f.people_with_baseline)],
  [I.baselineMean, (f) => (f.baseline_mean ? h('span', { class: 'amount' }, money(f.baseline_mean)) : f.people_with_baseline ? reserved() : '—')],
  [I.doubled, (f) => (f.doubled_percent ? percent(f.doubled_percent) : f.people_with_baseline ? reserved() : '—')],
];

/** A table that scrolls sideways on a phone, its first column kept in view; a row without
 * figures says «reservado» once, across. */
function reportTable(caption, first, rows, cls) {
  // The caption is said by a heading above the table: inside, it would scroll away on a phone.
  return h('div', { class: 'table-wrap impact-wrap', role: 'region', 'aria-label': caption, tabindex: '0' },
    h('table', { class: `data impact-table ${cls}` },
      h('caption', { class: 'sr-only' }, caption),
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, first), COLUMNS.map(([head]) => h('th', { scope: 'col' }, head)))),
      h('tbody', {}, rows.map((r) => h('tr', { class: `${r.total ? 'total' : ''}${r.figures || r.empty ? '' : ' is-reserved'}`, 'data-key': r.key },
        h('th', { scope: 'row' }, r.label),
        r.figures ? COLUMNS.map(([, value]) => h('td', {}, value(r.figures)))
          // Nobody that month: 0 people, nothing else to say (and nothing to hide).
          : r.empty ? [h('td', {}, '0'), h('td', { colspan: String(COLUMNS.length - 1), class: 'none' }, '—')]
            : h('td', { colspan: String(COLUMNS.length), class: 'none' }, reserved()))))));
}

/** A month's total as figures (what a phone shows first). */
function totalFigures(t) {
  if (!t) return null;
  return figures([
    [I.people, decimal(t.people), 'main'],
    [I.median, money(t.income_median)],
    [I.mean, money(t.income_mean)],
    [I.hours, I.hoursValue(decimal(t.hours))],
    [I.smmlvShare, percent(t.at_least_smmlv_percent)],
    [I.vsRural, I.times(decimal(t.mean_vs_rural, 2))],
    [I.withBaseline, decimal(t.people_with_baseline)],
    t.baseline_mean ? [I.baselineMean, money(t.baseline_mean)] : null,
    t.doubled_percent ? [I.doubled, percent(t.doubled_percent)] : null,
  ], 'impact-figures');
}

const hasAnyone = (m) => !!m.total || (m.cells || []).length > 0;

async function impactScreen(gen, _arg, params) {
  const thisMonth = bogotaParts(new Date().toISOString()).date.slice(0, 7);
  const to = isMonth(params.get('hasta')) ? params.get('hasta') : thisMonth;
  const from = isMonth(params.get('desde')) ? params.get('desde') : monthShift(to, -11);
  const by = BYS.includes(params.get('por')) ? params.get('por') : 'department';
  const query = `from=${from}&to=${to}&by=${by}`;
  const link = (extra) => `${HOME}?desde=${from}&hasta=${to}&por=${by}${extra || ''}`;

  // The choice of months and breakdown (months as words, not the browser's month picker,
  // which may not speak Spanish).
  const options = [];
  for (let i = 0; i <= MONTHS_BACK; i++) options.push(monthShift(thisMonth, -i));
  for (const m of [from, to]) if (!options.includes(m)) options.push(m);
  options.sort().reverse();
  const monthSelect = (id, label, value) => h('div', { class: 'field' }, h('label', { for: id }, label),
    h('select', { id, name: id }, options.map((m) => h('option', { value: m, selected: m === value }, monthName(m)))));
  const choose = form('impact-filter', [
    h('div', { class: 'row' },
      monthSelect('desde', I.from, from),
      monthSelect('hasta', I.to, to),
      h('div', { class: 'field' }, h('label', { for: 'por' }, I.by),
        h('select', { id: 'por', name: 'por' }, BYS.map((b) => h('option', { value: b, selected: b === by }, I.byLabels[b])))),
      h('button', { type: 'submit' }, I.apply)),
  ], async (data) => {
    const d = data.get('desde');
    const a = data.get('hasta');
    if (a < d) throw new Error(I.badRange);
    go(`${HOME}?desde=${d}&hasta=${a}&por=${data.get('por')}`);
    return null;
  });
  const head = [h('p', { class: 'lead' }, I.intro), h('p', { class: 'lead' }, I.privacy), choose];

  office(gen, I.title, ...head, notice(T.loading));
  let report;
  try {
    report = await get(`/v1/reports/impact?${query}`);
  } catch (err) {
    office(gen, I.title, ...head, notice(err.message || String(err), 'error'));
    return;
  }
  const months = report.months || [];
  const picked = params.get('mes');
  const shown = months.find((m) => m.month === picked)
    || [...months].reverse().find(hasAnyone)
    || months[months.length - 1];

  const downloads = h('p', { class: 'actions impact-downloads' },
    h('a', { class: 'button', id: 'impact-csv', href: `/v1/reports/impact/csv?${query}`, download: `reporte-impacto-${from}-${to}-${by}.csv` }, I.csv),
    h('a', { class: 'button', id: 'impact-pdf', href: `/v1/reports/impact/pdf?${query}`, download: `reporte-impacto-${from}-${to}-${by}.pdf` }, I.pdf));

  // Every month's total, newest first: the month's name opens its detail.
  const summaryRows = [...months].reverse().map((m) => ({
    key: m.month,
    label: h('a', { href: link(`&mes=${m.month}`), 'aria-current': shown && m.month === shown.month ? 'true' : null }, m.month_es),
    figures: m.total,
    empty: !hasAnyone(m),
  }));
  const summary = h('section', { 'aria-labelledby': 'impact-summary-title', id: 'impact-summary' },
    h('h2', { id: 'impact-summary-title' }, I.summaryTitle),
    h('p', { class: 'muted' }, I.summaryCaption),
    reportTable(I.summaryCaption, I.month, summaryRows, 'impact-months'));

  let detail = null;
  if (shown) {
    const byName = I.byLabels[report.by] || I.byLabels[by];
    const cells = shown.cells || [];
    const pick = h('div', { class: 'field impact-month-pick' }, h('label', { for: 'impact-month' }, I.monthPick),
      h('select', {
        id: 'impact-month',
        name: 'impact-month',
        onchange: (ev) => go(link(`&mes=${ev.target.value}`)),
      }, [...months].reverse().map((m) => h('option', { value: m.month, selected: m.month === shown.month }, m.month_es))));
    detail = h('section', { 'aria-labelledby': 'impact-detail-title', id: 'impact-detail' },
      h('h2', { id: 'impact-detail-title' }, shown.month_es),
      pick,
      h('p', { class: 'muted' }, I.yardsticks(money(shown.smmlv), money(report.rural_reference))),
      hasAnyone(shown) ? null : h('p', { id: 'impact-nobody' }, I.nobody),
      totalFigures(shown.total),
      hasAnyone(shown) ? h('h3', {}, I.detailCaption(shown.month_es, byName)) : null,
      hasAnyone(shown) ? reportTable(I.detailCaption(shown.month_es, byName), I.byColumn[report.by] || I.byColumn[by],
        [{ key: 'total', label: I.total, figures: shown.total, total: true },
          ...cells.map((c) => ({ key: c.key, label: c.label, figures: c.figures }))], 'impact-cells') : null);
  }

  office(gen, I.title,
    ...head,
    downloads,
    h('p', { class: 'notice impact-reserved-note' }, I.reservedNote),
    detail,
    summary,
  );
}

export const impact = {
  home: HOME,
  for: (me) => me.role === 'admin' || me.role === 'finance' || me.role === 'funder',
  /** Navigation links: `[hash, label]`. */
  links: () => [[HOME, I.nav]],
  screens: {
    impacto: impactScreen,
  },
};
