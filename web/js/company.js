// The company owner's screens: the company and its members, posting tasks one at a time or in
// batches from a spreadsheet, their progress, and invoices. Texts in /js/es.js.
// Each screen is `(gen, arg, params, me)`, routed from app.js by the hash's first part.
// Owner only: a reviewer gets none of these links, and these screens send her to the review.
import { T, money, pesosTyped, when, deadline, day, duration, hours, bogotaInstant } from '/js/es.js';
import { api, get, post, patch, del, Refusal } from '/js/api.js';
import { newClientId } from '/js/store.js';
import { h, notice, field, form, button, go, table, figures, badge, office, readCsv, readFile, setFlash, takeFlash } from '/js/ui.js';

const C = T.company;

const isOwner = (me) => Boolean(me && me.role === 'company' && me.member_role === 'owner');


const screen = office;

/** Not the owner: say so, and offer the review queue. */
function ownerOnly(gen, me) {
  if (isOwner(me)) return false;
  screen(gen, T.appName, notice(C.ownerOnly, 'error'), h('p', {}, h('a', { href: '#/revision' }, C.toReview)));
  return true;
}

function failed(gen, title, err) {
  screen(gen, title, notice(err.message || String(err), 'error'), h('p', {}, h('a', { href: company.home }, C.back)));
}


function pay(p) {
  if (!p) return '';
  return p.kind === 'hourly' ? C.task.perHour(money(p.rate), hours(p.max_hours)) : C.task.fixed(money(p.price), hours(p.estimated_hours));
}

const capital = (s) => s.charAt(0).toUpperCase() + s.slice(1);

// ----------------------------------------------------------------------------------------
// The task form: one task, or a batch's template (same fields)
// ----------------------------------------------------------------------------------------

const SKILLS = ['data-entry', 'data-cleaning', 'labelling', 'transcription', 'translation', 'customer-support', 'web-testing', 'content-moderation'];


/** Hours as typed: `2,5` (decimal comma) is 2.5. */
const hoursText = (v) => String(v || '').trim().replace(',', '.');

function wholeNumber(v) {
  const s = String(v || '').trim();
  return /^\d+$/.test(s) ? Number(s) : s === '' ? null : NaN;
}

/**
 * The fields of a task, ids prefixed by `p`. Returns the nodes, a function reading the
 * request body from the form, and one reading `{pricing, slots}` for the cost preview (null
 * while the pay is not written yet).
 */
