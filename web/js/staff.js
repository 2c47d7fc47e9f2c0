// Programme staff's screens (role admin): workers and their accounts, cohorts imported from a
// spreadsheet, the skills catalogue. Texts in /js/es.js (T.staff).
// Each screen is `(gen, arg, params, me)`, routed from app.js by the hash's first part.
//
// `#/personas` lists the workers (GET /v1/workers, a page at a time, by skill);
// `#/persona/<worker id>` is one worker: her profile, other workers paid to the same phone or
// account, and her account deactivated or reactivated (POST /v1/users/{id}/deactivate,
// /reactivate) after the consequences are spelled out. `#/cohorte` imports a cohort
// (POST /v1/workers/import, the file as it was chosen, with an Idempotency-Key); a refused
// file shows every bad row and column. `#/habilidades` is the skills catalogue (/v1/skills).
// `#/apelaciones` lists the appeals to the platform (GET /v1/appeals; issue 21), the open ones
// overdue first, each with what the worker says and what the company decided, and a form to
// uphold or overturn it with a written decision (POST /v1/appeals/{id}/decision).
// `#/solicitudes` lists the workers' requests about their data (GET /v1/data-requests; issue
// 22 §3, Ley 1581 arts. 14–15), the open ones overdue first, each with its legal deadline, a
// form to extend it once with a reason (POST /v1/data-requests/{id}/extension) and one to
// answer it in writing (POST /v1/data-requests/{id}/answer); the answered ones under a filter.
import { T, money, day, when, deadline, duration } from '/js/es.js';
import { get, post, patch, del, postFile, Refusal } from '/js/api.js';
import { newClientId } from '/js/store.js';
import { h, notice, field, form, button, go, table, badge, office, readCsv, readFile, setFlash, takeFlash } from '/js/ui.js';

// The staff screens' own styles, loaded once with this module (as review.js does).
document.head.append(h('link', { rel: 'stylesheet', href: '/css/staff.css' }));

const S = T.staff;
const HOME = '#/personas';
const PAGE = 50;
const enc = encodeURIComponent;


function failed(gen, title, err) {
  office(gen, title, notice(err.message || String(err), 'error'), h('p', {}, h('a', { href: HOME }, S.back)));
}

/** The catalogue, retired skills included (a worker may hold one): `name → label`. */
async function skillLabels() {
  const list = await get('/v1/skills?include_retired=true');
  return { items: list.items || [], label: new Map((list.items || []).map((s) => [s.name, s.label])) };
}

const skillNames = (skills, labels) => (skills || []).map((s) => labels.get(s) || s).join(', ');

const statusOf = (w) => (w.active === false ? 'deactivated' : 'active');

// ----------------------------------------------------------------------------------------
// The workers
// ----------------------------------------------------------------------------------------

async function peopleScreen(gen, _arg, params) {
  const P = S.people;
  const skill = params.get('habilidad') || '';
  office(gen, P.title, notice(T.loading));
  const query = (cursor) => `/v1/workers?limit=${PAGE}${skill ? `&skill=${enc(skill)}` : ''}${cursor ? `&cursor=${enc(cursor)}` : ''}`;
  let page;
  let catalogue;
  try {
    [page, catalogue] = await Promise.all([get(query(null)), skillLabels()]);
  } catch (err) {
    failed(gen, P.title, err);
    return;
  }
  const items = [...(page.items || [])];
  let cursor = page.next_cursor || null;
  // Name and status first: what a phone shows before the table scrolls sideways.
  const rowsOf = () => items.map((w) => [
    h('a', { href: `#/persona/${w.id}` }, w.name),
    badge(statusOf(w), S.status),
    S.place(w.municipality, w.department),
    skillNames(w.skills, catalogue.label) || '—',
  ]);
  const listBox = h('div', { id: 'people' });
  const shown = h('p', { class: 'muted', 'aria-live': 'polite' });
  const draw = () => {
    listBox.replaceChildren(table(P.caption, [P.name, P.status, P.place, P.skills], rowsOf(), 'people', { quietCaption: true }));
    shown.textContent = P.shown(items.length);
  };
  const moreMsg = h('div', { 'aria-live': 'polite' });
  const more = button(S.more, async () => {
    more.disabled = true;
    moreMsg.replaceChildren();
    try {
      const next = await get(query(cursor));
      items.push(...(next.items || []));
      cursor = next.next_cursor || null;
      draw();
      if (!cursor) more.remove();
    } catch (err) {
      moreMsg.replaceChildren(notice(err.message, 'error'));
    } finally {
      more.disabled = false;
    }
  }, 'more');
  const filter = form('people-filter', [
    h('div', { class: 'row' },
      h('div', { class: 'field' },
        h('label', { for: 'habilidad' }, P.filter),
        h('select', { id: 'habilidad', name: 'habilidad' },
          h('option', { value: '', selected: !skill }, P.all),
          catalogue.items.map((s) => h('option', { value: s.name, selected: s.name === skill }, s.label)))),
      h('button', { type: 'submit' }, P.apply)),
  ], async (data) => {
    const s = data.get('habilidad');
    go(s ? `#/personas?habilidad=${enc(s)}` : HOME);
  });
  if (items.length) draw();
  office(gen, P.title,
    takeFlash(),
    h('p', { class: 'lead' }, P.intro),
    h('p', { class: 'actions' }, h('a', { class: 'button', href: '#/cohorte' }, P.import)),
    filter,
    items.length === 0 ? h('p', { class: 'muted' }, skill ? P.noneWithSkill : P.none) : [listBox, shown],
    cursor ? more : null,
    moreMsg,
  );
}

