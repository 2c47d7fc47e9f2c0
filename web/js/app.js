// Vereda for workers: hash routes, one screen at a time, Spanish only (texts in /js/es.js).
import { T, money, pesosTyped, duration, clock, hours, when, deadline, day, time, month, bogotaInstant, bogotaParts } from '/js/es.js';
import { api, get, post, patch, del, Refusal, Unreachable, whenSignedOut } from '/js/api.js';
import { kv, outbox, clearAll, newClientId } from '/js/store.js';
import { syncNow, scheduleSync, onSyncChange } from '/js/sync.js';
import { h, show, notice, field, form, button, go, setRouter, nextScreen } from '/js/ui.js';
import { company } from '/js/company.js';
import { review } from '/js/review.js';
import { staff } from '/js/staff.js';
import { finance } from '/js/finance.js';
import { impact } from '/js/impact.js';
import { consentScreen } from '/js/consent.js';

// The office screens, each for the people its `for(me)` names: a company's owner (company.js)
// and reviewers (review.js), programme staff (staff.js), finance (finance.js). Workers have
// the screens below.
// The impact report (impact.js) is the funder's only screen, and one more for admin and finance.
const SECTIONS = [review, company, staff, finance, impact];
const sectionsOf = (person) => (person && person.role !== 'worker' ? SECTIONS.filter((s) => s.for(person)) : []);

/** Where a person lands after signing in. */
function home() {
  if (!me || me.role === 'worker') return '#/tareas';
  if (me.role === 'company') return me.member_role === 'reviewer' ? review.home : company.home;
  const first = sectionsOf(me)[0];
  return first ? first.home : '#/cuenta';
}

const nav = document.getElementById('nav');
const netEl = document.getElementById('net');
const unsentEl = document.getElementById('unsent');
const timerBar = document.getElementById('timerbar');
let me = null;

// ----------------------------------------------------------------------------------------
// Status bar: connection, unsent entries, running timer
// ----------------------------------------------------------------------------------------

async function refreshStatus() {
  const offline = !navigator.onLine;
  netEl.textContent = offline ? T.offline : T.online;
  netEl.className = offline ? 'net off' : 'net on';
  // Only workers keep time entries on the device; for others "all sent" says nothing.
  const worker = me && me.role === 'worker';
  const items = worker ? await outbox.all() : [];
  unsentEl.textContent = items.length ? T.unsent(items.length) : worker ? T.allSent : '';
  unsentEl.className = items.length ? 'unsent some' : 'unsent';
}

async function refreshTimerBar() {
  const timer = me ? await kv.get('timer') : null;
  if (!timer) {
    timerBar.hidden = true;
    timerBar.replaceChildren();
    return;
  }
  timerBar.hidden = false;
  timerBar.replaceChildren(
    h('a', { href: `#/asignacion/${timer.assignment_id}` },
      `${T.timer.title}: ${timer.task_title} · `,
      h('span', { class: 'clock', 'data-since': timer.started_ms }, clock((Date.now() - timer.started_ms) / 1000))),
  );
}

setInterval(async () => {
  for (const el of document.querySelectorAll('.clock[data-since]')) {
    el.textContent = clock((Date.now() - Number(el.dataset.since)) / 1000);
  }
  const timer = me ? await kv.get('timer') : null;
  if (timer && timer.limit_ms && Date.now() >= timer.limit_ms) {
    await stopTimer(timer);
    route();
  }
}, 1000);

window.addEventListener('online', refreshStatus);
window.addEventListener('offline', refreshStatus);
onSyncChange(() => {
  refreshStatus();
  // Entries moved from the device to the server: show the screen again if it lists them.
  if (location.hash.startsWith('#/asignacion/')) route();
});

// ----------------------------------------------------------------------------------------
// Session
// ----------------------------------------------------------------------------------------

whenSignedOut(async () => {
  me = null;
  await kv.remove('me');
  sessionMessage = T.sessionEnded;
  go('#/entrar');
});
let sessionMessage = '';

function renderNav() {
  if (!me) {
    nav.hidden = true;
    return;
  }
  nav.hidden = false;
  const here = location.hash.split('?')[0] || '#/tareas';
  const link = (hash, label) => h('a', { href: hash, 'aria-current': here === hash || here.startsWith(`${hash}/`) ? 'page' : null }, label);
  const links = me.role !== 'worker'
    ? [...sectionsOf(me).flatMap((s) => s.links(me)), ['#/cuenta', T.nav.account]]
    : [['#/tareas', T.nav.tasks], ['#/mis-tareas', T.nav.mine], ['#/dinero', T.nav.money], ['#/cuenta', T.nav.account]];
  nav.replaceChildren(h('ul', {}, links.map(([hash, label]) => h('li', {}, link(hash, label)))));
}

async function signIn(gen) {
  const intro = sessionMessage ? notice(sessionMessage, 'info') : null;
  sessionMessage = '';
  show(gen, T.signIn.title,
    intro,
    form('signin', [
      field('email', T.signIn.email, { type: 'email', autocomplete: 'username', required: true, inputmode: 'email' }),
      field('password', T.signIn.password, { type: 'password', autocomplete: 'current-password', required: true }),
      h('button', { type: 'submit', class: 'primary' }, T.signIn.submit),
    ], async (data) => {
      if (!navigator.onLine) throw new Error(T.signIn.needOnline);
      const body = await post('/v1/auth/web-login', { email: data.get('email'), password: data.get('password') });
      const who = body && body.user ? body.user : body;
      const previous = await kv.get('me');
      if (previous && previous.id !== who.id) await clearAll();
      me = who;
      await kv.set('me', who);
      go(home());
    }),
    h('p', {}, h('a', { href: '#/olvido' }, T.signIn.forgot)),
    h('p', {}, h('a', { href: '/privacidad' }, T.signIn.privacy)),
  );
}

async function forgot(gen) {
  show(gen, T.forgot.title,
    h('p', {}, T.forgot.intro),
    form('forgot', [
      field('email', T.signIn.email, { type: 'email', autocomplete: 'email', required: true, inputmode: 'email' }),
      h('button', { type: 'submit', class: 'primary' }, T.forgot.submit),
    ], async (data) => {
      await post('/v1/auth/password-reset', { email: data.get('email') });
      return T.forgot.sent;
    }),
    h('p', {}, h('a', { href: '#/entrar' }, T.forgot.back)),
  );
}

async function resetPassword(gen, params) {
  const token = params.get('token');
  if (!token) {
    show(gen, T.reset.title, notice(T.reset.noToken, 'error'), h('p', {}, h('a', { href: '#/olvido' }, T.signIn.forgot)));
    return;
  }
  show(gen, T.reset.title,
    form('reset', [
      field('new-password', T.reset.password, { type: 'password', autocomplete: 'new-password', required: true, minlength: '12' }),
      field('repeat-password', T.reset.repeat, { type: 'password', autocomplete: 'new-password', required: true, minlength: '12' }),
      h('button', { type: 'submit', class: 'primary' }, T.reset.submit),
    ], async (data, f) => {
      if (data.get('new-password') !== data.get('repeat-password')) throw new Error(T.reset.mismatch);
      await post('/v1/auth/password-reset/confirm', { token, password: data.get('new-password') });
      f.querySelector('button[type=submit]').hidden = true;
      const done = h('p', {}, h('a', { href: '#/entrar', class: 'button primary' }, T.forgot.back));
      f.after(done);
      return T.reset.done;
    }),
  );
}

// ----------------------------------------------------------------------------------------
// Tasks
// ----------------------------------------------------------------------------------------

function pay(task) {
  const p = task.pricing || {};
  return p.kind === 'hourly' ? T.tasks.perHour(money(p.rate)) : T.tasks.fixed(money(p.price));
}