function taskFields(p, { template = false } = {}) {
  const id = (name) => `${p}-${name}`;
  const text = (name, label, attrs = {}) => field(id(name), label, { type: 'text', ...attrs });
  const hint = (hid, t) => h('p', { class: 'muted hint', id: hid }, t);
  const kindRadio = (value, label, checked) => h('div', { class: 'check' },
    h('input', { type: 'radio', id: id(`kind-${value}`), name: id('kind'), value, checked }),
    h('label', { for: id(`kind-${value}`) }, label));
  const hourly = h('div', { class: 'row pay-hourly', id: id('hourly') },
    text('rate', C.form.rate, { inputmode: 'numeric', autocomplete: 'off', 'aria-describedby': id('pesos-hint') }),
    text('max-hours', C.form.maxHours, { inputmode: 'decimal', autocomplete: 'off', value: '2' }));
  const fixed = h('div', { class: 'row pay-fixed', id: id('fixed'), hidden: true },
    text('price', C.form.price, { inputmode: 'numeric', autocomplete: 'off', 'aria-describedby': id('pesos-hint') }),
    text('estimated-hours', C.form.estimatedHours, { inputmode: 'decimal', autocomplete: 'off', value: '2' }));
  const nodes = [
    text('title', C.form.title, { required: true, maxlength: '200', 'aria-describedby': template ? id('placeholders') : null }),
    h('div', { class: 'field' },
      h('label', { for: id('instructions') }, C.form.instructions),
      h('textarea', { id: id('instructions'), name: id('instructions'), rows: '5', required: true, 'aria-describedby': template ? id('placeholders') : null })),
    template ? hint(id('placeholders'), C.batch.placeholdersHint) : null,
    h('div', { class: 'field' },
      h('label', { for: id('category') }, C.form.category),
      h('select', { id: id('category'), name: id('category') },
        Object.entries(C.categories).map(([value, label]) => h('option', { value }, label)))),
    h('fieldset', { class: 'skills' },
      h('legend', {}, C.form.skills),
      hint(id('skills-hint'), C.form.skillsHint),
      h('div', { class: 'checks' }, SKILLS.map((s) => h('div', { class: 'check' },
        h('input', { type: 'checkbox', id: id(`skill-${s}`), name: id('skill'), value: s }),
        h('label', { for: id(`skill-${s}`) }, capital(T.tasks.skill(s)))))),
      text('other-skills', C.form.otherSkills, { autocomplete: 'off' })),
    h('fieldset', { class: 'pricing' },
      h('legend', {}, C.form.pricing),
      h('div', { class: 'row' }, kindRadio('hourly', C.form.hourly, true), kindRadio('fixed', C.form.fixed, false)),
      hourly,
      fixed,
      hint(id('pesos-hint'), C.form.pesosHint)),
    h('div', { class: 'row' },
      field(id('slots'), C.form.slots, { type: 'number', min: '1', max: '1000', step: '1', value: '1', inputmode: 'numeric' }),
      field(id('claim-hours'), C.form.claimHours, { type: 'number', min: '1', step: 'any', value: '48', inputmode: 'decimal' }),
      field(id('review-days'), C.form.reviewDays, { type: 'number', min: '1', max: '30', step: '1', value: '3', inputmode: 'numeric' })),
    h('div', { class: 'row' },
      field(id('deadline-date'), C.form.deadlineDate, { type: 'date' }),
      field(id('deadline-time'), C.form.deadlineTime, { type: 'time', value: '23:59' })),
    h('fieldset', { class: 'fair' },
      h('legend', {}, C.form.fair),
      h('div', { class: 'field' },
        h('label', { for: id('rubric') }, C.form.rubric),
        hint(id('rubric-hint'), C.form.rubricHint),
        h('textarea', { id: id('rubric'), name: id('rubric'), rows: '4', 'aria-describedby': id('rubric-hint') })),
      h('div', { class: 'check' },
        h('input', { type: 'checkbox', id: id('allows-changes'), name: id('allows-changes'), checked: true, 'aria-describedby': id('changes-hint') }),
        h('label', { for: id('allows-changes') }, C.form.allowsChanges)),
      hint(id('changes-hint'), C.form.allowsChangesHint)),
  ];
  const value = (root, name) => {
    const el = root.querySelector(`#${id(name)}`);
    return el ? el.value : '';
  };
  const kind = (root) => (root.querySelector(`input[name="${id('kind')}"]:checked`) || {}).value || 'hourly';
  const pricing = (root) => (kind(root) === 'hourly'
    ? { kind: 'hourly', rate: pesosTyped(value(root, 'rate')), max_hours: hoursText(value(root, 'max-hours')) }
    : { kind: 'fixed', price: pesosTyped(value(root, 'price')), estimated_hours: hoursText(value(root, 'estimated-hours')) });
  const body = (root) => {
    const skills = [...root.querySelectorAll(`input[name="${id('skill')}"]:checked`)].map((e) => e.value);
    for (const s of value(root, 'other-skills').split(',')) {
      const t = s.trim().toLowerCase().replace(/\s+/g, '-');
      if (t && !skills.includes(t)) skills.push(t);
    }
    const claimHours = Number(hoursText(value(root, 'claim-hours')));
    const date = value(root, 'deadline-date');
    const out = {
      title: value(root, 'title'),
      instructions: value(root, 'instructions'),
      category: value(root, 'category'),
      required_skills: skills,
      pricing: pricing(root),
      slots: wholeNumber(value(root, 'slots')),
      claim_minutes: Number.isFinite(claimHours) ? Math.round(claimHours * 60) : null,
      review_business_days: wholeNumber(value(root, 'review-days')),
      allows_changes: !!(root.querySelector(`#${id('allows-changes')}`) || {}).checked,
    };
    // One criterion a line; none is no rubric.
    const rubric = value(root, 'rubric').split(/\r?\n/).map((c) => c.trim()).filter(Boolean);
    if (rubric.length) out.rubric = rubric;
    if (date) out.deadline = bogotaInstant(date, value(root, 'deadline-time') || '23:59').toISOString();
    return out;
  };
  const previewBody = (root) => {
    const pr = pricing(root);
    const amounts = pr.kind === 'hourly' ? [pr.rate, pr.max_hours] : [pr.price, pr.estimated_hours];
    const slots = wholeNumber(value(root, 'slots'));
    if (amounts.some((a) => !a) || !slots) return null;
    return { pricing: pr, slots };
  };
  /** Show the fields of the chosen kind of pay. */
  const wire = (root, onChange) => {
    const toggle = () => {
      const k = kind(root);
      root.querySelector(`#${id('hourly')}`).hidden = k !== 'hourly';
      root.querySelector(`#${id('fixed')}`).hidden = k !== 'fixed';
    };
    root.addEventListener('change', (ev) => {
      if (ev.target && ev.target.name === id('kind')) toggle();
      onChange();
    });
    root.addEventListener('input', onChange);
    toggle();
  };
  return { nodes, body, previewBody, wire };
}