function payoutText(p) {
  const f = p && S.person.payouts[p.kind];
  return f ? f(p) : S.person.none;
}

/** A list of effects as the sentence's items. */
const effects = (lead, items) => [h('p', {}, h('strong', {}, lead)), h('ul', { class: 'effects' }, items.map((t) => h('li', {}, t)))];

async function personScreen(gen, id) {
  const P = S.person;
  office(gen, T.loading, notice(T.loading));
  let w;
  let catalogue;
  try {
    [w, catalogue] = await Promise.all([get(`/v1/workers/${enc(id)}`), skillLabels()]);
  } catch (err) {
    failed(gen, S.title, err);
    return;
  }
  const active = w.active !== false;
  const twins = w.duplicate_payout || [];
  const terms = [
    [P.email, w.email],
    [P.documentId, w.document_id || P.none],
    [P.phone, w.phone || P.none],
    [P.municipality, P.code(w.municipality, w.municipality_code)],
    [P.department, P.code(w.department, w.department_code)],
    [P.skills, skillNames(w.skills, catalogue.label) || P.noSkills],
    [P.payout, payoutText(w.payout_method)],
    [P.created, day(w.created_at)],
  ];
  const msg = h('div', { 'aria-live': 'polite' });
  const act = button(active ? P.deactivate : P.reactivate, async () => {
    if (!window.confirm(active ? P.confirmDeactivate(w.name) : P.confirmReactivate(w.name))) return;
    act.disabled = true;
    msg.replaceChildren();
    try {
      await post(`/v1/users/${enc(w.user_id)}/${active ? 'deactivate' : 'reactivate'}`);
      setFlash(active ? P.deactivated(w.name) : P.reactivated(w.name));
      go(location.hash);
    } catch (err) {
      msg.replaceChildren(notice(err.message, 'error'));
      act.disabled = false;
    }
  }, active ? 'danger account-action' : 'primary account-action');
  // Skills are earned in training: staff tick them here (active catalogue skills, and any
  // retired one she already holds, which stays unless unticked).
  const held = new Set(w.skills || []);
  const choices = catalogue.items.filter((k) => k.active || held.has(k.name));
  const skillsForm = form('worker-skills', [
    h('fieldset', {}, h('legend', {}, P.skillsEdit),
      h('div', { class: 'checks' }, choices.map((k) => h('div', { class: 'check' },
        h('input', { type: 'checkbox', id: `ws-${k.name}`, name: 'skill', value: k.name, checked: held.has(k.name) }),
        h('label', { for: `ws-${k.name}` }, k.label))))),
    h('button', { type: 'submit' }, P.skillsSave),
  ], async (data) => {
    await patch(`/v1/workers/${enc(id)}`, { skills: data.getAll('skill') });
    setFlash(P.skillsSaved);
    go(location.hash);
  });
  office(gen, w.name,
    takeFlash(),
    h('p', {}, badge(statusOf(w), S.status)),
    twins.length ? h('section', { class: 'notice warn duplicate', 'aria-labelledby': 'dup-title' },
      h('h2', { id: 'dup-title' }, P.duplicateTitle),
      h('p', {}, P.duplicate(twins.length)),
      h('ul', {}, twins.map((t) => h('li', {}, h('a', { href: `#/persona/${t.worker_id}` }, t.name))))) : null,
    h('section', { class: 'card', 'aria-labelledby': 'profile-title' },
      h('h2', { id: 'profile-title' }, P.profile),
      h('dl', { class: 'terms' }, terms.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]))),
    h('section', { class: 'card', 'aria-labelledby': 'skills-title' },
      h('h2', { id: 'skills-title' }, P.skills), skillsForm),
    consentCard(id),
    h('section', { class: 'card account', 'aria-labelledby': 'account-title' },
      h('h2', { id: 'account-title' }, P.account),
      h('p', {}, active ? P.activeSince : P.deactivatedSince(day(w.deactivated_at))),
      active ? effects(P.deactivateWhat, P.deactivateEffects) : effects(P.reactivateWhat, P.reactivateEffects),
      h('div', { class: 'actions' }, act),
      msg),
    h('p', {}, h('a', { href: HOME }, S.back)),
  );
}

/** Her consent to impact reports (issue 22 §1), admin only: read when asked, since the read
 * is logged in her «Quién consultó mis datos» (GET /v1/workers/{id}/consent). */
