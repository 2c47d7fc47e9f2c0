// The review queue: submissions waiting for a decision, oldest first, for a company's owner and
// reviewers. Texts in /js/es.js. Each screen is `(gen, arg, params, me)`, routed from app.js.
//
// `#/revision` lists the queue (GET /v1/review-queue); `#/revision/<assignment id>` opens one
// submission: the deliverable, the notes, the automatic checks' findings, the time entries
// drawn day by day, and the decision (POST /v1/assignments/{id}/review). After a decision the
// next submission waiting opens. The worker is only ever named as the API names them (first
// name and initial), with her record (her last 25 decided submissions) and nothing else.
//
// Fair work (issue 21): sending work back or rejecting it takes a reason from a short list,
// the reviewer's own words and, when the task has a rubric, the criteria not met. On a task
// that allows changes the first decision against the work is a request for changes (the
// server refuses a rejection with `rework_first`, unless the work is not original). A
// rejection may be held for the platform's review (`rejection_held`): the company is told why.
import { T, duration, when, deadline, time } from '/js/es.js';
import { get, post, Refusal } from '/js/api.js';
import { h, show, notice, form, button, go } from '/js/ui.js';

// The queue's own styles, loaded once with this module (no edit to the shared page needed).
document.head.append(h('link', { rel: 'stylesheet', href: '/css/review.css' }));

const HOME = '#/revision';
const PAGE = 50;
const DAY_MS = 24 * 3600 * 1000;
// Bogotá is UTC−5 all year: its midnight is 05:00 UTC.
const BOGOTA_MS = 5 * 3600 * 1000;

// What the last answers said: the items in queue order, the next page, the count waiting.
let queue = { items: [], next: null, waiting: 0 };
// A sentence for the next screen (the decision just saved), and how it is shown.
let flash = '';
let flashKind = 'ok';

async function loadFirst() {
  const page = await get(`/v1/review-queue?limit=${PAGE}`);
  queue = { items: page.items || [], next: page.next_cursor || null, waiting: page.waiting || 0 };
  return queue;
}

async function loadMore() {
  if (!queue.next) return [];
  const page = await get(`/v1/review-queue?limit=${PAGE}&cursor=${encodeURIComponent(queue.next)}`);
  const added = page.items || [];
  queue = { items: [...queue.items, ...added], next: page.next_cursor || null, waiting: page.waiting || 0 };
  return added;
}

/** The item with this assignment id, reading pages until it shows up (a link opened afresh). */
async function find(id) {
  await loadFirst();
  for (let pages = 0; pages < 20; pages += 1) {
    const item = queue.items.find((i) => i.assignment_id === id);
    if (item || !queue.next) return item || null;
    await loadMore();
  }
  return null;
}

function takeFlash() {
  const said = flash;
  const kind = flashKind;
  flash = '';
  flashKind = 'ok';
  return said ? notice(said, kind) : null;
}

/** "Historial: 12 aprobadas, 1 con cambios, 0 rechazadas de las últimas 25". */
function record(item) {
  const r = item.worker_record;
  if (!r) return null;
  return h('p', { class: 'muted rq-record' }, T.review.record({
    approved: r.approved || 0, changes_requested: r.changes_requested || 0, rejected: r.rejected || 0,
  }));
}

/** Whether the first decision against this work must be a request for changes. */
const reworkFirst = (item) => !!item.allows_changes && (item.rework_rounds || 0) === 0;

/** "Se aprueba sola en 2 días 3 h (lun, 8 dic, 3:40 p. m.)", or that it is being checked. */
function due(item) {
  if (item.status !== 'verified' || !item.review_due_at) return h('p', { class: 'rq-checking' }, T.review.checking);
  const left = (Date.parse(item.review_due_at) - Date.now()) / 1000;
  return h('p', { class: 'rq-due' }, left > 0 ? T.review.autoIn(T.review.left(left), deadline(item.review_due_at)) : T.review.autoSoon);
}

function findingsCount(item) {
  const f = item.findings || { hard: [], soft: [] };
  return (f.hard || []).length + (f.soft || []).length;
}

// ----------------------------------------------------------------------------------------
// The queue
// ----------------------------------------------------------------------------------------