/** The cost table: one slot and all slots (the CostView of POST /v1/tasks/cost-preview). */
function costTable(c, slots, caption = C.cost.caption) {
  return table(caption, [C.cost.concept, C.cost.oneSlot, C.cost.allSlots(slots)], [
    [C.cost.work, money(c.work), money(c.all_slots_work)],
    [C.cost.fee, money(c.fee), money(c.all_slots_fee)],
    [C.cost.vat, money(c.vat), money(c.all_slots_vat)],
    [C.cost.total, h('strong', {}, money(c.total)), h('strong', {}, money(c.all_slots_total))],
  ], 'cost-table');
}

/**
 * A live cost preview computed by the server (the rule invoices use), refreshed a moment after
 * typing stops; an answer older than the last request is dropped. A pay below the legal
 * minimum shows the server's Spanish refusal as it is typed.
 */
function livePreview(readBody, note = C.cost.note) {
  const out = h('div', { class: 'cost-preview', id: 'cost-preview', 'aria-live': 'polite' }, h('p', { class: 'muted' }, C.cost.hint));
  let timer = null;
  let seq = 0;
  const run = async () => {
    const body = readBody();
    const mine = ++seq;
    if (!body) {
      out.replaceChildren(h('p', { class: 'muted' }, C.cost.hint));
      return;
    }
    out.setAttribute('aria-busy', 'true');
    try {
      const c = await post('/v1/tasks/cost-preview', body);
      if (mine !== seq) return;
      out.replaceChildren(costTable(c, body.slots), h('p', { class: 'muted' }, note));
    } catch (err) {
      if (mine !== seq) return;
      out.replaceChildren(h('p', { class: 'notice error cost-refusal' }, err.message));
    } finally {
      if (mine === seq) out.removeAttribute('aria-busy');
    }
  };
  const schedule = () => {
    clearTimeout(timer);
    timer = setTimeout(run, 350);
  };
  return { node: h('section', { class: 'card', 'aria-labelledby': 'cost-title' }, h('h2', { id: 'cost-title' }, C.cost.title), out), schedule, run };
}

// ----------------------------------------------------------------------------------------
// Tasks and batches
// ----------------------------------------------------------------------------------------

function batchCard(b) {
  const pr = b.progress || {};
  return h('li', { class: 'card batch', 'data-batch': b.id },
    h('h3', {}, h('a', { href: `#/lote/${b.id}` }, b.title)),
    h('p', {}, badge(b.status, C.batchStatus), ' ', C.list.tasksInBatch(b.task_count, b.slots_per_task)),
    figures(['open_slots', 'in_progress', 'to_review', 'approved'].map((k) => [C.progress[k], String(pr[k] ?? 0)]), 'small'),
    h('p', {}, `${C.batch.totalCost}: `, h('strong', {}, money(b.cost && b.cost.total))),
  );
}

function taskCard(t) {
  return h('li', { class: 'card task', 'data-task': t.id },
    h('h3', {}, h('a', { href: `#/tarea-publicada/${t.id}` }, t.title)),
    h('p', {}, badge(t.status, C.taskStatus), ' ', C.list.slotsFree(t.slots_free, t.slots)),
    h('p', { class: 'muted' }, pay(t.pricing)),
    t.batch_id ? h('p', { class: 'muted' }, h('a', { href: `#/lote/${t.batch_id}` }, C.list.inBatch)) : null,
  );
}

async function tasksScreen(gen, _arg, params, me) {
  if (ownerOnly(gen, me)) return;
  const status = params.get('estado') || '';
  screen(gen, C.list.title, notice(T.loading));
  const query = (cursor) => `/v1/tasks?limit=50${status ? `&status=${encodeURIComponent(status)}` : ''}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
  let tasks;
  let batches;
  try {
    [tasks, batches] = await Promise.all([get(query(null)), get('/v1/task-batches?limit=20')]);
  } catch (err) {
    failed(gen, C.list.title, err);
    return;
  }
  const list = h('ul', { class: 'cards grid', id: 'task-list' }, (tasks.items || []).map(taskCard));
  let cursor = tasks.next_cursor;
  const moreBox = h('div');
  const more = button(C.more, async () => {
    more.disabled = true;
    try {
      const page = await get(query(cursor));
      list.append(...(page.items || []).map(taskCard));
      cursor = page.next_cursor;
      if (!cursor) more.remove();
    } catch (err) {
      moreBox.replaceChildren(notice(err.message, 'error'));
    } finally {
      more.disabled = false;
    }
  });
  const filter = form('task-filter', [
    h('div', { class: 'row' },
      h('div', { class: 'field' },
        h('label', { for: 'estado' }, C.list.filter),
        h('select', { id: 'estado', name: 'estado' },
          h('option', { value: '', selected: !status }, C.list.all),
          Object.entries(C.taskStatus).map(([value, label]) => h('option', { value, selected: value === status }, label)))),
      h('button', { type: 'submit' }, C.list.apply)),
  ], async (data) => {
    const s = data.get('estado');
    go(s ? `#/tareas-publicadas?estado=${s}` : '#/tareas-publicadas');
  });
  screen(gen, C.list.title,
    takeFlash(),
    h('p', { class: 'lead' }, C.list.intro),
    h('p', { class: 'actions' },
      h('a', { class: 'button', href: '#/nueva-tarea' }, C.list.newTask),
      h('a', { class: 'button', href: '#/nuevo-lote' }, C.list.newBatch)),
    h('section', { 'aria-labelledby': 'batches-title' },
      h('h2', { id: 'batches-title' }, C.list.batches),
      (batches.items || []).length === 0 ? h('p', { class: 'muted' }, C.list.noBatches) : h('ul', { class: 'cards grid', id: 'batch-list' }, batches.items.map(batchCard))),
    h('section', { 'aria-labelledby': 'tasks-title' },
      h('h2', { id: 'tasks-title' }, C.list.tasks),
      filter,
      (tasks.items || []).length === 0 ? h('p', { class: 'muted' }, C.list.noTasks) : list,
      cursor ? more : null,
      moreBox),
  );
}