function consentCard(id) {
  const P = S.person;
  const box = h('div', { id: 'worker-consent', 'aria-live': 'polite' });
  const open = button(P.consentOpen, async () => {
    open.disabled = true;
    box.replaceChildren(notice(T.loading));
    try {
      const [c, groups] = await Promise.all([
        get(`/v1/workers/${enc(id)}/consent`),
        get('/v1/programme-groups?include_retired=true').catch(() => ({ items: [] })),
      ]);
      const names = new Map((groups.items || []).map((g) => [g.code, g.label]));
      const history = [...(c.history || [])].reverse();
      open.hidden = true;
      box.replaceChildren(h('div', {},
        h('p', { class: c.consenting ? 'ok-text' : '' }, c.consenting ? P.consentYes : P.consentNo),
        c.asked_again ? notice(P.consentAskAgain, 'warn') : null,
        c.consenting ? h('dl', { class: 'terms' },
          h('dt', {}, P.consentIncome), h('dd', {}, c.baseline_monthly_income ? money(c.baseline_monthly_income) : P.consentNotGiven),
          h('dt', {}, P.consentGroups), h('dd', {}, (c.groups || []).map((g) => names.get(g) || g).join(', ') || P.consentNoGroups)) : null,
        history.length ? [h('h3', {}, P.consentHistory),
          h('ul', { class: 'consent-events' }, history.map((e) => h('li', { class: 'consent-event' }, P.consentEvent(e.action, day(e.at), e.channel, e.helped_by))))] : null));
    } catch (err) {
      box.replaceChildren(notice(err.message, 'error'));
      open.disabled = false;
    }
  });
  open.id = 'worker-consent-open';
  return h('section', { class: 'card', 'aria-labelledby': 'consent-title' },
    h('h2', { id: 'consent-title' }, P.consentTitle),
    h('p', { class: 'muted' }, P.consentHint),
    open, box);
}

// ----------------------------------------------------------------------------------------
// A cohort from a spreadsheet
// ----------------------------------------------------------------------------------------

/** The template's columns (Spanish headers the import reads) and whether each is required. */
const COLUMNS = [
  ['nombre', true], ['correo', true], ['cedula', false], ['celular', false],
  ['municipio', true], ['departamento', true], ['habilidades', false], ['medio_pago', true],
  ['celular_pago', false], ['banco', false], ['tipo_cuenta', false], ['numero_cuenta', false],
  ['llave', false], ['grupo', false],
];

/** The template as a download: the header row, semicolon separated (as Excel in Spanish
 * opens it), with a BOM so Excel reads the accents of what is typed in it. */
const templateHref = () => `data:text/csv;charset=utf-8,${enc(`\uFEFF${COLUMNS.map(([c]) => c).join(';')}\r\n`)}`;

const PREVIEW_ROWS = 10;

function cohortPreview(sheet) {
  const C = S.cohort;
  const shown = sheet.rows.slice(0, PREVIEW_ROWS);
  return h('div', { class: 'file-preview cohort-preview' },
    h('p', {}, h('strong', {}, C.rows(sheet.rows.length)), ` · ${C.separator(sheet.sep)}`),
    table(C.previewCaption(shown.length, sheet.rows.length), [C.line, ...sheet.header],
      shown.map((r) => [String(r.line), ...sheet.header.map((_, i) => r.cells[i] ?? '')]), 'csv-table'));
}

/** POST the file's text as text/csv (the API reads it as the server would read the file). */
const upload = (text, key) => postFile('/v1/workers/import', new Blob([text], { type: 'text/csv' }), { 'Idempotency-Key': key });

function importResult(answer) {
  const C = S.cohort;
  const byId = new Map((answer.workers || []).map((w) => [w.id, w]));
  const dups = answer.duplicate_payout || [];
  return [
    h('div', { class: 'notice ok', role: 'status', id: 'import-done', tabindex: '-1' },
      h('p', {}, h('strong', {}, C.created(answer.created))),
      h('p', {}, C.invited)),
    dups.length ? h('section', { class: 'notice warn duplicates', 'aria-labelledby': 'dups-title' },
      h('h2', { id: 'dups-title' }, C.duplicatesTitle),
      h('p', {}, C.duplicatesText),
      h('ul', {}, dups.map((d) => h('li', { 'data-line': d.line },
        h('a', { href: `#/persona/${d.worker_id}` }, C.duplicate(d.line, (byId.get(d.worker_id) || {}).name || '',
          d.shared_with.map((t) => C.twin(t.name, t.line)).join(', '))))))) : null,
    table(C.createdCaption, [C.line, S.people.name, C.email, C.place], (answer.workers || []).map((w) => [
      String(w.line), h('a', { href: `#/persona/${w.id}` }, w.name), w.email, S.place(w.municipality, w.department),
    ]), 'created'),
    h('p', { class: 'actions' },
      h('a', { class: 'button', href: HOME }, C.seePeople),
      button(C.another, () => go('#/cohorte'))),
  ];
}