function maxEarn(task) {
  const e = task.earnings && task.earnings.max_earnings;
  return e ? T.tasks.maxEarn(money(e)) : null;
}

async function cached(key, fetcher) {
  try {
    const fresh = await fetcher();
    await kv.set(key, fresh);
    return { data: fresh, stale: false };
  } catch (err) {
    if (!(err instanceof Unreachable)) throw err;
    const old = await kv.get(key);
    if (old === undefined) throw err;
    return { data: old, stale: true };
  }
}

async function taskList(gen) {
  show(gen, T.tasks.title, notice(T.loading));
  let result;
  try {
    result = await cached('tasks', () => get('/v1/tasks?status=open&limit=50'));
  } catch (err) {
    show(gen, T.tasks.title, notice(err.message, 'error'));
    return;
  }
  const items = (result.data.items || []).filter((t) => t.status === 'open' && t.slots_free !== 0);
  show(gen, T.tasks.title,
    result.stale ? notice(T.tasks.offlineCached) : h('p', { class: 'lead' }, T.tasks.intro),
    items.length === 0 ? h('p', {}, T.tasks.none) : h('ul', { class: 'cards' }, items.map((task) => h('li', { class: 'card task' },
      h('h2', {}, h('a', { href: `#/tarea/${task.id}` }, task.title)),
      h('p', { class: 'pay' }, pay(task)),
      maxEarn(task) ? h('p', { class: 'earn' }, maxEarn(task)) : null,
      task.deadline ? h('p', {}, T.tasks.deadline(when(task.deadline))) : null,
      task.claim_minutes ? h('p', { class: 'muted' }, T.task.claimMinutes(duration(task.claim_minutes * 60))) : null,
      h('p', { class: 'muted' }, `${T.tasks.skills}: ${(task.required_skills || []).map(T.tasks.skill).join(', ')}`),
      typeof task.slots_free === 'number' ? h('p', { class: 'muted' }, T.tasks.slots(task.slots_free)) : null,
    ))),
  );
}

async function taskDetail(gen, id) {
  show(gen, T.loading, notice(T.loading));
  let task;
  try {
    task = (await cached(`task:${id}`, () => get(`/v1/tasks/${id}`))).data;
  } catch (err) {
    show(gen, T.tasks.title, notice(err.message, 'error'), h('p', {}, h('a', { href: '#/tareas' }, T.task.back)));
    return;
  }
  const p = task.pricing || {};
  const result = h('div', { 'aria-live': 'polite', id: 'claim-result' });
  const claim = button(T.task.claim, async () => {
    claim.disabled = true;
    result.replaceChildren();
    try {
      const assignment = await post(`/v1/tasks/${id}/claims`);
      await kv.set(`assignment:${assignment.id}`, assignment);
      result.replaceChildren(notice(T.task.claimed, 'ok'));
      go(`#/asignacion/${assignment.id}`);
    } catch (err) {
      result.replaceChildren(notice(err instanceof Unreachable ? T.task.needOnline : err.message, 'error'));
      claim.disabled = false;
    }
  }, 'primary');
  show(gen, task.title,
    h('p', { class: 'pay' }, pay(task)),
    maxEarn(task) ? h('p', { class: 'earn' }, maxEarn(task)) : null,
    p.max_hours ? h('p', {}, T.task.maxHours(hours(p.max_hours))) : null,
    p.estimated_hours ? h('p', {}, T.task.estimated(hours(p.estimated_hours))) : null,
    task.deadline ? h('p', {}, T.tasks.deadline(when(task.deadline))) : null,
    task.claim_minutes ? h('p', {}, T.task.claimMinutes(duration(task.claim_minutes * 60))) : null,
    h('p', { class: 'muted' }, `${T.tasks.skills}: ${(task.required_skills || []).map(T.tasks.skill).join(', ')}`),
    h('h2', {}, T.task.instructions),
    h('p', { class: 'instructions' }, task.instructions || ''),
    task.qualification_skill ? h('p', {}, T.task.qualification(T.tasks.skill(task.qualification_skill))) : null,
    Array.isArray(task.rubric) && task.rubric.length ? h('section', { class: 'rubric', 'aria-labelledby': 'rubric-title' },
      h('h2', { id: 'rubric-title' }, T.task.rubric),
      h('p', { class: 'muted' }, T.task.rubricHint),
      h('ul', {}, task.rubric.map((c) => h('li', {}, c)))) : null,
    task.allows_changes ? h('p', { class: 'muted' }, T.task.allowsChanges) : null,
    claim,
    result,
    h('p', {}, h('a', { href: '#/tareas' }, T.task.back)),
  );
}

// ----------------------------------------------------------------------------------------
// My tasks
// ----------------------------------------------------------------------------------------

async function myTasks(gen) {
  show(gen, T.mine.title, notice(T.loading));
  let result;
  try {
    result = await cached('assignments', () => get('/v1/assignments?limit=100'));
  } catch (err) {
    // Never listed on this device: the tasks seen one by one (a claim keeps its own).
    const seen = err instanceof Unreachable ? (await kv.withPrefix('assignment:')) || [] : [];
    if (seen.length === 0) {
      show(gen, T.mine.title, notice(err.message, 'error'));
      return;
    }
    seen.sort((a, b) => String(b.id).localeCompare(String(a.id)));
    result = { data: { items: seen }, stale: true };
  }
  let amounts = new Map();
  if (!result.stale) {
    try {
      const earnings = await get('/v1/me/earnings');
      for (const a of earnings.assignments || []) amounts.set(a.assignment_id || a.id, a.amount);
    } catch {
      amounts = new Map();
    }
  }
  const items = result.data.items || [];
  for (const a of items) await kv.set(`assignment:${a.id}`, a);
  show(gen, T.mine.title,
    result.stale ? notice(T.mine.offlineCached) : null,
    items.length === 0 ? h('p', {}, T.mine.none, ' ', h('a', { href: '#/tareas' }, T.nav.tasks)) : h('ul', { class: 'cards' }, items.map((a) => h('li', { class: `card assignment st-${a.status}` },
      h('h2', {}, h('a', { href: `#/asignacion/${a.id}` }, a.task_title || a.task_id)),
      h('p', { class: `badge st-${a.status}` }, T.status[a.status] || a.status),
      a.status === 'claimed' || a.status === 'changes_requested' ? h('p', {}, T.mine.expires(when(a.expires_at))) : null,
      h('p', {}, T.mine.logged(duration(a.logged_seconds || 0))),
      a.status === 'approved' ? h('p', { class: 'ok-text' }, T.mine.approved(duration(a.approved_seconds || 0), amounts.get(a.id) ? money(amounts.get(a.id)) : '')) : null,
      DECIDED.has(a.status) ? companySaid(a) : null,
      a.appeal ? h('p', { class: 'muted' }, T.mine.appealState(T.fair.appealStatus[a.appeal.status] || a.appeal.status)) : null,
      appealable(a) ? h('p', { class: 'muted' }, T.mine.appealUntil(deadline(a.appealable_until))) : null,
    ))),
  );
}

// ----------------------------------------------------------------------------------------
// Fair work (issue 21): what the company said, and appeals to the platform
// ----------------------------------------------------------------------------------------

/** Decided by the company: what it said is shown with the work. */
const DECIDED = new Set(['changes_requested', 'rejected', 'approved', 'rejection_held']);

/** What the company said: the reason from its list, the criteria not met, its own words. */
function companySaid(a) {
  const label = a.reason_code ? T.fair.reasonCodes[a.reason_code] || a.reason_code : '';
  const criteria = Array.isArray(a.criteria_not_met) ? a.criteria_not_met : [];
  // Once the platform decides, the decision is shown with the appeal, not as the company's.
  const reason = a.appeal && a.appeal.decision && a.reason === a.appeal.decision ? '' : a.reason;
  if (!label && criteria.length === 0) return reason ? h('p', { class: 'reason' }, T.mine.reason(reason)) : null;
  return h('div', { class: 'reason said' },
    label ? h('p', {}, h('strong', {}, T.mine.codeReason(label))) : null,
    criteria.length ? [h('p', {}, T.mine.criteria), h('ul', {}, criteria.map((c) => h('li', {}, c)))] : null,
    reason ? h('p', {}, T.mine.comment(reason)) : null,
  );
}