/** Publish or cancel after a confirmation, then show the screen again with what happened. */
function action(label, confirmText, path, done, cls = '') {
  const msg = h('div', { 'aria-live': 'polite' });
  const b = button(label, async () => {
    if (confirmText && !window.confirm(confirmText)) return;
    b.disabled = true;
    msg.replaceChildren();
    try {
      await post(path);
      setFlash(done);
      go(location.hash);
    } catch (err) {
      msg.replaceChildren(notice(err.message, 'error'));
      b.disabled = false;
    }
  }, cls);
  return [b, msg];
}

function assignmentCard(a) {
  const open = a.status === 'claimed' || a.status === 'changes_requested';
  let extend = null;
  if (open) {
    const fid = `extend-${a.id}`;
    extend = form(fid, [
      h('div', { class: 'row' },
        h('div', { class: 'field' },
          h('label', { for: `${fid}-minutes` }, C.task.extendBy),
          h('select', { id: `${fid}-minutes`, name: 'minutes' }, C.task.extendOptions.map(([m, label]) => h('option', { value: String(m) }, label)))),
        h('button', { type: 'submit' }, C.task.extendSubmit)),
    ], async (data) => {
      const updated = await post(`/v1/assignments/${a.id}/extend`, { minutes: Number(data.get('minutes')) });
      setFlash(C.task.extended(when(updated.expires_at)));
      go(location.hash);
    });
  }
  return h('li', { class: 'card assignment', 'data-assignment': a.id },
    h('p', {}, badge(a.status, C.assignmentStatus)),
    h('p', {}, C.task.claimedAt(when(a.claimed_at))),
    open ? h('p', {}, C.task.expiresAt(when(a.expires_at))) : null,
    a.submitted_at ? h('p', {}, C.task.submittedAt(when(a.submitted_at))) : null,
    a.status === 'verified' && a.review_due_at ? h('p', { class: 'muted' }, C.task.reviewDue(deadline(a.review_due_at))) : null,
    typeof a.logged_seconds === 'number' ? h('p', {}, C.task.logged(duration(a.logged_seconds))) : null,
    typeof a.approved_seconds === 'number' && a.status === 'approved' ? h('p', { class: 'ok-text' }, C.task.approved(duration(a.approved_seconds))) : null,
    a.reason_code ? h('p', {}, C.task.reason(T.fair.reasonCodes[a.reason_code] || a.reason_code)) : null,
    Array.isArray(a.criteria_not_met) && a.criteria_not_met.length ? h('ul', { class: 'criteria' }, a.criteria_not_met.map((c) => h('li', {}, c))) : null,
    // (Once the platform decides an appeal, its decision is shown as such, below.)
    a.reason && !(a.appeal && a.appeal.decision === a.reason) ? h('p', { class: 'reason' }, a.reason_code ? a.reason : C.task.reason(a.reason)) : null,
    a.appeal ? h('p', { class: 'muted' }, C.appeal(T.fair.appealKinds[a.appeal.kind] || a.appeal.kind, T.fair.appealStatus[a.appeal.status] || a.appeal.status)) : null,
    a.appeal && a.appeal.decision ? h('p', { class: 'instructions' }, C.appealDecision(a.appeal.decision)) : null,
    a.deliverable_url ? h('p', {}, h('a', { href: a.deliverable_url, rel: 'noopener noreferrer', target: '_blank' }, C.task.deliverable)) : null,
    open ? h('details', { class: 'extend' }, h('summary', {}, C.task.extend), extend) : null,
  );
}