async function cohortScreen(gen) {
  const C = S.cohort;
  let catalogue = null;
  try {
    catalogue = await skillLabels();
  } catch {
    catalogue = null;
  }
  const fileInfo = h('div', { id: 'file-info', 'aria-live': 'polite' });
  const errorsBox = h('div', { id: 'row-errors' });
  const resultBox = h('div', { id: 'import-result' });
  // The file chosen: its text and the key that makes sending it again harmless (a double
  // click, a retry after a lost answer); another file gets another key.
  let file = null;
  const onFile = async (ev) => {
    const chosen = ev.target.files && ev.target.files[0];
    errorsBox.replaceChildren();
    resultBox.replaceChildren();
    file = null;
    if (!chosen) {
      fileInfo.replaceChildren();
      return;
    }
    try {
      const text = await readFile(chosen, C.unreadable);
      file = { text, key: newClientId() };
      fileInfo.replaceChildren(cohortPreview(readCsv(text)));
    } catch (err) {
      fileInfo.replaceChildren(notice(err.message, 'error'));
    }
  };
  const f = form('cohort', [
    h('div', { class: 'field' },
      h('label', { for: 'cohort-file' }, C.file),
      h('input', { type: 'file', id: 'cohort-file', name: 'cohort-file', accept: '.csv,text/csv', 'aria-describedby': 'cohort-hint', onchange: onFile }),
      h('p', { class: 'muted hint', id: 'cohort-hint' }, C.fileHint)),
    fileInfo,
    errorsBox,
    h('button', { type: 'submit', class: 'primary' }, C.submit),
  ], async () => {
    errorsBox.replaceChildren();
    resultBox.replaceChildren();
    if (!file) throw new Error(C.noFile);
    let answer;
    try {
      answer = await upload(file.text, file.key);
    } catch (err) {
      if (!(err instanceof Refusal)) throw err;
      const rows = err.problem && Array.isArray(err.problem.errors) ? err.problem.errors : null;
      errorsBox.replaceChildren(h('div', { class: 'notice error', role: 'alert' },
        rows
          ? [h('p', {}, C.refused), h('ul', { class: 'row-errors' }, rows.map((e) => h('li', { 'data-line': e.line, 'data-column': e.column || '' }, e.detail_es)))]
          : [h('p', {}, err.message), h('p', {}, C.refusedFile)]));
      return null;
    }
    f.hidden = true;
    resultBox.replaceChildren(...importResult(answer).filter(Boolean));
    resultBox.querySelector('#import-done').focus();
    return null;
  });
  office(gen, C.title,
    h('p', { class: 'lead' }, C.intro),
    h('section', { 'aria-labelledby': 'template-title' },
      h('h2', { id: 'template-title' }, C.templateTitle),
      h('p', {}, C.templateText),
      h('p', { class: 'actions' }, h('a', { class: 'button', id: 'template', href: templateHref(), download: 'plantilla-cohorte.csv' }, C.template)),
      h('details', { class: 'columns-guide' },
        h('summary', {}, C.columnsCaption),
        h('dl', { class: 'terms columns' }, COLUMNS.map(([c, required]) => [
          h('dt', {}, h('code', {}, c), required ? h('span', { class: 'required' }, ` ${C.required}`) : null),
          h('dd', {}, C.columns[c]),
        ]))),
      catalogue && catalogue.items.some((s) => s.active)
        ? h('p', { class: 'muted' }, C.catalogue(catalogue.items.filter((s) => s.active).map((s) => s.name).join(', ')))
        : null),
    h('section', { 'aria-labelledby': 'file-title' },
      h('h2', { id: 'file-title' }, C.fileTitle),
      f,
      resultBox),
  );
}

// ----------------------------------------------------------------------------------------
// The skills catalogue
// ----------------------------------------------------------------------------------------

async function skillsScreen(gen) {
  const K = S.skills;
  office(gen, K.title, notice(T.loading));
  let list;
  try {
    list = await get('/v1/skills?include_retired=true');
  } catch (err) {
    failed(gen, K.title, err);
    return;
  }
  const items = list.items || [];
  const msg = h('div', { 'aria-live': 'polite' });
  const change = (s) => {
    const b = button(s.active ? K.retire : K.restore, async () => {
      if (s.active && !window.confirm(K.confirmRetire(s.label))) return;
      b.disabled = true;
      msg.replaceChildren();
      try {
        if (s.active) await del(`/v1/skills/${enc(s.name)}`);
        else await post('/v1/skills', { name: s.name, label: s.label });
        setFlash(s.active ? K.retiredDone(s.label) : K.restored(s.label));
        go(location.hash);
      } catch (err) {
        msg.replaceChildren(notice(err.message, 'error'));
        b.disabled = false;
      }
    }, s.active ? 'danger small' : 'small');
    b.setAttribute('aria-label', `${s.active ? K.retire : K.restore}: ${s.label}`);
    b.dataset.skill = s.name;
    return b;
  };
  const add = form('new-skill', [
    h('div', { class: 'row' },
      field('skill-label', K.newLabel, { type: 'text', required: true, autocomplete: 'off', maxlength: '80' }),
      field('skill-name', K.newName, { type: 'text', required: true, autocomplete: 'off', maxlength: '40', autocapitalize: 'none', spellcheck: 'false' })),
    h('button', { type: 'submit' }, K.submit),
  ], async (data) => {
    // As people write it: `Excel avanzado` is `excel-avanzado`; anything else the server judges.
    const name = String(data.get('skill-name') || '').trim().toLowerCase().replace(/\s+/g, '-');
    const label = String(data.get('skill-label') || '').trim();
    const saved = await post('/v1/skills', { name, label });
    setFlash(K.added(saved.label));
    go(location.hash);
  });
  office(gen, K.title,
    takeFlash(),
    h('p', { class: 'lead' }, K.intro),
    items.length === 0 ? h('p', { class: 'muted' }, K.none) : table(K.caption, [K.label, K.status, K.actions], items.map((s) => [
      [s.label, h('br'), h('code', {}, s.name)], badge(s.active ? 'active' : 'retired', { active: K.active, retired: K.retired }), change(s),
    ]), 'skills', { quietCaption: true }),
    msg,
    h('section', { class: 'card', 'aria-labelledby': 'add-title' },
      h('h2', { id: 'add-title' }, K.add),
      add),
  );
}