function card(item) {
  const n = findingsCount(item);
  return h('li', { class: 'card rq-item', 'data-assignment': item.assignment_id },
    h('h2', {}, h('a', { href: `${HOME}/${item.assignment_id}` }, item.task_title)),
    h('p', {}, T.review.by(item.worker_name, when(item.submitted_at))),
    h('p', { class: 'muted' }, `${T.review.pricing[item.pricing_kind] || item.pricing_kind} · ${T.review.logged(duration(item.logged_seconds))}`),
    record(item),
    due(item),
    n ? h('p', { class: 'muted' }, T.review.findingsCount(n)) : null,
  );
}

async function queueScreen(gen) {
  const said = takeFlash();
  show(gen, T.review.title, said, notice(T.loading));
  try {
    await loadFirst();
  } catch (err) {
    show(gen, T.review.title, said, notice(err.message, 'error'));
    return;
  }
  const list = h('ol', { class: 'cards rq-list', id: 'review-queue' }, queue.items.map(card));
  const status = h('p', { class: 'lead', id: 'rq-waiting', role: 'status' }, T.review.waiting(queue.waiting));
  const moreMsg = h('div', { 'aria-live': 'polite' });
  const more = queue.next ? button(T.review.more, async () => {
    more.disabled = true;
    try {
      const added = await loadMore();
      list.append(...added.map(card));
      more.hidden = !queue.next;
    } catch (err) {
      moreMsg.replaceChildren(notice(err.message, 'error'));
    } finally {
      more.disabled = false;
    }
  }) : null;
  show(gen, T.review.title,
    said,
    status,
    h('p', { class: 'muted' }, T.review.intro),
    queue.items.length === 0 ? h('p', {}, T.review.none) : list,
    more,
    moreMsg,
    h('p', {}, button(T.review.refresh, () => go(HOME))),
  );
}

// ----------------------------------------------------------------------------------------
// One submission
// ----------------------------------------------------------------------------------------

/** Start of the Bogotá day that holds instant `ms`. */
function dayStart(ms) {
  return Math.floor((ms - BOGOTA_MS) / DAY_MS) * DAY_MS + BOGOTA_MS;
}

/** The entries cut at Bogotá midnights, grouped by day, oldest first. */
function days(entries) {
  const byDay = new Map();
  for (const e of entries) {
    const start = Date.parse(e.started_at);
    const end = Date.parse(e.ended_at);
    let from = start;
    while (from < end) {
      const day = dayStart(from);
      const to = Math.min(end, day + DAY_MS);
      if (!byDay.has(day)) byDay.set(day, []);
      byDay.get(day).push({ entry: e, from, to, continued: from > start, continues: to < end });
      from = to;
    }
  }
  return [...byDay.entries()].sort((a, b) => a[0] - b[0]);
}

function timeline(item) {
  const entries = item.time_entries || [];
  const box = h('section', { class: 'card rq-timeline', 'aria-labelledby': 'rq-timeline-title' },
    h('h2', { id: 'rq-timeline-title' }, T.review.timeline));
  if (entries.length === 0) {
    box.append(h('p', { class: 'muted' }, T.review.noEntries));
    return box;
  }
  const grouped = days(entries);
  const total = entries.reduce((n, e) => n + (e.seconds || 0), 0);
  box.append(
    h('p', {}, T.review.total(duration(total), grouped.length)),
    h('p', { class: 'muted' }, T.review.timelineHelp),
  );
  const list = h('ol', { class: 'tl-days' });
  for (const [day, segments] of grouped) {
    const dayIso = new Date(day).toISOString();
    const secs = segments.reduce((n, s) => n + (s.to - s.from) / 1000, 0);
    // The drawing is for the eye; the list under it says the same in words.
    const track = h('div', { class: 'tl-track', 'aria-hidden': 'true' });
    for (const s of segments) {
      const bar = h('span', { class: `tl-bar src-${s.entry.source}`, title: `${time(new Date(s.from).toISOString())} – ${time(new Date(s.to).toISOString())}` });
      bar.style.left = `${((s.from - day) / DAY_MS) * 100}%`;
      bar.style.width = `${Math.max(((s.to - s.from) / DAY_MS) * 100, 0.5)}%`;
      track.append(bar);
    }
    const words = h('ul', { class: 'tl-entries' }, segments.map((s) => h('li', {},
      T.review.entry(time(new Date(s.from).toISOString()), time(new Date(s.to).toISOString()),
        duration((s.to - s.from) / 1000), T.entries.source[s.entry.source] || s.entry.source),
      s.continued ? ` · ${T.review.continued}` : '',
      s.continues ? ` · ${T.review.continues}` : '',
      s.entry.note && !s.continued ? h('span', { class: 'tl-note' }, ` — ${s.entry.note}`) : null,
    )));
    list.append(h('li', { class: 'tl-day' },
      h('h3', {}, T.review.dayName(dayIso), ' ', h('span', { class: 'muted' }, `· ${T.review.dayTotal(duration(secs))}`)),
      track,
      h('div', { class: 'tl-scale', 'aria-hidden': 'true' }, ['0 h', '6 h', '12 h', '18 h', '24 h'].map((t) => h('span', {}, t))),
      words,
    ));
  }
  box.append(list);
  return box;
}