async function taskScreen(gen, id, _params, me) {
  if (ownerOnly(gen, me)) return;
  screen(gen, T.loading, notice(T.loading));
  let task;
  let assignments;
  try {
    [task, assignments] = await Promise.all([get(`/v1/tasks/${encodeURIComponent(id)}`), get(`/v1/assignments?task_id=${encodeURIComponent(id)}&limit=100`)]);
  } catch (err) {
    failed(gen, C.list.title, err);
    return;
  }
  const items = assignments.items || [];
  const canCancel = task.status === 'draft' || task.status === 'open';
  screen(gen, task.title,
    takeFlash(),
    h('p', {}, badge(task.status, C.taskStatus), ' ', C.list.slotsFree(task.slots_free, task.slots)),
    h('div', { class: 'actions' },
      task.status === 'draft' ? action(C.task.publish, C.task.confirmPublish, `/v1/tasks/${task.id}/publish`, C.task.published, 'primary publish') : null,
      canCancel ? action(C.task.cancel, C.task.confirmCancel, `/v1/tasks/${task.id}/cancel`, C.task.cancelled, 'danger') : null),
    task.cost ? h('section', { class: 'card', 'aria-labelledby': 'cost-title' }, h('h2', { id: 'cost-title' }, C.cost.title), costTable(task.cost, task.slots), h('p', { class: 'muted' }, C.cost.note)) : null,
    h('section', { class: 'card', 'aria-labelledby': 'terms-title' },
      h('h2', { id: 'terms-title' }, C.task.pay),
      h('p', { class: 'pay' }, pay(task.pricing)),
      h('dl', { class: 'terms' },
        h('dt', {}, C.task.category), h('dd', {}, C.categories[task.category] || task.category),
        h('dt', {}, C.task.skills), h('dd', {}, (task.required_skills || []).length ? task.required_skills.map(T.tasks.skill).join(', ') : C.task.noSkills),
        h('dt', {}, C.task.slots), h('dd', {}, String(task.slots)),
        h('dt', {}, C.task.claimTime), h('dd', {}, duration(task.claim_minutes * 60)),
        h('dt', {}, C.task.reviewTime), h('dd', {}, task.review_business_days ? C.task.businessDays(task.review_business_days) : duration(task.review_hours * 3600)),
        h('dt', {}, C.task.deadline), h('dd', {}, task.deadline ? when(task.deadline) : C.task.noDeadline),
        task.batch_id ? [h('dt', {}, C.task.batch), h('dd', {}, h('a', { href: `#/lote/${task.batch_id}` }, C.batch.see))] : null)),
    h('section', { class: 'card', 'aria-labelledby': 'instr-title' },
      h('h2', { id: 'instr-title' }, C.task.instructions),
      h('p', { class: 'instructions' }, task.instructions || ''),
      Array.isArray(task.rubric) && task.rubric.length ? [h('h3', {}, C.task.rubric), h('ul', { class: 'rubric' }, task.rubric.map((c) => h('li', {}, c)))] : null,
      task.allows_changes ? h('p', { class: 'muted' }, C.task.allowsChanges) : null),
    h('section', { 'aria-labelledby': 'assign-title' },
      h('h2', { id: 'assign-title' }, C.task.assignments),
      items.length === 0 ? h('p', { class: 'muted' }, C.task.noAssignments) : h('ul', { class: 'cards grid', id: 'assignment-list' }, items.map(assignmentCard))),
    h('p', {}, h('a', { href: company.home }, C.back)),
  );
}

async function newTaskScreen(gen, _arg, _params, me) {
  if (ownerOnly(gen, me)) return;
  const fields = taskFields('t');
  const preview = livePreview(() => fields.previewBody(f));
  const f = form('new-task', [
    fields.nodes,
    preview.node,
    h('button', { type: 'submit', class: 'primary' }, C.form.save),
  ], async () => {
    const task = await post('/v1/tasks', fields.body(f));
    setFlash(C.task.draftSaved);
    go(`#/tarea-publicada/${task.id}`);
  });
  fields.wire(f, preview.schedule);
  screen(gen, C.form.newTitle, h('p', { class: 'lead' }, C.form.intro), f);
}

// ----------------------------------------------------------------------------------------
// Batches: a template and a CSV file
// ----------------------------------------------------------------------------------------

const PREVIEW_ROWS = 5;

function filePreview(sheet) {
  const shown = sheet.rows.slice(0, PREVIEW_ROWS);
  return h('div', { class: 'file-preview' },
    h('p', {}, h('strong', {}, C.batch.rows(sheet.rows.length)), ` · ${C.batch.separator(sheet.sep)}`),
    table(C.batch.firstRows(shown.length), [C.batch.line, ...sheet.header],
      shown.map((r) => [String(r.line), ...sheet.header.map((_, i) => r.cells[i] ?? '')]), 'csv-table'));
}