/** A rejection held for the platform's review, not decided yet: the status says so, or the
 * platform's review attached to it. */
const heldNow = (a) => a.status === 'rejection_held' || (!!a.appeal && a.appeal.kind === 'held' && a.appeal.status === 'open');

/** The server says until when she may appeal (only while she may); a copy kept on the
 * device may be out of date. */
const appealable = (a) => !a.appeal && !!a.appealable_until && Date.parse(a.appealable_until) > Date.now();

/** Her appeal (or the platform's review of a held rejection): where it stands, and once
 * decided, the platform's written decision. */
function appealState(p) {
  const held = p.kind === 'held';
  const decided = p.status === 'upheld' || p.status === 'overturned';
  return h('section', { class: `card appeal ap-${p.status}`, id: 'appeal-state', 'aria-labelledby': 'appeal-state-title' },
    h('h2', { id: 'appeal-state-title' }, held ? T.appeal.heldTitle : T.appeal.yours),
    h('p', { class: `badge ap-${p.status}` }, T.fair.appealStatus[p.status] || p.status),
    !held && p.filed_at ? h('p', { class: 'muted' }, T.appeal.filed(when(p.filed_at))) : null,
    !held && p.reason ? h('p', { class: 'appeal-reason' }, T.appeal.wrote(p.reason)) : null,
    decided ? null : h('p', {}, (held ? T.appeal.heldReview : T.appeal.review)(deadline(p.due_at))),
    decided ? h('div', { class: 'appeal-decision', id: 'appeal-decision' },
      h('h3', {}, T.appeal.decisionTitle),
      h('p', { class: p.status === 'overturned' ? 'ok-text' : '' }, p.status === 'overturned' ? T.appeal.overturned : T.appeal.upheld),
      p.decision ? h('p', { class: 'instructions' }, p.decision) : null,
      p.status === 'overturned' && p.paid_seconds ? h('p', {}, T.appeal.paid(duration(p.paid_seconds))) : null,
      p.decided_at ? h('p', { class: 'muted' }, T.appeal.decidedAt(when(p.decided_at))) : null) : null,
  );
}

/** The appeal: a button that opens a short form. It needs a connection (like a claim or a
 * submission: what the platform decides cannot wait in a queue on the phone); what she wrote is
 * kept on the device meanwhile, so a dropped signal or a closed app loses nothing. */
async function appealBox(a, rerender) {
  if (a.appeal) return appealState(a.appeal);
  if (!appealable(a)) return null;
  const draftKey = `appeal-draft:${a.id}`;
  const draft = (await kv.get(draftKey)) || '';
  const text = h('textarea', {
    id: 'appeal-reason', name: 'appeal-reason', rows: '4', maxlength: '2000', 'aria-required': 'true', 'aria-describedby': 'appeal-hint',
    oninput: () => kv.set(draftKey, text.value).catch(() => {}),
  }, draft);
  let opener = null;
  const f = form('appeal-form', [
    h('div', { class: 'field' },
      h('label', { for: 'appeal-reason' }, T.appeal.reason),
      h('p', { class: 'muted hint', id: 'appeal-hint' }, T.appeal.reasonHint),
      text),
    h('button', { type: 'submit', class: 'primary' }, T.appeal.send),
    button(T.appeal.cancel, () => {
      f.hidden = true;
      opener.hidden = false;
      opener.focus();
    }, 'appeal-cancel'),
  ], async (data) => {
    const why = String(data.get('appeal-reason') || '').trim();
    if (!why) throw new Error(T.appeal.needReason);
    await kv.set(draftKey, why);
    if (!navigator.onLine) throw new Error(T.appeal.needOnline);
    let appeal;
    try {
      appeal = await post(`/v1/assignments/${a.id}/appeal`, { reason: why });
    } catch (err) {
      if (err instanceof Unreachable) throw new Error(T.appeal.needOnline);
      // Sent before with the answer lost on the way back: the assignment has it already.
      const fresh = await get(`/v1/assignments/${a.id}`).catch(() => null);
      if (!(fresh && fresh.appeal)) throw err;
      appeal = fresh.appeal;
    }
    await kv.remove(draftKey);
    await kv.set(`assignment:${a.id}`, { ...a, appeal, appealable_until: undefined });
    await kv.set(`flash:${a.id}`, T.appeal.sent(deadline(appeal.due_at)));
    rerender();
    return null;
  });
  opener = button(T.appeal.open, () => {
    f.hidden = false;
    opener.hidden = true;
    text.focus();
  }, 'primary appeal-open');
  // A draft left on the device: the form stays open with it.
  f.hidden = !draft;
  opener.hidden = !!draft;
  return h('section', { class: 'card appeal', id: 'appeal', 'aria-labelledby': 'appeal-title' },
    h('h2', { id: 'appeal-title' }, T.appeal.title),
    h('p', {}, T.appeal.intro),
    h('p', { class: 'appeal-until' }, T.appeal.until(deadline(a.appealable_until))),
    opener,
    f,
  );
}

// ----------------------------------------------------------------------------------------
// One assignment: timer, entries, submission
// ----------------------------------------------------------------------------------------

const OPEN = new Set(['claimed', 'changes_requested']);