function delivered(item) {
  const url = item.deliverable_url || '';
  return h('section', { class: 'card', 'aria-labelledby': 'rq-work-title' },
    h('h2', { id: 'rq-work-title' }, T.review.deliverable),
    // The API only keeps https links; anything else is not made a link.
    url.startsWith('https://')
      ? h('p', {}, h('a', { href: url, target: '_blank', rel: 'noopener noreferrer', id: 'rq-link', class: 'button' },
        T.review.openLink, ' ', h('span', { class: 'muted-inline' }, T.review.newTab)))
      : h('p', { class: 'muted' }, T.review.noLink),
    h('h3', {}, T.review.notes),
    item.notes ? h('p', { class: 'instructions', id: 'rq-notes' }, item.notes) : h('p', { class: 'muted' }, T.review.noNotes),
  );
}

function findings(item) {
  const f = item.findings || { hard: [], soft: [] };
  const list = (title, items, cls) => (items && items.length
    ? [h('h3', {}, title), h('ul', { class: `rq-findings ${cls}` }, items.map((x) => h('li', {}, x.message)))]
    : []);
  return h('section', { class: 'card', 'aria-labelledby': 'rq-findings-title' },
    h('h2', { id: 'rq-findings-title' }, T.review.findings),
    findingsCount(item) === 0 ? h('p', { class: 'muted' }, T.review.noFindings) : null,
    list(T.review.hard, f.hard, 'hard'),
    list(T.review.soft, f.soft, 'soft'),
  );
}

/** Whole hours and minutes from two fields: seconds, or NaN when they are not whole numbers. */
function seconds(hoursText, minutesText) {
  const whole = (t) => (/^\d{1,4}$/.test(t) ? Number(t) : t === '' ? 0 : NaN);
  const hrs = whole((hoursText || '').trim());
  const mins = whole((minutesText || '').trim());
  if (Number.isNaN(hrs) || Number.isNaN(mins) || mins > 59) return NaN;
  return hrs * 3600 + mins * 60;
}