/** A batch as the server answers it: cost, progress, its first tasks, publish and cancel. */
function batchBody(b) {
  const pr = b.progress || {};
  const canCancel = b.status === 'draft' || b.status === 'open';
  return [
    h('p', {}, badge(b.status, C.batchStatus), ' ', C.list.tasksInBatch(b.task_count, b.slots_per_task)),
    h('div', { class: 'actions' },
      b.status === 'draft' ? action(C.batch.publish, C.batch.confirmPublish(b.task_count), `/v1/task-batches/${b.id}/publish`, C.batch.published, 'primary publish') : null,
      canCancel ? action(C.batch.cancel, C.batch.confirmCancel, `/v1/task-batches/${b.id}/cancel`, C.batch.cancelled, 'danger') : null,
      b.status === 'draft' ? null : h('a', { class: 'button', id: 'results-csv', href: `/v1/task-batches/${b.id}/results.csv`, download: `resultados-lote-${b.id}.csv` }, C.batch.results)),
    h('section', { class: 'card', 'aria-labelledby': 'batch-cost-title' },
      h('h2', { id: 'batch-cost-title' }, C.batch.totalCost),
      figures([
        [C.cost.total, money(b.cost.total), 'main batch-total'],
        [C.cost.work, money(b.cost.work)],
        [C.cost.fee, money(b.cost.fee)],
        [C.cost.vat, money(b.cost.vat)],
        [C.batch.tasks, String(b.task_count)],
        [C.batch.slotsPerTask, String(b.slots_per_task)],
      ]),
      h('p', { class: 'muted' }, C.cost.note)),
    h('section', { class: 'card', 'aria-labelledby': 'progress-title' },
      h('h2', { id: 'progress-title' }, C.batch.progress),
      figures(Object.keys(C.progress).map((k) => [C.progress[k], String(pr[k] ?? 0)]), 'small progress')),
    h('section', { 'aria-labelledby': 'preview-title' },
      h('h2', { id: 'preview-title' }, C.batch.preview),
      table(C.batch.preview, [C.batch.line, C.batch.title, ...b.columns],
        (b.preview || []).map((r) => [String(r.line), h('a', { href: `#/tarea-publicada/${r.task_id}` }, r.title), ...b.columns.map((c) => {
          const input = (r.inputs || []).find((i) => i.column === c);
          return input ? input.value : '';
        })]), 'batch-preview', { quietCaption: true })),
    h('p', { class: 'muted' }, C.batch.createdAt(when(b.created_at)),
      b.published_at ? ` · ${C.batch.publishedAt(when(b.published_at))}` : '',
      b.cancelled_at ? ` · ${C.batch.cancelledAt(when(b.cancelled_at))}` : ''),
  ];
}

async function batchScreen(gen, id, _params, me) {
  if (ownerOnly(gen, me)) return;
  screen(gen, T.loading, notice(T.loading));
  let b;
  try {
    b = await get(`/v1/task-batches/${encodeURIComponent(id)}`);
  } catch (err) {
    failed(gen, C.list.title, err);
    return;
  }
  screen(gen, b.title, takeFlash(), batchBody(b), h('p', {}, h('a', { href: company.home }, C.back)));
}

async function newBatchScreen(gen, _arg, _params, me) {
  if (ownerOnly(gen, me)) return;
  const fields = taskFields('b', { template: true });
  const preview = livePreview(() => fields.previewBody(f), C.cost.perTaskNote);
  const fileInfo = h('div', { id: 'file-info', 'aria-live': 'polite' });
  const errorsBox = h('div', { id: 'row-errors' });
  // The file chosen: its text and the key that makes sending it again harmless (a double
  // click, a retry after a lost answer). A different request (the template changed) gets a
  // new key: the server refuses a key reused for another body.
  let file = null;
  const onFile = async (ev) => {
    const chosen = ev.target.files && ev.target.files[0];
    errorsBox.replaceChildren();
    file = null;
    if (!chosen) {
      fileInfo.replaceChildren();
      return;
    }
    try {
      const text = await readFile(chosen, C.batch.unreadable);
      const sheet = readCsv(text);
      file = { text, key: newClientId(), sentBody: null };
      fileInfo.replaceChildren(filePreview(sheet));
    } catch (err) {
      fileInfo.replaceChildren(notice(err.message, 'error'));
    }
  };
  const f = form('new-batch', [
    h('h2', {}, C.batch.templateTitle),
    fields.nodes,
    preview.node,
    h('h2', {}, C.batch.fileTitle),
    h('div', { class: 'field' },
      h('label', { for: 'csv-file' }, C.batch.file),
      h('input', { type: 'file', id: 'csv-file', name: 'csv-file', accept: '.csv,text/csv', 'aria-describedby': 'csv-hint', onchange: onFile }),
      h('p', { class: 'muted hint', id: 'csv-hint' }, C.batch.fileHint)),
    fileInfo,
    errorsBox,
    h('button', { type: 'submit', class: 'primary' }, C.batch.create),
  ], async () => {
    errorsBox.replaceChildren();
    if (!file) throw new Error(C.batch.noFile);
    const body = { template: fields.body(f), csv: file.text };
    const sent = JSON.stringify(body);
    if (file.sentBody !== null && file.sentBody !== sent) file.key = newClientId();
    file.sentBody = sent;
    let b;
    try {
      b = await api('POST', '/v1/task-batches', body, { 'Idempotency-Key': file.key });
    } catch (err) {
      const rows = err instanceof Refusal && err.problem && Array.isArray(err.problem.errors) ? err.problem.errors : null;
      if (!rows) throw err;
      errorsBox.replaceChildren(h('div', { class: 'notice error', role: 'alert' },
        h('p', {}, C.batch.refused),
        h('ul', { class: 'row-errors' }, rows.map((e) => h('li', { 'data-line': e.line, 'data-column': e.column || '' }, e.detail_es)))));
      return null;
    }
    setFlash(C.batch.created(b.task_count));
    screen(gen, b.title, takeFlash(), batchBody(b), h('p', {}, h('a', { href: company.home }, C.back)));
    history.replaceState(null, '', `#/lote/${b.id}`);
    return null;
  });
  fields.wire(f, preview.schedule);
  screen(gen, C.batch.newTitle, h('p', { class: 'lead' }, C.batch.intro), f);
}