function isoSecond(ms) {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/** Where a timer started now on this assignment must stop, and why. */
function timerLimit(assignment, task, unsentSeconds, startMs) {
  let limit = null;
  let reason = null;
  const p = (task && task.pricing) || {};
  if (p.kind === 'hourly' && p.max_hours) {
    const left = Number(p.max_hours) * 3600 - (assignment.logged_seconds || 0) - unsentSeconds;
    limit = startMs + Math.max(0, left) * 1000;
    reason = 'task_cap';
  }
  if (assignment.expires_at) {
    const exp = new Date(assignment.expires_at).getTime();
    if (limit === null || exp < limit) {
      limit = exp;
      reason = 'claim_expiry';
    }
  }
  return { limit_ms: limit, limit_reason: reason };
}

async function stopTimer(timer) {
  await kv.remove('timer');
  const now = Date.now();
  const cut = timer.limit_ms && timer.limit_ms < now;
  const end = cut ? timer.limit_ms : now;
  const startS = Math.floor(timer.started_ms / 1000);
  const endS = Math.floor(end / 1000);
  let message;
  if (endS - startS < 1) {
    message = T.timer.tooShort;
  } else {
    await outbox.put({
      client_id: newClientId(),
      assignment_id: timer.assignment_id,
      started_at: isoSecond(startS * 1000),
      ended_at: isoSecond(endS * 1000),
      source: 'timer',
      state: 'pending',
      cut_reason: cut ? timer.limit_reason : null,
      created_ms: now,
    });
    message = cut ? T.timer.cut(duration(endS - startS), T.timer.reasons[timer.limit_reason] || '') : null;
  }
  if (message) await kv.set(`flash:${timer.assignment_id}`, message);
  refreshTimerBar();
  refreshStatus();
  scheduleSync(0);
}

function entryRow(e, { unsent, editable, onEdit, onDelete }) {
  const secs = (new Date(e.ended_at) - new Date(e.started_at)) / 1000;
  return h('li', { class: `entry${unsent ? ` unsent ${e.state}` : ''}` },
    h('p', { class: 'entry-time' }, `${day(e.started_at)}, ${time(e.started_at)} – ${time(e.ended_at)} · ${duration(secs)}`),
    e.note ? h('p', { class: 'muted' }, e.note) : null,
    !unsent && e.source ? h('p', { class: 'muted' }, T.entries.source[e.source] || e.source) : null,
    unsent ? h('p', { class: `tag ${e.state}` }, e.state === 'rejected' ? T.entries.rejectedTag : T.entries.unsentTag) : null,
    unsent && e.cut_reason ? h('p', { class: 'muted' }, T.timer.cut(duration(secs), T.timer.reasons[e.cut_reason] || '')) : null,
    unsent && e.state === 'rejected' ? h('p', { class: 'reason', role: 'alert' }, e.reason) : null,
    editable ? h('div', { class: 'row' },
      button(unsent && e.state === 'rejected' ? T.entries.fixAndSend : T.entries.edit, onEdit, 'small'),
      button(T.entries.remove, onDelete, 'small danger')) : null,
  );
}

function entryForm(id, initial, onSave, onCancel) {
  const now = bogotaParts(new Date().toISOString());
  const start = initial ? bogotaParts(initial.started_at) : now;
  const end = initial ? bogotaParts(initial.ended_at) : now;
  return form(id, [
    field(`${id}-date`, T.entries.date, { type: 'date', required: true, value: start.date }),
    h('div', { class: 'row' },
      field(`${id}-from`, T.entries.from, { type: 'time', required: true, value: initial ? start.time : '' }),
      field(`${id}-to`, T.entries.to, { type: 'time', required: true, value: initial ? end.time : '' })),
    field(`${id}-note`, T.entries.note, { type: 'text', maxlength: '1000', value: initial && initial.note ? initial.note : '' }),
    h('div', { class: 'row' },
      h('button', { type: 'submit', class: 'primary' }, T.entries.save),
      onCancel ? button(T.entries.cancel, onCancel) : null),
  ], async (data) => {
    const date = data.get(`${id}-date`);
    const from = data.get(`${id}-from`);
    const to = data.get(`${id}-to`);
    if (!date || !from || !to) throw new Error(T.entries.endBeforeStart);
    const s = bogotaInstant(date, from);
    const e = bogotaInstant(date, to);
    if (!(e > s)) throw new Error(T.entries.endBeforeStart);
    return onSave({ started_at: isoSecond(s.getTime()), ended_at: isoSecond(e.getTime()), note: data.get(`${id}-note`) || '' });
  });
}

async function assignmentScreen(gen, id) {
  show(gen, T.loading, notice(T.loading));
  let assignment;
  let stale = false;
  try {
    const r = await cached(`assignment:${id}`, () => get(`/v1/assignments/${id}`));
    assignment = r.data;
    stale = r.stale;
  } catch (err) {
    show(gen, T.mine.title, notice(err.message, 'error'));
    return;
  }
  let task = null;
  try {
    task = (await cached(`task:${assignment.task_id}`, () => get(`/v1/tasks/${assignment.task_id}`))).data;
  } catch {
    task = null;
  }
  let serverEntries = [];
  try {
    serverEntries = ((await cached(`entries:${id}`, () => get(`/v1/assignments/${id}/time-entries?limit=100`))).data.items || [])
      .filter((e) => !e.deleted_at);
  } catch {
    serverEntries = [];
  }
  const unsent = (await outbox.all()).filter((e) => e.assignment_id === id);
  const timer = await kv.get('timer');
  const flash = await kv.get(`flash:${id}`);
  if (flash) await kv.remove(`flash:${id}`);
  const open = OPEN.has(assignment.status);
  const rerender = () => route();

  // Timer
  const timerBox = h('section', { class: 'card timer', 'aria-labelledby': 'timer-title' }, h('h2', { id: 'timer-title' }, T.timer.title));
  if (timer && timer.assignment_id === id) {
    timerBox.append(
      h('p', { class: 'big', id: 'timer-running' }, `${T.timer.running('')}`, h('span', { class: 'clock', 'data-since': timer.started_ms }, clock((Date.now() - timer.started_ms) / 1000))),
      h('p', { class: 'muted' }, T.timer.since(when(new Date(timer.started_ms).toISOString()))),
      timer.limit_ms ? h('p', { class: 'muted' }, T.timer.willStop(time(new Date(timer.limit_ms).toISOString()), T.timer.reasons[timer.limit_reason] || '')) : null,
      button(T.timer.stop, async () => {
        const current = await kv.get('timer');
        if (current) await stopTimer(current);
        rerender();
      }, 'primary stop'),
    );
  } else if (open) {
    const msg = h('div', { 'aria-live': 'polite' });
    timerBox.append(button(T.timer.start, async () => {
      if (await kv.get('timer')) {
        msg.replaceChildren(notice(T.timer.otherRunning, 'error'));
        return;
      }
      const startMs = Date.now();
      const unsentSecs = unsent.reduce((n, e) => n + (new Date(e.ended_at) - new Date(e.started_at)) / 1000, 0);
      await kv.set('timer', {
        assignment_id: id,
        task_title: assignment.task_title || (task && task.title) || '',
        started_ms: startMs,
        ...timerLimit(assignment, task, unsentSecs, startMs),
      });
      refreshTimerBar();
      rerender();
    }, 'primary start'), msg);
  }

  // Entries
  const list = h('ul', { class: 'entries' });
  const editing = h('div');
  for (const e of unsent) {
    list.append(entryRow(e, {
      unsent: true,
      editable: true,
      onEdit: () => editing.replaceChildren(entryForm('fix-entry', e, async (changed) => {
        await outbox.put({ ...e, ...changed, state: 'pending', reason: '', code: '', cut_reason: null });
        await syncNow();
        rerender();
      }, () => editing.replaceChildren())),
      onDelete: async () => {
        if (!window.confirm(T.entries.confirmRemove)) return;
        await outbox.remove(e.client_id);
        refreshStatus();
        rerender();
      },
    }));
  }
  for (const e of serverEntries) {
    list.append(entryRow(e, {
      unsent: false,
      editable: open,
      onEdit: () => {
        if (!navigator.onLine) {
          editing.replaceChildren(notice(T.entries.needOnline, 'error'));
          return;
        }
        editing.replaceChildren(entryForm('edit-entry', e, async (changed) => {
          await patch(`/v1/time-entries/${e.id}`, changed);
          rerender();
        }, () => editing.replaceChildren()));
      },
      onDelete: async () => {
        if (!window.confirm(T.entries.confirmRemove)) return;
        try {
          await del(`/v1/time-entries/${e.id}`);
          rerender();
        } catch (err) {
          editing.replaceChildren(notice(err instanceof Unreachable ? T.entries.needOnline : err.message, 'error'));
        }
      },
    }));
  }
  const entriesBox = h('section', { class: 'card', 'aria-labelledby': 'entries-title' },
    h('h2', { id: 'entries-title' }, T.entries.title),
    h('p', {}, T.entries.total(duration(serverEntries.length ? serverEntries.reduce((n, e) => n + (e.seconds || 0), 0) : assignment.logged_seconds || 0))),
    unsent.length === 0 && serverEntries.length === 0 ? h('p', { class: 'muted' }, T.entries.none) : list,
    editing,
  );
  if (open) {
    const addBox = h('details', { class: 'add-entry' }, h('summary', {}, T.entries.add));
    addBox.append(entryForm('new-entry', null, async (entry) => {
      await outbox.put({ client_id: newClientId(), assignment_id: id, source: 'manual', state: 'pending', created_ms: Date.now(), ...entry });
      refreshStatus();
      scheduleSync(0);
      setTimeout(rerender, 50);
      return T.entries.savedOffline;
    }));
    entriesBox.append(addBox);
  }

  // Submission
  let submitBox = null;
  if (open) {
    submitBox = h('section', { class: 'card', 'aria-labelledby': 'submit-title' },
      h('h2', { id: 'submit-title' }, T.submit.title),
      form('submit-work', [
        field('deliverable', T.submit.url, { type: 'url', inputmode: 'url', placeholder: 'https://', value: assignment.deliverable_url || '' }),
        h('div', { class: 'field' }, h('label', { for: 'notes' }, T.submit.notes), h('textarea', { id: 'notes', name: 'notes', rows: '3' }, assignment.notes || '')),
        h('button', { type: 'submit', class: 'primary' }, T.submit.submit),
      ], async (data) => {
        if (!navigator.onLine) throw new Error(T.submit.needOnline);
        if ((await kv.get('timer'))?.assignment_id === id) await stopTimer(await kv.get('timer'));
        await syncNow();
        if ((await outbox.all()).some((e) => e.assignment_id === id)) throw new Error(T.submit.unsentFirst);
        const body = { deliverable_url: data.get('deliverable') || undefined, notes: data.get('notes') || undefined };
        const updated = await post(`/v1/assignments/${id}/submission`, body);
        if (updated && updated.id) await kv.set(`assignment:${id}`, updated);
        await kv.set(`flash:${id}`, T.submit.done);
        rerender();
        return T.submit.done;
      }),
    );
  }

  show(gen, assignment.task_title || (task && task.title) || T.mine.title,
    stale ? notice(T.mine.offlineCached) : null,
    flash ? notice(flash, 'ok') : null,
    h('p', { class: `badge st-${assignment.status}` }, T.status[assignment.status] || assignment.status),
    open ? h('p', {}, T.mine.expires(when(assignment.expires_at))) : null,
    assignment.status === 'approved' ? h('p', { class: 'ok-text' }, T.mine.approved(duration(assignment.approved_seconds || 0), '')) : null,
    companySaid(assignment),
    heldNow(assignment) ? notice(T.mine.held, 'warn') : null,
    await appealBox(assignment, rerender),
    task ? h('p', { class: 'pay' }, pay(task)) : null,
    open || (timer && timer.assignment_id === id) ? timerBox : null,
    entriesBox,
    submitBox,
    h('p', {}, h('a', { href: '#/mis-tareas' }, T.mine.title)),
  );
}

// ----------------------------------------------------------------------------------------
// Money, statements, account
// ----------------------------------------------------------------------------------------

async function moneyScreen(gen) {
  show(gen, T.money.title, notice(T.loading));
  let earnings;
  let payouts;
  let statements = { items: [] };
  let certificates = [];
  try {
    earnings = (await cached('earnings', () => get('/v1/me/earnings'))).data;
    payouts = (await cached('payouts', () => get('/v1/me/payouts'))).data;
    if (me.worker_id) {
      try {
        statements = (await cached('statements', () => get(`/v1/workers/${me.worker_id}/statements`))).data;
      } catch {
        statements = { items: [] };
      }
      // Her yearly certificates of income and withholdings: last year's and this year's, when
      // issued (404 otherwise).
      const year = Number(new Date().toLocaleDateString('en-CA', { timeZone: 'America/Bogota' }).slice(0, 4));
      const years = [year - 1, year];
      certificates = (await Promise.all(years.map((y) => cached(`certificate-${y}`,
        () => get(`/v1/workers/${me.worker_id}/certificates/${y}`)).then((r) => r.data).catch(() => null))))
        .filter(Boolean).reverse();
    }
  } catch (err) {
    show(gen, T.money.title, notice(err instanceof Unreachable ? T.money.needOnline : err.message, 'error'));
    return;
  }
  // The newest version of each month (the list has every version, newest first).
  const latest = (statements.items || []).filter((s, i, all) => all.findIndex((o) => o.month === s.month) === i);
  const figure = (label, value, cls) => h('div', { class: `figure ${cls || ''}` }, h('dt', {}, label), h('dd', {}, money(value)));
  show(gen, T.money.title,
    h('dl', { class: 'figures' },
      figure(T.money.balance, earnings.balance_payable, 'main'),
      figure(T.money.pending, earnings.pending_review),
      figure(T.money.approved, earnings.approved_unpaid),
      earnings.in_transit && earnings.in_transit !== '0' ? figure(T.money.inTransit, earnings.in_transit) : null,
      figure(T.money.paid, earnings.paid, 'paid')),
    h('h2', {}, T.money.payouts),
    (payouts.items || []).length === 0 ? h('p', { class: 'muted' }, T.money.noPayouts) : h('ul', { class: 'cards' }, payouts.items.map((p) => h('li', { class: `card payout ps-${p.status}` },
      h('p', { class: 'big' }, money(p.amount)),
      h('p', {}, `${T.money.payoutStatus[p.status] || p.status} · ${when(p.paid_at || p.created_at)}`),
      h('p', { class: 'muted' }, `${T.money.method[p.method] || p.method || ''} ${p.destination_masked || ''}`.trim()),
      p.withholding && p.withholding !== '0' ? h('p', { class: 'muted' }, T.money.withheld(money(p.withholding))) : null,
      p.status === 'failed' ? h('p', { class: 'reason' }, T.money.failed(p.failure_reason)) : null,
    ))),
    (earnings.assignments || []).length ? h('h2', {}, T.money.byTask) : null,
    (earnings.assignments || []).length ? h('ul', { class: 'plain' }, earnings.assignments.map((a) => h('li', {},
      h('span', {}, `${a.task_title || ''} · ${T.status[a.status] || a.status || ''}`), ' ', h('strong', {}, money(a.amount))))) : null,
    h('h2', {}, T.money.statements),
    latest.length === 0 ? h('p', { class: 'muted' }, T.money.noStatements) : h('ul', { class: 'cards' }, latest.map((s) => h('li', { class: 'card' },
      h('p', { class: 'big' }, month(s.month)),
      h('p', {}, `${s.provisional ? T.money.provisional : T.money.final} · ${T.money.net(money(s.net))}`),
      h('p', { class: 'code' }, T.money.code(s.verification_code)),
      h('a', { class: 'button', href: `/v1/workers/${me.worker_id}/statements/${s.month}/pdf`, download: `certificado-${s.month}.pdf` }, T.money.pdf),
    ))),
    certificates.length ? h('h2', {}, T.money.certificates) : null,
    certificates.length ? h('ul', { class: 'cards' }, certificates.map((c) => h('li', { class: 'card certificate' },
      h('p', { class: 'big' }, String(c.year)),
      h('p', {}, T.money.certificateFigures(money(c.paid), money(c.withheld))),
      h('p', { class: 'code' }, T.money.code(c.verification_code)),
      h('a', { class: 'button', href: `/v1/workers/${me.worker_id}/certificates/${c.year}/pdf`, download: `certificado-retenciones-${c.year}.pdf` }, T.money.pdf),
    ))) : null,
  );
}

// Her fiscal profile and PILA months (issue 20 §2 and §4): what the withholding on her payouts
// and the PILA check of each payout batch read. Online only, like every form of this screen.
async function taxCard() {
  const X = T.account.tax;
  const base = `/v1/workers/${me.worker_id}`;
  let profile;
  let months;
  try {
    profile = await get(`${base}/fiscal-profile`);
    months = await get(`${base}/social-security`);
  } catch {
    return null;
  }
  const check = (id, label, checked) => h('div', { class: 'check' },
    h('input', { type: 'checkbox', id, name: id, checked }), h('label', { for: id }, label));
  const select = (id, label, options, value) => h('div', { class: 'field' }, h('label', { for: id }, label),
    h('select', { id, name: id }, options.map(([v, text]) => h('option', { value: v, selected: v === value }, text))));
  const now = bogotaParts(new Date().toISOString()).date;
  const list = h('ul', { class: 'plain', id: 'pila-months' });
  const drawMonths = (items) => list.replaceChildren(...(items.length ? items.map((m) => h('li', {},
    `${month(m.month)} · ${X.planilla} ${m.planilla} · ${X.health} ${money(m.health)} · ${X.pension} ${money(m.pension)}`)) : [h('li', { class: 'muted' }, X.noMonths)]));
  drawMonths(months.items || []);
  return h('section', { class: 'card', id: 'tax' }, h('h2', {}, X.title),
    h('p', { class: 'muted' }, X.hint),
    form('fiscal-profile', [
      select('concept', X.concept, [['services', X.services], ['honorarios', X.honorarios]], profile.concept),
      check('declarante', X.declarante, profile.declarante),
      check('fewer', X.fewer, profile.fewer_than_two_workers),
      profile.statement_signed_on ? h('p', { class: 'muted' }, X.signedOn(day(`${profile.statement_signed_on}T12:00:00-05:00`))) : null,
      select('arl', X.arl, [['', X.arlNone], ...[1, 2, 3, 4, 5].map((n) => [String(n), X.arlClass(n)])], profile.arl_class ? String(profile.arl_class) : ''),
      h('button', { type: 'submit' }, X.save),
    ], async (data) => {
      const body = {
        concept: data.get('concept'),
        declarante: data.get('declarante') === 'on',
        fewer_than_two_workers: data.get('fewer') === 'on',
      };
      if (data.get('arl')) body.arl_class = Number(data.get('arl'));
      await api('PUT', `${base}/fiscal-profile`, body);
      return X.saved;
    }),
    h('h3', {}, X.pila),
    list,
    form('pila', [
      field('pila-month', X.month, { type: 'month', max: now.slice(0, 7), value: now.slice(0, 7), required: true }),
      field('pila-planilla', X.planilla, { inputmode: 'numeric', autocomplete: 'off', required: true }),
      field('pila-health', X.healthPaid, { inputmode: 'numeric', required: true }),
      field('pila-pension', X.pensionPaid, { inputmode: 'numeric', required: true }),
      h('button', { type: 'submit' }, X.record),
    ], async (data, f) => {
      await api('PUT', `${base}/social-security/${data.get('pila-month')}`, {
        planilla: data.get('pila-planilla'),
        health: pesosTyped(data.get('pila-health')),
        pension: pesosTyped(data.get('pila-pension')),
      });
      drawMonths(((await get(`${base}/social-security`)).items) || []);
      f.reset();
      return X.recorded;
    }));
}

// Her copy of everything Vereda holds about her (Ley 1581 de 2012: the right to know her
// data): the export fetched with her sign-in and saved as a JSON file. Online only. While it
// is on its way the button says so and a second press does nothing (it stays focusable).
function dataCopy() {
  const D = T.dataAccess;
  const msg = h('div', { class: 'copy-msg', 'aria-live': 'polite' });
  let busy = false;
  const b = button(D.copy, async () => {
    if (busy) return;
    busy = true;
    b.setAttribute('aria-disabled', 'true');
    b.textContent = D.copying;
    msg.replaceChildren();
    try {
      if (!navigator.onLine) throw new Unreachable();
      const copy = await get(`/v1/workers/${me.worker_id}/data-export`);
      const file = D.copyFile(bogotaParts(copy.generated_at || new Date().toISOString()).date);
      const url = URL.createObjectURL(new Blob([JSON.stringify(copy, null, 2)], { type: 'application/json' }));
      const a = h('a', { href: url, download: file, hidden: true });
      document.body.append(a);
      a.click();
      a.remove();
      // Some browsers read the blob after the click returns.
      setTimeout(() => URL.revokeObjectURL(url), 60000);
      msg.replaceChildren(notice(D.copyDone(file), 'ok'));
    } catch (err) {
      msg.replaceChildren(err instanceof Unreachable ? notice(D.copyNeedOnline) : notice(err.message, 'error'));
    } finally {
      busy = false;
      b.removeAttribute('aria-disabled');
      b.textContent = D.copy;
    }
  }, 'data-copy');
  b.id = 'data-copy';
  // The same copy as a PDF to read and keep (a plain link: the sign-in cookie goes with it).
  const pdf = h('a', { class: 'button', id: 'data-copy-pdf', href: `/v1/workers/${me.worker_id}/data-export/pdf`, download: 'copia-de-mis-datos.pdf' }, D.copyPdf);
  return h('div', { class: 'data-copy' }, h('p', { class: 'muted' }, D.copyHint), b, ' ', pdf, msg);
}

async function accountScreen(gen) {
  let prefs = null;
  try {
    prefs = await get('/v1/me/email-preferences');
  } catch {
    prefs = null;
  }
  const tax = me.worker_id ? await taxCard() : null;
  show(gen, T.account.title,
    h('p', {}, T.account.signedInAs(me.name, me.email)),
    me.worker_id ? h('section', { class: 'card', id: 'my-data' }, h('h2', {}, T.dataAccess.card),
      h('p', { class: 'muted' }, T.dataAccess.cardHint),
      h('p', {}, h('a', { class: 'button', href: '#/cuenta/consultas' }, T.dataAccess.open)),
      h('div', { class: 'data-requests-link' },
        h('p', { class: 'muted' }, T.dataRequests.openHint),
        h('p', {}, h('a', { class: 'button', href: '#/cuenta/solicitudes' }, T.dataRequests.open))),
      h('div', { class: 'impact-consent-link' },
        h('p', { class: 'muted' }, T.consent.openHint),
        h('p', {}, h('a', { class: 'button', href: '#/cuenta/impacto' }, T.consent.open))),
      dataCopy()) : null,
    tax,
    prefs ? h('section', { class: 'card' }, h('h2', {}, T.account.prefs),
      form('prefs', [
        h('div', { class: 'check' },
          h('input', { type: 'checkbox', id: 'non-essential', name: 'non-essential', checked: prefs.non_essential }),
          h('label', { for: 'non-essential' }, T.account.nonEssential)),
        h('button', { type: 'submit' }, T.account.savePrefs),
      ], async (data) => {
        await patch('/v1/me/email-preferences', { non_essential: data.get('non-essential') === 'on' });
        return T.account.prefsSaved;
      })) : null,
    h('section', { class: 'card' }, h('h2', {}, T.account.password),
      form('password', [
        field('current-password', T.account.current, { type: 'password', autocomplete: 'current-password', required: true }),
        field('new-password', T.account.newPassword, { type: 'password', autocomplete: 'new-password', required: true, minlength: '12' }),
        h('button', { type: 'submit' }, T.account.changePassword),
      ], async (data, f) => {
        await post('/v1/me/password', { current_password: data.get('current-password'), new_password: data.get('new-password') });
        f.reset();
        return T.account.passwordChanged;
      })),
    button(T.signOut, async () => {
      await syncNow().catch(() => {});
      const left = (await outbox.all()).length;
      if (left > 0 && !window.confirm(T.account.unsentOnSignOut(left))) return;
      try {
        await post('/v1/auth/logout');
      } catch {
        // Signed out on this device whatever the server says.
      }
      me = null;
      await clearAll();
      refreshStatus();
      refreshTimerBar();
      go('#/entrar');
    }, 'danger signout'),
  );
}

// Who of Vereda was shown her personal data (issue 22 §4), newest first, a page at a time.
// Online only: the log is not kept on the device.
const READS_PAGE = 20;

async function dataAccessScreen(gen) {
  const D = T.dataAccess;
  if (!me.worker_id) return go('#/cuenta');
  const back = h('p', {}, h('a', { href: '#/cuenta' }, D.back));
  const offline = () => show(gen, D.title, notice(D.needOnline), back);
  if (!navigator.onLine) return offline();
  show(gen, D.title, notice(T.loading));
  const path = `/v1/workers/${me.worker_id}/data-access?limit=${READS_PAGE}`;
  let page;
  try {
    page = await get(path);
  } catch (err) {
    if (err instanceof Unreachable) return offline();
    show(gen, D.title, notice(err.message, 'error'), back);
    return;
  }
  const card = (r) => h('li', { class: 'card data-read' },
    h('p', {}, h('strong', {}, h('time', { datetime: r.at }, D.at(day(r.at), time(r.at))))),
    h('p', { class: 'reader' }, D.who(r.reader_name, r.reader_role)),
    h('p', { class: 'fields' }, D.saw(r.fields_es || (r.fields || []).join(', '))),
    h('p', { class: 'place muted' }, D.where(D.place(r.route))));
  const list = h('ul', { class: 'cards', id: 'data-reads' });
  const moreBox = h('div', { class: 'more' });
  const moreMsg = h('div', { 'aria-live': 'polite' });
  let cursor = null;
  const add = (p) => {
    list.append(...(p.items || []).map(card));
    cursor = p.next_cursor || null;
    moreBox.replaceChildren(...(cursor ? [more] : []));
  };
  const more = button(D.more, async () => {
    more.disabled = true;
    moreMsg.replaceChildren();
    try {
      if (!navigator.onLine) throw new Unreachable();
      add(await get(`${path}&cursor=${encodeURIComponent(cursor)}`));
    } catch (err) {
      moreMsg.replaceChildren(err instanceof Unreachable ? notice(D.moreNeedOnline) : notice(err.message, 'error'));
    } finally {
      more.disabled = false;
    }
  }, 'more-reads');
  add(page);
  show(gen, D.title,
    h('p', { class: 'lead' }, D.intro),
    h('p', { class: 'lead' }, D.companies),
    (page.items || []).length === 0 ? h('p', { id: 'data-reads-none' }, D.none) : list,
    moreBox,
    moreMsg,
    back,
  );
}

// Her requests about her data (issue 22 §3; Ley 1581 de 2012, arts. 14 y 15): a copy (a
// consulta, answered within 10 business days) or a correction (a reclamo, within 15), each
// extendable once with a reason, answered in writing (here and by e-mail). Sending needs a
// connection; what she typed is kept on the device meanwhile (like an appeal), and one press
// sends one request. Her list, as last seen, is kept for when there is no signal.
async function dataRequestsScreen(gen) {
  const D = T.dataRequests;
  if (!me.worker_id) return go('#/cuenta');
  const back = h('p', {}, h('a', { href: '#/cuenta' }, D.back));
  show(gen, D.title, notice(T.loading));
  let items = null;
  let stale = false;
  try {
    const r = await cached('data-requests', () => get('/v1/data-requests?limit=100'));
    items = r.data.items || [];
    stale = r.stale;
  } catch (err) {
    if (!(err instanceof Unreachable)) {
      show(gen, D.title, notice(err.message, 'error'), back);
      return;
    }
  }

  // Her requests, newest first.
  const list = h('div', { id: 'data-requests' });
  const card = (r) => {
    const answered = !!r.answered_at;
    const state = answered ? 'answered' : r.overdue ? 'overdue' : r.extended_at ? 'extended' : 'pending';
    return h('li', { class: `card data-request dr-${state}`, 'data-id': r.id },
      h('h3', {}, D.kind[r.kind] || r.kind),
      h('p', {}, h('span', { class: `badge dr-${state}` }, D.state[state])),
      h('p', { class: 'muted' }, D.filed(day(r.filed_at))),
      r.detail ? h('p', { class: 'wrote' }, D.wrote(r.detail)) : null,
      r.extended_at ? h('div', { class: 'dr-extension' },
        h('p', {}, D.extended(day(r.extended_at))),
        h('p', { class: 'instructions' }, r.extension_reason || ''),
        answered || r.overdue ? null : h('p', { class: 'dr-due' }, D.newDue(D.day(r.due_at)))) : null,
      !answered && !r.extended_at && !r.overdue ? h('p', { class: 'dr-due' }, D.due(D.day(r.due_at))) : null,
      !answered && r.overdue ? h('p', { class: 'dr-due reason' }, D.overdue(D.day(r.due_at))) : null,
      answered ? h('div', { class: 'dr-answer' },
        h('p', {}, h('strong', {}, D.answer(day(r.answered_at)))),
        h('p', { class: 'instructions' }, r.answer || ''),
        h('p', { class: 'muted' }, D.answerByEmail)) : null,
    );
  };
  const drawList = () => list.replaceChildren(
    items === null ? notice(D.needOnlineList)
      : items.length === 0 ? h('p', { id: 'data-requests-none' }, D.none)
        : h('ul', { class: 'cards' }, items.map(card)));
  drawList();

  // The form. Her draft (what she chose and typed) stays on the device until it is sent.
  const draftKey = `data-request-draft:${me.worker_id}`;
  const draft = (await kv.get(draftKey)) || {};
  const saveDraft = () => kv.set(draftKey, { request: chosen(), detail: text.value }).catch(() => {});
  const radio = (value, label) => h('div', { class: 'check' },
    h('input', { type: 'radio', id: `dr-${value}`, name: 'request', value, checked: draft.request === value, onchange: () => { toggle(); saveDraft(); } }),
    h('label', { for: `dr-${value}` }, label));
  const text = h('textarea', {
    id: 'dr-detail', name: 'detail', rows: '4', maxlength: '4000', 'aria-required': 'true', 'aria-describedby': 'dr-detail-hint',
    oninput: saveDraft,
  }, draft.detail || '');
  const detailBox = h('div', { class: 'field', id: 'dr-detail-box' },
    h('label', { for: 'dr-detail' }, D.detail),
    h('p', { class: 'muted hint', id: 'dr-detail-hint' }, D.detailHint),
    text);
  const submit = h('button', { type: 'submit', class: 'primary' }, D.send);
  const netHint = h('div', { class: 'dr-net', 'aria-live': 'polite' });
  const msg = h('div', { class: 'form-msg', 'aria-live': 'polite' });
  const f = h('form', { id: 'data-request-form', novalidate: true },
    h('fieldset', {}, h('legend', {}, D.what), radio('copy', D.copy), radio('correction', D.correction)),
    detailBox, netHint, submit, msg);
  function chosen() {
    const c = f.querySelector('input[name=request]:checked');
    return c ? c.value : '';
  }
  function toggle() {
    detailBox.hidden = chosen() !== 'correction';
  }
  toggle();
  // Offline, the form says so before she presses; once she has left the screen it stops listening.
  let drawn = false;
  const drawNet = () => {
    if (drawn && !f.isConnected) {
      window.removeEventListener('online', drawNet);
      window.removeEventListener('offline', drawNet);
      return;
    }
    drawn = true;
    netHint.replaceChildren(...(navigator.onLine ? [] : [notice(D.offlineNow, 'warn')]));
  };
  drawNet();
  window.addEventListener('online', drawNet);
  window.addEventListener('offline', drawNet);

  let busy = false;
  f.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (busy) return;
    msg.replaceChildren();
    const request = chosen();
    const detail = text.value.trim();
    if (!request) {
      msg.replaceChildren(notice(D.needKind, 'error'));
      return;
    }
    if (request === 'correction' && !detail) {
      msg.replaceChildren(notice(D.needDetail, 'error'));
      text.focus();
      return;
    }
    await saveDraft();
    if (!navigator.onLine) {
      netHint.replaceChildren();
      msg.replaceChildren(notice(D.needOnline, 'warn'));
      return;
    }
    busy = true;
    submit.disabled = true;
    submit.textContent = D.sending;
    const body = request === 'correction' ? { request, detail } : { request };
    const startedMs = Date.now();
    try {
      let filed;
      try {
        filed = await post(`/v1/workers/${me.worker_id}/data-requests`, body);
      } catch (err) {
        if (!(err instanceof Unreachable)) throw err;
        // The answer may have been lost on the way back: a request just like this one, filed
        // since she pressed, is hers already.
        const fresh = await get('/v1/data-requests?limit=20').catch(() => null);
        filed = fresh && (fresh.items || []).find((r) => r.kind === request && (r.detail || '') === (body.detail || '')
          && Date.parse(r.filed_at) >= startedMs - 60 * 1000);
        if (!filed) throw err;
      }
      await kv.remove(draftKey);
      items = [filed, ...(items || []).filter((r) => r.id !== filed.id)];
      await kv.set('data-requests', { items });
      drawList();
      // Cleared by hand: a reset would bring back the draft the form was drawn with.
      text.value = '';
      for (const r of f.querySelectorAll('input[name=request]')) r.checked = false;
      toggle();
      msg.replaceChildren(notice(D.sent(D.day(filed.due_at)), 'ok'));
    } catch (err) {
      msg.replaceChildren(err instanceof Unreachable ? notice(D.needOnline, 'warn') : notice(err.message, 'error'));
    } finally {
      busy = false;
      submit.disabled = false;
      submit.textContent = D.send;
    }
  });

  show(gen, D.title,
    h('section', { class: 'dr-rights' },
      h('p', { class: 'lead' }, D.rights),
      h('p', { class: 'lead' }, D.times),
      h('p', { class: 'lead' }, D.byEmail),
      h('p', {}, h('a', { href: '/privacidad' }, D.privacy))),
    h('section', { class: 'card', id: 'data-request-ask', 'aria-labelledby': 'dr-ask-title' },
      h('h2', { id: 'dr-ask-title' }, D.ask), f),
    h('section', { 'aria-labelledby': 'dr-yours-title' },
      h('h2', { id: 'dr-yours-title' }, D.yours),
      stale ? notice(D.offlineCached) : null,
      list),
    deletionCard(),
    back,
  );
}