function decisionForm(item) {
  const logged = item.logged_seconds || 0;
  const hourly = item.pricing_kind === 'hourly';
  const rubric = Array.isArray(item.rubric) ? item.rubric : [];
  // Whether a rejection must wait for a rework round: what the queue said, or what the server
  // answered (`rework_first`) when the queue was out of date.
  let firstChanges = reworkFirst(item);
  const choices = [
    ['approve', hourly ? T.review.approveAll(duration(logged)) : T.review.approve],
    hourly && logged > 60 ? ['fewer', T.review.fewer] : null,
    ['changes', T.review.changes],
    ['reject', firstChanges ? T.review.rejectFirstChanges : T.review.reject],
  ].filter(Boolean);
  const fewerBox = h('div', { id: 'rq-fewer', hidden: true },
    h('p', { class: 'muted', id: 'rq-fewer-help' }, T.review.fewerHelp(duration(logged))),
    h('div', { class: 'row' },
      h('div', { class: 'field' }, h('label', { for: 'fewer-hours' }, T.review.hours),
        h('input', { id: 'fewer-hours', name: 'fewer-hours', type: 'number', min: '0', step: '1', inputmode: 'numeric', 'aria-describedby': 'rq-fewer-help' })),
      h('div', { class: 'field' }, h('label', { for: 'fewer-minutes' }, T.review.minutes),
        h('input', { id: 'fewer-minutes', name: 'fewer-minutes', type: 'number', min: '0', max: '59', step: '1', inputmode: 'numeric', 'aria-describedby': 'rq-fewer-help' }))),
  );
  // Sending back or rejecting: a reason from the list, and the criteria of the rubric not met.
  const codeSelect = h('select', { id: 'reason-code', name: 'reason_code', 'aria-required': 'true' },
    h('option', { value: '' }, T.review.codePick),
    Object.entries(T.fair.reasonCodes).map(([value, label]) => h('option', { value }, label)));
  const codeBox = h('div', { class: 'field', id: 'rq-code', hidden: true },
    h('label', { for: 'reason-code' }, T.review.code), codeSelect);
  const criteriaBox = rubric.length ? h('fieldset', { class: 'rq-criteria', id: 'rq-criteria', hidden: true },
    h('legend', {}, T.review.criteria),
    rubric.map((text, i) => h('div', { class: 'check' },
      h('input', { type: 'checkbox', name: 'criteria', id: `crit-${i}`, value: String(i) }),
      h('label', { for: `crit-${i}` }, text)))) : null;
  const reworkHint = h('p', { class: 'notice info rq-rework', id: 'rq-rework-hint', hidden: !firstChanges }, T.review.reworkHint);
  const reworkDone = item.allows_changes && item.rework_rounds > 0 ? h('p', { class: 'muted' }, T.review.reworkDone(item.rework_rounds)) : null;
  const reasonLabel = h('label', { for: 'reason', id: 'reason-label' }, T.review.reasonOptional);
  const reason = h('textarea', { id: 'reason', name: 'reason', rows: '3', maxlength: '2000' });
  let chosen = null;
  // The reason chosen before a first rejection limited the list to «not original» (null when
  // not limited).
  let locked = null;
  const setChoice = (value) => {
    chosen = value;
    fewerBox.hidden = value !== 'fewer';
    const back = value === 'changes' || value === 'reject';
    codeBox.hidden = !back;
    if (criteriaBox) criteriaBox.hidden = !back;
    // A first rejection on a task that allows changes can only be for work that is not original.
    const onlyNotOriginal = value === 'reject' && firstChanges;
    for (const o of codeSelect.options) o.disabled = onlyNotOriginal && o.value !== '' && o.value !== 'not_original';
    // Never chosen for the reviewer: calling work not original is hers to say.
    if (onlyNotOriginal && locked === null) {
      locked = codeSelect.value;
      if (codeSelect.value !== 'not_original') codeSelect.value = '';
    } else if (!onlyNotOriginal && locked !== null) {
      // Back from that rejection: the reason chosen before.
      codeSelect.value = locked;
      locked = null;
    }
    const required = value === 'fewer' || back;
    reasonLabel.textContent = back ? T.review.explainRequired : required ? T.review.reasonRequired : T.review.reasonOptional;
    if (required) reason.setAttribute('aria-required', 'true');
    else reason.removeAttribute('aria-required');
  };
  const radios = h('fieldset', { class: 'rq-choices' },
    h('legend', {}, T.review.choose),
    choices.map(([value, label]) => h('div', { class: 'check' },
      h('input', { type: 'radio', name: 'decision', id: `d-${value}`, value, onchange: () => setChoice(value) }),
      h('label', { for: `d-${value}` }, label))),
  );
  return h('section', { class: 'card rq-decide', 'aria-labelledby': 'rq-decide-title' },
    h('h2', { id: 'rq-decide-title' }, T.review.decision),
    form('review-form', [
      reworkHint,
      reworkDone,
      radios,
      fewerBox,
      codeBox,
      criteriaBox,
      h('div', { class: 'field' }, reasonLabel, reason),
      h('button', { type: 'submit', class: 'primary' }, T.review.save),
    ], async (data) => {
      const choice = data.get('decision');
      if (!choice) throw new Error(T.review.pickOne);
      const why = (data.get('reason') || '').trim();
      const body = { decision: { approve: 'approve', fewer: 'approve', changes: 'request_changes', reject: 'reject' }[choice] };
      let done = T.review.done[choice];
      if (choice === 'fewer') {
        const secs = seconds(data.get('fewer-hours'), data.get('fewer-minutes'));
        if (!(secs > 0 && secs < logged)) throw new Error(T.review.needFewer(duration(logged)));
        body.approved_seconds = secs;
        done = T.review.done.fewer(duration(secs));
      }
      if (choice === 'changes' || choice === 'reject') {
        const code = data.get('reason_code');
        if (!code) throw new Error(T.review.needCode);
        if (choice === 'reject' && firstChanges && code !== 'not_original') throw new Error(T.review.reworkFirst);
        body.reason_code = code;
        const criteria = data.getAll('criteria').map(Number).filter((i) => Number.isInteger(i));
        if (criteria.length) body.criteria_not_met = criteria;
      }
      if (choice !== 'approve' && !why) throw new Error(T.review.needReason);
      if (why) body.reason = why;
      let answer;
      try {
        answer = await post(`/v1/assignments/${item.assignment_id}/review`, body);
      } catch (err) {
        if (err instanceof Refusal && err.code === 'rework_first') {
          // The queue was out of date: from now on this form says so too.
          firstChanges = true;
          reworkHint.hidden = false;
          if (reworkDone) reworkDone.hidden = true;
          const label = radios.querySelector('label[for="d-reject"]');
          if (label) label.textContent = T.review.rejectFirstChanges;
          if (chosen) setChoice(chosen);
        }
        throw err;
      }
      // Held for the platform's review: the status says so, or the review that came with it.
      const held = answer && (answer.status === 'rejection_held' || (answer.appeal && answer.appeal.kind === 'held' && answer.appeal.status === 'open'));
      if (held) {
        await afterDecision(item.assignment_id, T.review.done.held, 'warn');
        return;
      }
      await afterDecision(item.assignment_id, done);
    }),
  );
}