// ----------------------------------------------------------------------------------------
// Invoices
// ----------------------------------------------------------------------------------------

function invoiceLinks(inv) {
  return h('p', { class: 'actions' },
    h('a', { class: 'button', href: `/v1/invoices/${inv.id}/pdf`, download: `${inv.number}.pdf` }, C.invoices.pdf),
    h('a', { class: 'button', href: `/v1/invoices/${inv.id}/csv`, download: `${inv.number}.csv` }, C.invoices.csv));
}

async function invoicesScreen(gen, _arg, _params, me) {
  if (ownerOnly(gen, me)) return;
  screen(gen, C.invoices.title, notice(T.loading));
  let list;
  try {
    list = await get('/v1/invoices?limit=50');
  } catch (err) {
    failed(gen, C.invoices.title, err);
    return;
  }
  const items = list.items || [];
  screen(gen, C.invoices.title,
    h('p', {}, h('a', { class: 'button', href: `/v1/companies/${me.company_id}/account-statement/pdf`, download: 'estado-de-cuenta.pdf' }, C.invoices.statement)),
    items.length === 0 ? h('p', { class: 'muted' }, C.invoices.none) : h('ul', { class: 'cards grid', id: 'invoice-list' }, items.map((inv) => h('li', { class: 'card invoice', 'data-invoice': inv.id },
      h('h2', {}, h('a', { href: `#/factura/${inv.id}` }, C.invoices.number(inv.number))),
      h('p', {}, badge(inv.status, C.invoices.status), ' ', C.invoices.issued(day(inv.issued_at)), ' · ', C.invoices.due(day(inv.due_at))),
      figures([[C.invoices.total, money(inv.total)], [C.invoices.outstanding, money(inv.outstanding), 'due']], 'small'),
      invoiceLinks(inv),
    ))),
  );
}

async function invoiceScreen(gen, id, _params, me) {
  if (ownerOnly(gen, me)) return;
  screen(gen, T.loading, notice(T.loading));
  let inv;
  try {
    inv = await get(`/v1/invoices/${encodeURIComponent(id)}`);
  } catch (err) {
    failed(gen, C.invoices.title, err);
    return;
  }
  const I = C.invoices;
  screen(gen, I.number(inv.number),
    h('p', {}, badge(inv.status, I.status), ' ', I.issued(day(inv.issued_at)), ' · ', I.due(day(inv.due_at))),
    h('p', { class: 'muted' }, I.period(day(`${inv.period_end}T12:00:00-05:00`))),
    figures([
      [I.outstanding, money(inv.outstanding), 'main'],
      [I.work, money(inv.work)],
      [I.fee, money(inv.fee)],
      [I.vat, money(inv.vat)],
      [I.total, money(inv.total)],
      [I.paid, money(inv.paid)],
    ]),
    invoiceLinks(inv),
    h('h2', {}, I.lines),
    table(I.linesCaption, [I.task, I.kind, I.time, I.rate, I.work, I.fee], (inv.lines || []).map((l) => [
      l.task_title, I.kinds[l.pricing_kind] || l.pricing_kind, duration(l.seconds), l.rate ? money(l.rate) : '—', money(l.work), money(l.fee),
    ]), 'invoice-lines'),
    h('h2', {}, I.payments),
    (inv.payments || []).length === 0 ? h('p', { class: 'muted' }, I.noPayments) : table(I.payments, [I.paymentDate, I.reference, I.amount, I.state], inv.payments.map((p) => [
      day(p.paid_at), p.reference, money(p.amount), I.paymentStatus[p.status] || p.status,
    ]), 'payments', { quietCaption: true }),
    h('h2', {}, I.creditNotes),
    (inv.credit_notes || []).length === 0 ? h('p', { class: 'muted' }, I.noCreditNotes) : table(I.creditNotes, [I.creditNoteNumber, I.creditNoteReason, I.total, I.state], inv.credit_notes.map((n) => [
      n.number || '—', n.reason, money(n.total), I.creditNoteStatus[n.status] || n.status,
    ]), 'credit-notes', { quietCaption: true }),
    h('p', {}, h('a', { href: '#/facturas' }, I.back)),
  );
}