// Deleting her personal data (issue 22 §3; Ley 1581 de 2012, art. 15: supresión). What goes and
// what the law keeps are said first; then a second, explicit yes. While work or money still
// ties her it is refused, nothing done, and each reason shows as said by the API. Once done her
// account is closed: the device forgets her and the sign-in screen says what happened.
function deletionCard() {
  const X = T.dataRequests.deletion;
  const msg = h('div', { class: 'form-msg', 'aria-live': 'polite' });
  const understand = h('input', { type: 'checkbox', id: 'dd-understand', name: 'understand' });
  let busy = false;
  const start = button(X.start, () => {
    msg.replaceChildren();
    start.hidden = true;
    confirmBox.hidden = false;
    understand.focus();
  }, 'danger');
  start.id = 'data-delete-start';
  const close = () => {
    confirmBox.hidden = true;
    start.hidden = false;
    understand.checked = false;
  };
  const cancel = button(X.cancel, () => {
    close();
    start.focus();
  });
  cancel.id = 'data-delete-cancel';
  const confirm = button(X.confirm, async () => {
    if (busy) return;
    msg.replaceChildren();
    if (!understand.checked) {
      msg.replaceChildren(notice(X.needUnderstand, 'error'));
      understand.focus();
      return;
    }
    if (!navigator.onLine) {
      msg.replaceChildren(notice(X.needOnline, 'warn'));
      return;
    }
    busy = true;
    confirm.disabled = true;
    confirm.textContent = X.sending;
    try {
      await post(`/v1/workers/${me.worker_id}/data-requests`, { request: 'deletion' });
      me = null;
      await clearAll();
      refreshStatus();
      refreshTimerBar();
      sessionMessage = X.done;
      go('#/entrar');
    } catch (err) {
      if (err instanceof Refusal && err.code === 'deletion_blocked') {
        // «No se pudo…; no se cambió nada.» then one sentence a reason.
        const [first, ...reasons] = err.message.split(/(?<=\.)\s+(?=[A-ZÁÉÍÓÚÑ])/);
        close();
        msg.replaceChildren(h('div', { class: 'notice error', role: 'alert', id: 'data-delete-refused' },
          h('p', {}, h('strong', {}, first)),
          reasons.length ? h('ul', {}, reasons.map((r) => h('li', {}, r))) : null));
      } else {
        msg.replaceChildren(err instanceof Unreachable ? notice(X.needOnline, 'warn') : notice(err.message, 'error'));
      }
    } finally {
      busy = false;
      confirm.disabled = false;
      confirm.textContent = X.confirm;
    }
  }, 'danger');
  confirm.id = 'data-delete-confirm';
  const confirmBox = h('div', { class: 'dd-confirm', id: 'data-delete-box', hidden: true },
    h('h3', {}, X.confirmTitle),
    h('p', {}, X.confirmText),
    h('div', { class: 'check' }, understand, h('label', { for: 'dd-understand' }, X.understand)),
    h('p', { class: 'dd-actions' }, confirm, ' ', cancel));
  return h('section', { class: 'card', id: 'data-delete', 'aria-labelledby': 'dd-title' },
    h('h2', { id: 'dd-title' }, X.title),
    h('p', {}, X.intro),
    h('p', {}, X.erased),
    h('p', {}, X.kept),
    h('p', { class: 'muted' }, X.when),
    start, confirmBox, msg);
}