/** Open the next submission waiting (the oldest), or the list when none is left. */
async function afterDecision(decided, done, kind = 'ok') {
  let next = null;
  try {
    await loadFirst();
    next = queue.items.find((i) => i.status === 'verified' && i.assignment_id !== decided) || null;
  } catch {
    next = null;
  }
  flash = next ? `${done} ${T.review.next}` : `${done} ${T.review.allDone}`;
  flashKind = kind;
  go(next ? `${HOME}/${next.assignment_id}` : HOME);
}

async function itemScreen(gen, id) {
  const said = takeFlash();
  show(gen, T.review.title, said, notice(T.loading));
  let item;
  try {
    item = await find(id);
  } catch (err) {
    show(gen, T.review.title, said, notice(err.message, 'error'), h('p', {}, h('a', { href: HOME }, T.review.back)));
    return;
  }
  if (!item) {
    show(gen, T.review.title, said, notice(T.review.gone), h('p', {}, h('a', { href: HOME }, T.review.back)));
    return;
  }
  const ready = item.status === 'verified';
  show(gen, item.task_title,
    said,
    h('div', { class: 'review-item' },
      h('div', { class: 'rq-main' },
        h('p', {}, T.review.by(item.worker_name, when(item.submitted_at))),
        h('p', { class: 'muted' }, `${T.review.pricing[item.pricing_kind] || item.pricing_kind} · ${T.review.logged(duration(item.logged_seconds))}`),
        record(item),
        due(item),
        delivered(item),
        findings(item),
        timeline(item),
      ),
      h('div', { class: 'rq-side' },
        ready ? decisionForm(item) : h('section', { class: 'card' }, h('p', {}, T.review.checking), button(T.review.refresh, () => go(`${HOME}/${id}`))),
        h('p', { class: 'muted' }, T.review.waiting(queue.waiting)),
        h('p', {}, h('a', { href: HOME }, T.review.back)),
      ),
    ),
  );
}

export const review = {
  home: HOME,
  for: (me) => me.role === 'company',
  /** Navigation links for this person: `[hash, label]`. */
  links: () => [[HOME, T.review.nav]],
  screens: {
    revision: (gen, arg) => (arg ? itemScreen(gen, arg) : queueScreen(gen)),
  },
};