// ----------------------------------------------------------------------------------------
// Appeals to the platform (issue 21): staff decide, not the company
// ----------------------------------------------------------------------------------------

const APPEAL_STATES = ['open', 'upheld', 'overturned'];

/** Overdue first, then the one due soonest. */
const byUrgency = (a, b) => (b.overdue === true) - (a.overdue === true) || Date.parse(a.due_at) - Date.parse(b.due_at);

/** Whole hours and minutes from two fields: seconds, or NaN when they are not whole numbers. */
function typedSeconds(hoursText, minutesText) {
  const whole = (t) => (/^\d{1,4}$/.test(t) ? Number(t) : t === '' ? 0 : NaN);
  const hrs = whole(String(hoursText || '').trim());
  const mins = whole(String(minutesText || '').trim());
  if (Number.isNaN(hrs) || Number.isNaN(mins) || mins > 59) return NaN;
  return hrs * 3600 + mins * 60;
}

/** The assignment appealed and its task (for the company's reasons, the deliverable, the
 * time logged and whether the task pays by the hour); `null` parts when they cannot be read. */
async function appealContext(p, tasks) {
  const assignment = await get(`/v1/assignments/${enc(p.assignment_id)}`).catch(() => null);
  if (!assignment) return { assignment: null, task: null };
  if (!tasks.has(assignment.task_id)) tasks.set(assignment.task_id, get(`/v1/tasks/${enc(assignment.task_id)}`).catch(() => null));
  return { assignment, task: await tasks.get(assignment.task_id) };
}

/** What the company decided, as the worker reads it. */
function companyDecision(a, task) {
  const A = S.appeals;
  if (!a) return notice(A.detailsFailed, 'error');
  const criteria = Array.isArray(a.criteria_not_met) ? a.criteria_not_met : [];
  const url = a.deliverable_url || '';
  const hourly = task && task.pricing && task.pricing.kind === 'hourly';
  return h('div', { class: 'company-decision' },
    h('p', {}, h('strong', {}, A.companyStatus[a.status] || T.status[a.status] || a.status)),
    a.reason_code ? h('p', {}, A.code(T.fair.reasonCodes[a.reason_code] || a.reason_code)) : null,
    criteria.length ? [h('p', {}, A.criteria), h('ul', {}, criteria.map((c) => h('li', {}, c)))] : null,
    a.reason ? h('p', { class: 'instructions' }, A.comment(a.reason)) : null,
    h('p', { class: 'muted' }, [
      task && task.pricing ? A.pricing[task.pricing.kind] || task.pricing.kind : null,
      A.logged(duration(a.logged_seconds || 0)),
      hourly && a.approved_seconds !== undefined && a.approved_seconds !== null ? A.approved(duration(a.approved_seconds)) : null,
    ].filter(Boolean).join(' · ')),
    url.startsWith('https://')
      ? h('p', {}, h('a', { href: url, target: '_blank', rel: 'noopener noreferrer', class: 'deliverable' }, A.deliverable, ' ', h('span', { class: 'muted-inline' }, A.newTab)))
      : null,
  );
}

function decisionForm(p, ctx) {
  const A = S.appeals;
  const a = ctx.assignment;
  const hourly = !!(ctx.task && ctx.task.pricing && ctx.task.pricing.kind === 'hourly');
  const logged = (a && a.logged_seconds) || 0;
  const key = `ap-${p.id}`;
  const startH = String(Math.floor(logged / 3600));
  const startM = String(Math.floor((logged % 3600) / 60));
  const paidBox = hourly && logged > 0 ? h('div', { class: 'paid', hidden: true },
    h('p', { class: 'muted', id: `${key}-paid-help` }, A.paidHelp(duration(logged))),
    h('div', { class: 'row' },
      h('div', { class: 'field' }, h('label', { for: `${key}-hours` }, `${A.paidTime}: ${A.hours}`),
        h('input', { id: `${key}-hours`, name: 'paid-hours', type: 'number', min: '0', step: '1', inputmode: 'numeric', value: startH, 'aria-describedby': `${key}-paid-help` })),
      h('div', { class: 'field' }, h('label', { for: `${key}-minutes` }, `${A.paidTime}: ${A.minutes}`),
        h('input', { id: `${key}-minutes`, name: 'paid-minutes', type: 'number', min: '0', max: '59', step: '1', inputmode: 'numeric', value: startM, 'aria-describedby': `${key}-paid-help` })))) : null;
  const choice = (value, label) => h('div', { class: 'check' },
    h('input', { type: 'radio', name: 'outcome', id: `${key}-${value}`, value, onchange: () => { if (paidBox) paidBox.hidden = value !== 'overturn'; } }),
    h('label', { for: `${key}-${value}` }, label));
  return form(`decide-${p.id}`, [
    h('fieldset', {}, h('legend', {}, A.decide), choice('uphold', A.uphold), choice('overturn', A.overturn)),
    paidBox,
    h('div', { class: 'field' },
      h('label', { for: `${key}-text` }, A.text),
      h('textarea', { id: `${key}-text`, name: 'decision', rows: '3', maxlength: '2000', 'aria-required': 'true' })),
    h('button', { type: 'submit', class: 'primary' }, A.submit),
  ], async (data) => {
    const outcome = data.get('outcome');
    if (!outcome) throw new Error(A.pickOne);
    const text = String(data.get('decision') || '').trim();
    if (!text) throw new Error(A.needText);
    const body = { outcome, decision: text };
    if (outcome === 'overturn' && paidBox) {
      const hoursText = String(data.get('paid-hours') || '').trim();
      const minutesText = String(data.get('paid-minutes') || '').trim();
      // Left as offered: everything logged, to the second (the server's default).
      if (hoursText !== startH || minutesText !== startM) {
        const secs = typedSeconds(hoursText, minutesText);
        if (!(secs > 0 && secs <= logged)) throw new Error(A.needSeconds(duration(logged)));
        body.paid_seconds = secs;
      }
    }
    await post(`/v1/appeals/${enc(p.id)}/decision`, body);
    setFlash(outcome === 'overturn' ? A.overturned(p.task_title) : A.upheld(p.task_title));
    go(location.hash);
    return null;
  });
}