// ----------------------------------------------------------------------------------------
// Router
// ----------------------------------------------------------------------------------------

const PUBLIC = new Set(['entrar', 'olvido', 'contrasena']);

async function route() {
  const gen = nextScreen();
  const hash = location.hash.replace(/^#\/?/, '');
  const [path, query] = hash.split('?');
  const params = new URLSearchParams(query || '');
  const [screen, arg] = path.split('/');
  if (!me && !PUBLIC.has(screen)) {
    if (location.hash !== '#/entrar') {
      location.hash = '#/entrar';
      return;
    }
  }
  renderNav();
  refreshStatus();
  refreshTimerBar();
  const section = sectionsOf(me).find((s) => s.screens[screen]);
  if (section) return section.screens[screen](gen, arg, params, me);
  // A funder reads the impact report and her own account, nothing else.
  if (me && me.role === 'funder' && screen !== 'cuenta') return go(home());
  switch (screen) {
    case 'entrar':
      if (me) return go(home());
      return signIn(gen);
    case 'olvido':
      return forgot(gen);
    case 'contrasena':
      return resetPassword(gen, params);
    case '':
    case 'tareas':
      if (me.role !== 'worker') return go(home());
      return taskList(gen);
    case 'tarea':
      return taskDetail(gen, arg);
    case 'mis-tareas':
      return myTasks(gen);
    case 'asignacion':
      return assignmentScreen(gen, arg);
    case 'dinero':
      return moneyScreen(gen);
    case 'cuenta':
      if (arg === 'consultas') return dataAccessScreen(gen);
      if (arg === 'impacto') return consentScreen(gen, me);
      if (arg === 'solicitudes') return dataRequestsScreen(gen);
      return accountScreen(gen);
    default:
      return show(gen, T.notFound, h('p', {}, h('a', { href: '#/tareas' }, T.nav.tasks)));
  }
}

async function start() {
  me = (await kv.get('me')) || null;
  if (me && navigator.onLine) {
    try {
      const fresh = await get('/v1/me');
      if (fresh && fresh.id) {
        if (me && me.id !== fresh.id) await clearAll();
        me = fresh;
        await kv.set('me', fresh);
      }
    } catch (err) {
      if (err instanceof Refusal && err.status === 401) {
        me = null;
        await kv.remove('me');
      }
    }
  }
  setRouter(route);
  window.addEventListener('hashchange', route);
  await route();
  document.body.classList.add('ready');
  scheduleSync(0);
  if ('serviceWorker' in navigator) {
    navigator.serviceWorker.register('/sw.js', { scope: '/' }).catch(() => {});
  }
}

start();