// ----------------------------------------------------------------------------------------
// The company and its members
// ----------------------------------------------------------------------------------------

async function companyScreen(gen, _arg, _params, me) {
  if (ownerOnly(gen, me)) return;
  const P = C.profile;
  screen(gen, P.title, notice(T.loading));
  const cid = encodeURIComponent(me.company_id);
  let co;
  let members;
  try {
    [co, members] = await Promise.all([get(`/v1/companies/${cid}`), get(`/v1/companies/${cid}/members`)]);
  } catch (err) {
    failed(gen, P.title, err);
    return;
  }
  const profile = form('company-profile', [
    field('co-name', P.name, { type: 'text', required: true, value: co.name, autocomplete: 'organization' }),
    field('co-billing-email', P.billingEmail, { type: 'email', required: true, value: co.billing_email, inputmode: 'email', autocomplete: 'email' }),
    h('div', { class: 'field' },
      h('label', { for: 'co-cycle' }, P.cycle),
      h('select', { id: 'co-cycle', name: 'co-cycle' },
        Object.entries(P.cycles).map(([value, label]) => h('option', { value, selected: value === co.billing_cycle }, label)))),
    h('button', { type: 'submit', class: 'primary' }, P.save),
  ], async (data) => {
    await patch(`/v1/companies/${cid}`, { name: data.get('co-name'), billing_email: data.get('co-billing-email'), billing_cycle: data.get('co-cycle') });
    return P.saved;
  });
  const memberMsg = h('div', { 'aria-live': 'polite' });
  const memberItem = (m) => {
    const self = m.id === me.id;
    const remove = self ? null : button(P.remove, async () => {
      if (!window.confirm(P.confirmRemove(m.name))) return;
      try {
        await del(`/v1/companies/${cid}/members/${encodeURIComponent(m.id)}`);
        setFlash(P.removed(m.name));
        go(location.hash);
      } catch (err) {
        memberMsg.replaceChildren(notice(err.message, 'error'));
      }
    }, 'danger small');
    if (remove) remove.setAttribute('aria-label', `${P.remove}: ${m.name}`);
    return h('li', { 'data-member': m.id },
      h('span', {}, h('strong', {}, m.name), ` ${self ? P.you : ''}`, h('br'), h('span', { class: 'muted' }, `${m.email} · ${P.roles[m.member_role] || m.member_role}`),
        m.deactivated_at ? h('span', { class: 'muted' }, ` · ${P.deactivated}`) : null),
      remove);
  };
  const invite = form('invite', [
    h('p', { class: 'muted' }, P.inviteHint),
    field('invite-name', P.inviteName, { type: 'text', required: true, autocomplete: 'off' }),
    field('invite-email', P.inviteEmail, { type: 'email', required: true, inputmode: 'email', autocomplete: 'off' }),
    h('button', { type: 'submit' }, P.inviteSubmit),
  ], async (data) => {
    const email = data.get('invite-email');
    await post(`/v1/companies/${cid}/members`, { name: data.get('invite-name'), email, member_role: 'reviewer' });
    setFlash(P.invited(email));
    go(location.hash);
  });
  screen(gen, P.title,
    takeFlash(),
    h('section', { class: 'card', 'aria-labelledby': 'co-title' },
      h('h2', { id: 'co-title' }, co.name),
      h('p', { class: 'muted' }, P.nit(co.nit)),
      profile),
    h('section', { class: 'card', 'aria-labelledby': 'members-title' },
      h('h2', { id: 'members-title' }, P.members),
      h('ul', { class: 'plain members', id: 'member-list' }, (members.items || []).map(memberItem)),
      memberMsg),
    h('section', { class: 'card', 'aria-labelledby': 'invite-title' },
      h('h2', { id: 'invite-title' }, P.invite),
      invite),
  );
}

export const company = {
  home: '#/tareas-publicadas',
  for: (me) => me.role === 'company',
  /** Navigation links for this person: `[hash, label]` (none for a reviewer). */
  links: (me) => (isOwner(me)
    ? [
      ['#/tareas-publicadas', C.nav.tasks],
      ['#/nueva-tarea', C.nav.newTask],
      ['#/nuevo-lote', C.nav.newBatch],
      ['#/facturas', C.nav.invoices],
      ['#/empresa', C.nav.company],
    ]
    : []),
  screens: {
    'tareas-publicadas': tasksScreen,
    'tarea-publicada': taskScreen,
    'nueva-tarea': newTaskScreen,
    'nuevo-lote': newBatchScreen,
    lote: batchScreen,
    facturas: invoicesScreen,
    factura: invoiceScreen,
    empresa: companyScreen,
  },
};