function appealCard(p, ctx) {
  const A = S.appeals;
  const open = p.status === 'open';
  return h('li', { class: `card appeal-card${p.overdue && open ? ' overdue' : ''}`, 'data-appeal': p.id },
    h('h2', {}, p.task_title),
    h('p', {},
      open && p.overdue ? [h('span', { class: 'badge st-overdue' }, A.overdue), ' '] : null,
      h('span', { class: `badge ap-${p.status}` }, T.fair.appealStatus[p.status] || p.status)),
    h('dl', { class: 'terms' },
      // Her profile, for staff: the appeal names her only as companies see her.
      h('dt', {}, A.worker), h('dd', {}, ctx.assignment && ctx.assignment.worker_id
        ? h('a', { href: `#/persona/${enc(ctx.assignment.worker_id)}` }, p.worker_name) : p.worker_name),
      h('dt', {}, A.kind), h('dd', {}, T.fair.appealKinds[p.kind] || p.kind),
      h('dt', {}, A.filedLabel), h('dd', {}, when(p.filed_at)),
      open ? [h('dt', {}, A.dueLabel), h('dd', {}, deadline(p.due_at))] : null,
      !open && p.decided_at ? [h('dt', {}, A.decidedLabel), h('dd', {}, when(p.decided_at))] : null),
    h('h3', {}, A.why),
    p.reason ? h('p', { class: 'instructions worker-says' }, p.reason) : h('p', { class: 'muted' }, A.noWhy),
    open ? [h('h3', {}, A.company), companyDecision(ctx.assignment, ctx.task), decisionForm(p, ctx)] : [
      p.decision ? h('p', { class: 'instructions' }, A.decision(p.decision)) : null,
      p.status === 'overturned' && p.paid_seconds ? h('p', {}, A.paid(duration(p.paid_seconds))) : null,
    ],
  );
}

async function appealsScreen(gen, _arg, params) {
  const A = S.appeals;
  const status = APPEAL_STATES.includes(params.get('estado')) ? params.get('estado') : 'open';
  office(gen, A.title, notice(T.loading));
  const query = (cursor) => `/v1/appeals?status=${status}&limit=${PAGE}${cursor ? `&cursor=${enc(cursor)}` : ''}`;
  let page;
  let late = [];
  try {
    // The list is newest first: the overdue ones (the oldest) are asked for first, so they
    // show however many newer ones there are.
    if (status === 'open') late = (await get(`/v1/appeals?status=open&overdue=true&limit=${PAGE}`)).items || [];
    page = await get(query(null));
  } catch (err) {
    failed(gen, A.title, err);
    return;
  }
  const items = [...late];
  const add = (list) => items.push(...list.filter((p) => !items.some((q) => q.id === p.id)));
  add(page.items || []);
  let cursor = page.next_cursor || null;
  // The open ones come with what deciding needs: the assignment and its task.
  const tasks = new Map();
  const contexts = new Map();
  const load = async (list) => {
    if (status !== 'open') return;
    const found = await Promise.all(list.map((p) => appealContext(p, tasks)));
    list.forEach((p, i) => contexts.set(p.id, found[i]));
  };
  await load(items);
  const listBox = h('ol', { class: 'cards appeals', id: 'appeals' });
  const shown = h('p', { class: 'muted', 'aria-live': 'polite' });
  const draw = () => {
    const sorted = status === 'open' ? [...items].sort(byUrgency) : items;
    listBox.replaceChildren(...sorted.map((p) => appealCard(p, contexts.get(p.id) || { assignment: null, task: null })));
    shown.textContent = A.shown(items.length, status === 'open' ? items.filter((p) => p.overdue).length : 0);
  };
  const moreMsg = h('div', { 'aria-live': 'polite' });
  const more = button(A.more, async () => {
    more.disabled = true;
    moreMsg.replaceChildren();
    try {
      const next = await get(query(cursor));
      const fresh = (next.items || []).filter((p) => !items.some((q) => q.id === p.id));
      await load(fresh);
      add(fresh);
      cursor = next.next_cursor || null;
      draw();
      if (!cursor) more.remove();
    } catch (err) {
      moreMsg.replaceChildren(notice(err.message, 'error'));
    } finally {
      more.disabled = false;
    }
  }, 'more');
  const filter = form('appeals-filter', [
    h('div', { class: 'row' },
      h('div', { class: 'field' },
        h('label', { for: 'estado' }, A.filter),
        h('select', { id: 'estado', name: 'estado' },
          APPEAL_STATES.map((st) => h('option', { value: st, selected: st === status }, A.states[st])))),
      h('button', { type: 'submit' }, A.apply)),
  ], async (data) => {
    const st = data.get('estado');
    go(st && st !== 'open' ? `#/apelaciones?estado=${enc(st)}` : '#/apelaciones');
  });
  if (items.length) draw();
  office(gen, A.title,
    takeFlash(),
    h('p', { class: 'lead' }, A.intro),
    filter,
    items.length === 0 ? h('p', { class: 'muted', id: 'appeals-none' }, A.none[status]) : [shown, listBox],
    cursor ? more : null,
    moreMsg,
  );
}

// ----------------------------------------------------------------------------------------
// Requests about a worker's data (issue 22 §3; Ley 1581 arts. 14–15): a copy (consulta) or a
// correction (reclamo), due in Colombian business days, extendable once, answered in writing
// ----------------------------------------------------------------------------------------

const REQUEST_STATES = ['open', 'answered'];
/** How many pages «Respondidas» reads at most to fill one screen (the API filters open ones
 * only: the answered are picked from every request, newest first). */
const ANSWERED_PAGES = 10;

const dayLongFmt = new Intl.DateTimeFormat('es-CO', { timeZone: 'America/Bogota', weekday: 'long', day: 'numeric', month: 'long' });
const dayYearFmt = new Intl.DateTimeFormat('es-CO', { timeZone: 'America/Bogota', weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' });
const yearFmt = new Intl.DateTimeFormat('es-CO', { timeZone: 'America/Bogota', year: 'numeric' });

/** A legal deadline as the day it ends on: `due_at` is a Bogotá midnight, the end of the day
 * before (as `deadline` in es.js writes it at 11:59 p. m.), so the instant just before it names
 * the day: `lunes 26 de enero` (the year too when it is not this one). */
function dueDay(iso) {
  if (!iso) return '—';
  const last = new Date(Date.parse(iso) - 1);
  const fmt = yearFmt.format(last) === yearFmt.format(new Date()) ? dayLongFmt : dayYearFmt;
  return fmt.format(last).replace(',', '');
}

const requestKind = (r) => S.dataRequests.kinds[r.kind] || r.kind;

function extensionForm(r) {
  const D = S.dataRequests;
  const key = `dr-${r.id}`;
  return form(`extend-${r.id}`, [
    h('div', { class: 'field' },
      h('label', { for: `${key}-reason` }, D.reason),
      h('p', { class: 'muted hint', id: `${key}-reason-help` }, D.extendHelp(r.kind)),
      h('textarea', { id: `${key}-reason`, name: 'reason', rows: '2', maxlength: '4000', 'aria-required': 'true', 'aria-describedby': `${key}-reason-help` })),
    h('button', { type: 'submit' }, D.extend),
  ], async (data) => {
    const reason = String(data.get('reason') || '').trim();
    if (!reason) throw new Error(D.needReason);
    const done = await post(`/v1/data-requests/${enc(r.id)}/extension`, { reason });
    setFlash(D.extended(r.worker_name, dueDay(done.due_at)));
    go(location.hash);
    return null;
  });
}

function answerForm(r) {
  const D = S.dataRequests;
  const key = `dr-${r.id}`;
  return form(`answer-${r.id}`, [
    h('div', { class: 'field' },
      h('label', { for: `${key}-answer` }, D.answer),
      h('p', { class: 'muted hint', id: `${key}-answer-help` }, D.answerHelp),
      h('textarea', { id: `${key}-answer`, name: 'answer', rows: '4', maxlength: '4000', 'aria-required': 'true', 'aria-describedby': `${key}-answer-help` })),
    h('button', { type: 'submit', class: 'primary' }, D.send),
  ], async (data) => {
    const answer = String(data.get('answer') || '').trim();
    if (!answer) throw new Error(D.needAnswer);
    await post(`/v1/data-requests/${enc(r.id)}/answer`, { answer });
    setFlash(D.answered(r.worker_name));
    go(location.hash);
    return null;
  });
}

function requestCard(r) {
  const D = S.dataRequests;
  const open = !r.answered_at;
  const late = open && r.overdue === true;
  return h('li', { class: `card request-card${late ? ' overdue' : ''}`, 'data-request': r.id },
    h('h2', {}, h('a', { href: `#/persona/${enc(r.worker_id)}` }, r.worker_name)),
    h('p', { class: 'badges' },
      late ? [h('span', { class: 'badge st-overdue' }, D.overdue), ' '] : null,
      h('span', { class: `badge dr-${open ? 'open' : 'answered'}` }, D.status[open ? 'open' : 'answered']),
      r.extended_at ? [' ', h('span', { class: 'badge dr-extended' }, D.extendedBadge)] : null),
    h('dl', { class: 'terms' },
      h('dt', {}, D.kind), h('dd', { class: 'dr-kind' }, requestKind(r)),
      h('dt', {}, D.filedLabel), h('dd', {}, when(r.filed_at)),
      h('dt', {}, open ? D.dueLabel : D.wasDueLabel), h('dd', { class: 'dr-due' }, h('time', { datetime: r.due_at }, dueDay(r.due_at))),
      h('dt', {}, D.extensionLabel), h('dd', { class: 'dr-extension' }, r.extended_at
        ? D.extendedOn(day(r.extended_at), r.extension_reason || '')
        : D.notExtended),
      !open ? [h('dt', {}, D.answeredLabel), h('dd', {}, when(r.answered_at))] : null),
    h('h3', {}, D.asks),
    r.detail ? h('p', { class: 'instructions worker-says' }, r.detail) : h('p', { class: 'muted' }, r.kind === 'deletion' ? D.noDetailDeletion : D.noDetail),
    open
      ? [r.extended_at ? null : extensionForm(r), answerForm(r)]
      : [h('h3', {}, D.answerTitle), h('p', { class: 'instructions dr-answer' }, r.answer || '')],
  );
}

async function dataRequestsScreen(gen, _arg, params) {
  const D = S.dataRequests;
  const status = REQUEST_STATES.includes(params.get('estado')) ? params.get('estado') : 'open';
  office(gen, D.title, notice(T.loading));
  const query = (cursor) => `/v1/data-requests?${status === 'open' ? 'open=true&' : ''}limit=${PAGE}${cursor ? `&cursor=${enc(cursor)}` : ''}`;
  const items = [];
  const add = (list) => items.push(...list.filter((r) => (status === 'open' ? !r.answered_at : !!r.answered_at) && !items.some((q) => q.id === r.id)));
  let cursor = null;
  /** Read the next page; «Respondidas» reads on until it finds some (or the list ends). */
  const readMore = async () => {
    let pages = 0;
    const before = items.length;
    do {
      const page = await get(query(cursor));
      add(page.items || []);
      cursor = page.next_cursor || null;
      pages += 1;
    } while (status === 'answered' && cursor && items.length === before && pages < ANSWERED_PAGES);
  };
  try {
    // The list is newest first: the overdue ones (the oldest) are asked for first, so they
    // show however many newer ones there are.
    if (status === 'open') add((await get(`/v1/data-requests?open=true&overdue=true&limit=${PAGE}`)).items || []);
    await readMore();
  } catch (err) {
    failed(gen, D.title, err);
    return;
  }
  const listBox = h('ol', { class: 'cards data-requests', id: 'data-requests' });
  const shown = h('p', { class: 'muted', 'aria-live': 'polite' });
  const draw = () => {
    const sorted = status === 'open' ? [...items].sort(byUrgency) : items;
    listBox.replaceChildren(...sorted.map(requestCard));
    shown.textContent = D.shown(items.length, status === 'open' ? items.filter((r) => r.overdue).length : 0);
  };
  const moreMsg = h('div', { 'aria-live': 'polite' });
  const more = button(D.more, async () => {
    more.disabled = true;
    moreMsg.replaceChildren();
    try {
      await readMore();
      draw();
      if (!cursor) more.remove();
    } catch (err) {
      moreMsg.replaceChildren(notice(err.message, 'error'));
    } finally {
      more.disabled = false;
    }
  }, 'more');
  const filter = form('data-requests-filter', [
    h('div', { class: 'row' },
      h('div', { class: 'field' },
        h('label', { for: 'estado' }, D.filter),
        h('select', { id: 'estado', name: 'estado' },
          REQUEST_STATES.map((st) => h('option', { value: st, selected: st === status }, D.states[st])))),
      h('button', { type: 'submit' }, D.apply)),
  ], async (data) => {
    const st = data.get('estado');
    go(st && st !== 'open' ? `#/solicitudes?estado=${enc(st)}` : '#/solicitudes');
  });
  if (items.length) draw();
  office(gen, D.title,
    takeFlash(),
    h('p', { class: 'lead' }, D.intro),
    filter,
    items.length === 0 ? h('p', { class: 'muted', id: 'data-requests-none' }, D.none[status]) : [shown, listBox],
    cursor ? more : null,
    moreMsg,
  );
}

export const staff = {
  home: HOME,
  for: (me) => me.role === 'admin',
  /** Navigation links: `[hash, label]`. */
  links: () => [[HOME, S.nav.people], ['#/cohorte', S.nav.cohort], ['#/habilidades', S.nav.skills], ['#/apelaciones', S.nav.appeals], ['#/solicitudes', S.dataRequests.nav]],
  screens: {
    personas: peopleScreen,
    persona: personScreen,
    cohorte: cohortScreen,
    habilidades: skillsScreen,
    apelaciones: appealsScreen,
    solicitudes: dataRequestsScreen,
  },
};
