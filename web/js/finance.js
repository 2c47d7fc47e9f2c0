// Finance's screens (roles finance and admin): the month-end dashboard, billing, invoices and
// company payments, payout batches with the bank's files, income statements and documentos
// soporte, the ledger with names, the jobs people started and the e-mails that failed.
// Texts in /js/es.js (T.finance). Each screen is `(gen, arg, params, me)`, routed from app.js.
// Long work runs as a job on the server; a screen follows it (`watchJob`) and shows its progress.
import { T, money, pesosTyped, when, day, month, duration, bogotaInstant, bogotaParts } from '/js/es.js';
import { api, get, post, postFile } from '/js/api.js';
import { newClientId } from '/js/store.js';
import { h, notice, field, form, button, go, table, figures, badge, office, current, setFlash, takeFlash } from '/js/ui.js';

const F = T.finance;
const HOME = '#/cierre';


function failed(gen, title, err) {
  office(gen, title, notice(err.message || String(err), 'error'), h('p', {}, h('a', { href: HOME }, F.back)));
}

const todayBogota = () => bogotaParts(new Date().toISOString()).date;

/** Pesos as exact centavos (BigInt): amounts arrive as decimal strings and are added exactly. */
function cents(value) {
  const [int, frac = ''] = String(value || '0').replace('-', '').split('.');
  const c = BigInt(int || '0') * 100n + BigInt((frac + '00').slice(0, 2));
  return String(value).startsWith('-') ? -c : c;
}
function pesosOf(c) {
  const abs = c < 0n ? -c : c;
  const frac = String(abs % 100n).padStart(2, '0');
  return `${c < 0n ? '-' : ''}${abs / 100n}${frac === '00' ? '' : `.${frac}`}`;
}

/** A labelled select. */
function select(id, label, options, value) {
  return h('div', { class: 'field' }, h('label', { for: id }, label),
    h('select', { id, name: id }, options.map(([v, text]) => h('option', { value: v, selected: v === value }, text))));
}

/** Replace `box`'s content with the nodes given, leaving out the absent ones. */
const fill = (box, ...nodes) => box.replaceChildren(...nodes.filter((n) => n !== null && n !== undefined && n !== false));

/** An amount in a table: kept on one line and right-aligned, as accounts are read. */
const amount = (value) => h('span', { class: 'amount' }, money(value));

/**
 * A list read a page at a time: `items` grows with `load()`; `more(draw)` is the "Ver más"
 * button while a next page exists (it loads it and draws again). `field` names the items in
 * the answer; `head` is the last answer (for figures that come with the list).
 */
function pages(path, query, field = 'items') {
  const list = { items: [], head: null, cursor: null };
  list.load = async () => {
    const q = new URLSearchParams(Object.entries(query).filter(([, v]) => v));
    if (list.cursor) q.set('cursor', list.cursor);
    list.head = await get(`${path}?${q}`);
    list.items.push(...list.head[field]);
    list.cursor = list.head.next_cursor || null;
  };
  list.more = (draw) => (list.cursor ? button(F.more, async () => {
    await list.load();
    draw();
  }) : null);
  return list;
}

const section = (id, title, ...nodes) => h('section', { class: 'card', 'aria-labelledby': id }, h('h2', { id }, title), ...nodes);

// ----------------------------------------------------------------------------------------
// Jobs: started with an Idempotency-Key, followed until they end
// ----------------------------------------------------------------------------------------

function jobProgress(job) {
  if (job.progress && job.progress.total > 0) {
    return h('span', { class: 'job-progress' },
      h('progress', { max: job.progress.total, value: job.progress.done, 'aria-label': F.kind[job.kind] || job.kind }),
      ' ', F.progress(job.progress.done, job.progress.total));
  }
  return job.status === 'queued' ? F.waitingJob : '';
}

/** Start a job and follow it in `box`; `done(job)` draws its end (succeeded or failed). */
async function runJob(gen, box, path, body, done) {
  const job = await api('POST', path, body, { 'Idempotency-Key': newClientId() });
  return watchJob(gen, job.job_id, box, done);
}

async function watchJob(gen, jobId, box, done) {
  for (let wait = 400; current(gen); wait = Math.min(wait * 1.5, 2000)) {
    let job;
    try {
      job = await get(`/v1/jobs/${jobId}`);
    } catch (err) {
      box.replaceChildren(notice(err.message, 'error'));
      return null;
    }
    if (job.status === 'succeeded' || job.status === 'failed') {
      box.replaceChildren();
      done(job);
      return job;
    }
    box.replaceChildren(h('p', { class: 'muted' }, badge(job.status, F.jobStatus), ' ', F.kind[job.kind] || job.kind, ' ', jobProgress(job)));
    await new Promise((r) => setTimeout(r, wait));
  }
  return null;
}

/** What a run left out (nothing lost), in Spanish, as the job's result says. */
function runProblems(result) {
  const list = (result && result.problems) || [];
  if (list.length === 0) return null;
  return h('div', {}, h('p', {}, F.billing.problems), h('ul', {}, list.map((p) => h('li', {}, p.action))));
}

function jobFailed(job) {
  return notice(`${F.jobStatus.failed}: ${job.error || ''}`, 'error');
}

function jobsTable(caption, jobs) {
  return table(caption, [F.runs.kind, F.runs.status, F.runs.progress, F.runs.by, F.runs.at, F.runs.detail], jobs.map((j) => [
    F.kind[j.kind] || j.kind,
    badge(j.status, F.jobStatus),
    j.progress ? F.progress(j.progress.done, j.progress.total) : '—',
    j.requested_by_name || '—',
    when(j.created_at),
    j.status === 'failed' ? h('span', { class: 'error-text' }, j.error || '') : jobLink(j),
  ]));
}

/** What a finished job did, in a few words, with a link to what it made. */
function jobLink(j) {
  const r = j.result || {};
  switch (j.kind) {
    case 'billing_run':
      return j.status === 'succeeded' ? F.billing.issued((r.issued || []).length) : '';
    case 'payout_batch':
      return j.subject_id ? h('a', { href: `#/lote-pagos/${j.subject_id}` }, F.payouts.open) : '';
    case 'bank_confirmation':
      return r.batch_id ? h('a', { href: `#/lote-pagos/${r.batch_id}` }, F.payouts.applied((r.matched || []).length)) : '';
    case 'statement_run':
      return j.subject_id ? month(j.subject_id) : '';
    case 'certificate_run':
      return j.subject_id || '';
    case 'support_document_run':
      return j.subject_id ? F.statements.weekOf(day(j.subject_id)) : '';
    default:
      return '';
  }
}

// ----------------------------------------------------------------------------------------
// The month-end dashboard
// ----------------------------------------------------------------------------------------

async function monthScreen(gen) {
  let tb;
  let aging;
  let jobs;
  let mail;
  try {
    [tb, aging, jobs, mail] = await Promise.all([
      get('/v1/ledger/trial-balance'),
      get('/v1/reports/receivables-aging'),
      get('/v1/jobs?limit=8'),
      get('/v1/admin/outbox?status=failed&limit=200'),
    ]);
  } catch (err) {
    return failed(gen, F.title, err);
  }
  const owed = tb.accounts.filter((a) => a.account.startsWith('worker:') && cents(a.balance) < 0n);
  const payable = owed.reduce((sum, a) => sum - cents(a.balance), 0n);
  const auditBox = h('div', { 'aria-live': 'polite' });
  const audit = button(F.dash.audit, async () => {
    audit.disabled = true;
    try {
      const r = await get('/v1/ledger/audit');
      auditBox.replaceChildren(r.ok
        ? notice(F.dash.auditOk, 'ok')
        : h('div', {}, notice(F.dash.auditBad, 'error'), h('ul', {}, r.checks.filter((c) => !c.ok).map((c) => h('li', {}, `${c.name}: ${c.detail}`)))));
    } catch (err) {
      auditBox.replaceChildren(notice(err.message, 'error'));
    } finally {
      audit.disabled = false;
    }
  });
  const failedMail = mail.items.length;
  return office(gen, F.title,
    takeFlash(),
    failedMail > 0 ? h('p', { class: 'notice error', role: 'status' }, F.dash.failedMail(failedMail), ' ', h('a', { href: '#/correos' }, F.mail.title)) : null,
    section('steps-title', F.dash.steps, h('ol', { class: 'steps' },
      h('li', {}, h('a', { href: '#/facturacion' }, F.dash.step1)),
      h('li', {}, h('a', { href: '#/facturas' }, F.dash.step2)),
      h('li', {}, h('a', { href: '#/pagos' }, F.dash.step3)),
      h('li', {}, h('a', { href: '#/certificados' }, F.dash.step4)))),
    section('books-title', F.dash.books,
      notice(tb.balanced ? F.dash.balanced : F.dash.unbalanced, tb.balanced ? 'ok' : 'error'),
      figures([[F.dash.debits, money(tb.total_debit)], [F.dash.credits, money(tb.total_credit)]]),
      h('div', { class: 'actions' }, audit, h('a', { class: 'button', href: '#/libro' }, F.nav.ledger)),
      auditBox),
    section('receivables-title', F.dash.receivables,
      figures([
        [F.aging.d30, money(aging.totals.days_0_30)],
        [F.aging.d60, money(aging.totals.days_31_60)],
        [F.aging.d90, money(aging.totals.days_61_90)],
        [F.aging.over, money(aging.totals.days_over_90), cents(aging.totals.days_over_90) > 0n ? 'warn' : ''],
        [F.aging.total, money(aging.totals.total), 'total'],
      ]),
      aging.companies.length === 0 ? h('p', {}, F.aging.none) : table(F.dash.receivables,
        [F.aging.company, F.aging.d30, F.aging.d60, F.aging.d90, F.aging.over, F.aging.total],
        aging.companies.map((c) => [c.company_name, amount(c.buckets.days_0_30), amount(c.buckets.days_31_60), amount(c.buckets.days_61_90), amount(c.buckets.days_over_90), amount(c.buckets.total)]),
        '', { quietCaption: true })),
    section('payables-title', F.dash.payables,
      figures([[F.dash.payables, money(pesosOf(payable)), 'total']]),
      h('p', {}, F.dash.payablesNote(owed.length), ' ', h('a', { href: '#/pagos' }, F.payouts.create))),
    section('runs-title', F.dash.lastRuns,
      jobs.items.length === 0 ? h('p', {}, F.dash.noRuns) : jobsTable(F.dash.lastRuns, jobs.items),
      h('p', {}, h('a', { href: '#/trabajos' }, F.jobs.title))),
  );
}

// ----------------------------------------------------------------------------------------
// Billing
// ----------------------------------------------------------------------------------------

function billingScreen(gen) {
  const box = h('div', { 'aria-live': 'polite', id: 'billing-progress' });
  const outcome = h('div', { id: 'billing-result' });
  return office(gen, F.billing.title,
    h('p', {}, F.billing.hint),
    form('billing', [
      field('period_end', F.billing.periodEnd, { type: 'date', value: todayBogota(), max: todayBogota(), required: true }),
      h('button', { type: 'submit', class: 'primary' }, F.billing.start),
    ], async (data) => {
      outcome.replaceChildren();
      await runJob(gen, box, '/v1/billing-runs', { period_end: data.get('period_end') }, (job) => {
        if (job.status === 'failed') return outcome.replaceChildren(jobFailed(job));
        const r = job.result || {};
        fill(outcome,
          notice(F.billing.issued((r.issued || []).length), 'ok'),
          (r.issued || []).length ? h('p', {}, r.issued.join(', '), ' · ', h('a', { href: '#/facturas' }, F.invoices.title)) : null,
          r.already_invoiced ? h('p', { class: 'muted' }, F.billing.already(r.already_invoiced)) : null,
          runProblems(r));
      });
    }),
    box, outcome,
    h('p', {}, h('a', { href: HOME }, F.back)));
}

// ----------------------------------------------------------------------------------------
// Invoices and company payments
// ----------------------------------------------------------------------------------------

const I = F.invoices;

async function invoicesScreen(gen, _arg, params) {
  const status = params.get('estado') || '';
  const list = pages('/v1/invoices', { limit: '50', status });
  try {
    await list.load();
  } catch (err) {
    return failed(gen, I.title, err);
  }
  const draw = () => office(gen, I.title,
    takeFlash(),
    form('invoice-filter', [
      select('estado', I.filter, [['', I.all], ...Object.entries(I.states)], status),
      h('button', { type: 'submit' }, I.filter),
    ], async (data) => go(`#/facturas${data.get('estado') ? `?estado=${data.get('estado')}` : ''}`)),
    list.items.length === 0 ? h('p', {}, I.none) : table(I.title,
      [I.number, I.company, I.issued, I.due, I.total, I.outstanding, I.status],
      list.items.map((inv) => [
        h('a', { href: `#/factura/${inv.id}` }, inv.number),
        inv.company_name,
        day(inv.issued_at),
        day(inv.due_at),
        amount(inv.total),
        amount(inv.outstanding),
        badge(inv.status, I.states),
      ]), '', { quietCaption: true }),
    list.more(draw),
    h('p', {}, h('a', { href: HOME }, F.back)));
  return draw();
}

async function invoiceScreen(gen, id) {
  let inv;
  try {
    inv = await get(`/v1/invoices/${id}`);
  } catch (err) {
    return failed(gen, I.title, err);
  }
  const open = inv.status !== 'void' && cents(inv.outstanding) > 0n;
  const box = h('div', { 'aria-live': 'polite' });
  const reload = (message) => {
    setFlash(message);
    go(`#/factura/${id}`);
  };
  const payForm = form('payment', [
    h('p', { class: 'muted' }, I.recordHint),
    field('amount', I.amount, { inputmode: 'numeric', required: true, autocomplete: 'off' }),
    field('paid_at', I.paidAt, { type: 'date', value: todayBogota(), max: todayBogota(), required: true }),
    field('reference', I.reference, { required: true, maxlength: 200, autocomplete: 'off' }),
    h('div', { class: 'check' }, h('input', { type: 'checkbox', id: 'allow_duplicate', name: 'allow_duplicate' }), h('label', { for: 'allow_duplicate' }, I.duplicate)),
    h('button', { type: 'submit', class: 'primary' }, I.submit),
  ], async (data) => {
    const amount = pesosTyped(data.get('amount'));
    const reference = String(data.get('reference') || '').trim();
    const body = {
      amount,
      paid_at: bogotaInstant(data.get('paid_at'), '12:00').toISOString(),
      reference,
      allow_duplicate_reference: data.get('allow_duplicate') === 'on',
    };
    await runJob(gen, box, `/v1/invoices/${id}/payments`, body, (job) => {
      if (job.status === 'failed') return box.replaceChildren(jobFailed(job));
      return reload(I.recorded(money(amount), reference));
    });
  });
  // Reversing a payment asks why (kept with the reversal and in the ledger) in a small form.
  const reversal = h('div', { id: 'reversal', 'aria-live': 'polite' });
  const reverseButton = (p) => button(I.reverse, () => {
    reversal.replaceChildren(section('reversal-title', I.reverseTitle(p.reference, money(p.amount)),
      form('reverse', [
        field('reason', I.reverseReason, { required: true, maxlength: 2000, autocomplete: 'off' }),
        h('div', { class: 'actions' },
          h('button', { type: 'submit', class: 'primary' }, I.reverseSubmit),
          button(I.cancel, () => reversal.replaceChildren())),
      ], async (data) => {
        const reason = String(data.get('reason') || '').trim();
        if (!reason) throw new Error(I.reverseReasonMissing);
        await runJob(gen, box, `/v1/payments/${p.id}/reversal`, { reason }, (job) => {
          if (job.status === 'failed') return box.replaceChildren(jobFailed(job));
          return reload(I.reversed(p.reference));
        });
      })));
    reversal.querySelector('#reason').focus();
  });
  const creditForm = form('credit-note', [
    h('p', { class: 'muted' }, I.creditHint),
    field('reason', I.reason, { required: true, maxlength: 2000 }),
    field('work', I.work, { inputmode: 'numeric', value: '0' }),
    field('fee', I.fee, { inputmode: 'numeric', value: '0' }),
    h('button', { type: 'submit' }, I.creditSubmit),
  ], async (data) => {
    const body = { reason: data.get('reason'), work: data.get('work') || '0', fee: data.get('fee') || '0' };
    await runJob(gen, box, `/v1/invoices/${id}/credit-notes`, body, (job) => {
      if (job.status === 'failed') return box.replaceChildren(jobFailed(job));
      return reload(I.credited);
    });
  });
  return office(gen, `${inv.number} · ${inv.company_name}`,
    takeFlash(),
    h('p', {}, badge(inv.status, I.states)),
    figures([
      [I.issued, day(inv.issued_at)],
      [I.due, day(inv.due_at)],
      [I.work, money(inv.work)],
      [I.fee, money(inv.fee)],
      [I.vat, money(inv.vat)],
      [I.total, money(inv.total), 'total'],
      [I.paid, money(inv.paid)],
      [I.outstanding, money(inv.outstanding), open ? 'warn' : ''],
    ]),
    h('div', { class: 'actions' },
      h('a', { class: 'button', href: `/v1/invoices/${inv.id}/pdf`, download: `${inv.number}.pdf` }, I.pdf),
      h('a', { class: 'button', href: `/v1/invoices/${inv.id}/csv`, download: `${inv.number}.csv` }, I.csv),
      h('a', { class: 'button', href: `/v1/companies/${inv.company_id}/account-statement/pdf`, download: 'estado-de-cuenta.pdf' }, I.statementPdf)),
    section('payments-title', I.payments,
      inv.payments.length === 0 ? h('p', {}, I.noPayments) : table(I.payments,
        [I.paidAt, I.amount, I.reference, I.recordedBy, I.status, I.action],
        inv.payments.map((p) => [day(p.paid_at), amount(p.amount), p.reference, p.recorded_by_name || '—',
          h('span', {}, badge(p.status, I.paymentStatus), p.reversal_reason ? h('span', { class: 'muted' }, ` ${p.reversal_reason}`) : null),
          p.status === 'posted' ? reverseButton(p) : '']),
        '', { quietCaption: true })),
    reversal,
    open ? section('record-title', I.record, payForm) : null,
    box,
    section('lines-title', I.lines, table(I.lines,
      [I.task, I.time, I.work, I.fee],
      inv.lines.map((l) => [l.task_title, l.pricing_kind === 'hourly' ? duration(l.seconds) : '—', amount(l.work), amount(l.fee)]),
      '', { quietCaption: true })),
    section('notes-title', I.notes,
      inv.credit_notes.length === 0 ? h('p', {}, I.noNotes) : table(I.notes,
        [I.number, I.reason, I.total, I.status],
        inv.credit_notes.map((n) => [n.number || '—', n.reason, amount(n.total), badge(n.status, I.noteStatus)]),
        '', { quietCaption: true }),
      inv.status !== 'void' ? h('details', {}, h('summary', {}, I.credit), creditForm) : null),
    h('p', {}, h('a', { href: '#/facturas' }, I.title)));
}

// ----------------------------------------------------------------------------------------
// Payout batches, the bank's file and its confirmation
// ----------------------------------------------------------------------------------------

const P = F.payouts;

async function payoutsScreen(gen) {
  let list;
  try {
    list = await get('/v1/payout-batches?limit=100');
  } catch (err) {
    return failed(gen, P.title, err);
  }
  const box = h('div', { 'aria-live': 'polite' });
  const create = button(P.create, async () => {
    create.disabled = true;
    try {
      await runJob(gen, box, '/v1/payout-batches', {}, (job) => {
        if (job.status === 'failed') return box.replaceChildren(jobFailed(job));
        const r = job.result || {};
        setFlash(P.created(r.lines || 0, money(r.total || '0')));
        return go(`#/lote-pagos/${job.subject_id}`);
      });
    } catch (err) {
      box.replaceChildren(notice(err.message, 'error'));
    } finally {
      create.disabled = false;
    }
  }, 'primary');
  return office(gen, P.title,
    takeFlash(),
    h('p', {}, P.hint),
    h('div', { class: 'actions' }, create), box,
    list.items.length === 0 ? h('p', {}, P.none) : table(P.title,
      [P.batch, P.status, P.lines, P.pending, P.paid, P.failed, P.total],
      list.items.map((b) => [
        h('a', { href: `#/lote-pagos/${b.id}` }, day(b.created_at)),
        badge(b.status, P.states),
        b.lines, b.pending, b.paid, b.failed,
        amount(b.total),
      ]), '', { quietCaption: true }),
    h('p', {}, h('a', { href: HOME }, F.back)));
}

/** The last confirmation's result per batch, kept while finance looks at the batch. */
const results = new Map();

function confirmationResult(r) {
  const rows = (list, text) => list.map((x) => h('li', {}, `${P.line} ${x.line} · ${x.reference || '—'}: ${text(x)}`));
  const group = (title, list, text, cls) => (list && list.length
    ? h('div', { class: `result-group ${cls}` }, h('h3', {}, `${title} (${list.length})`), h('ul', {}, rows(list, text)))
    : null);
  return section('result-title', P.result,
    group(P.matched, r.matched, (x) => (x.status === 'failed' ? P.failedRow : P.paidRow), 'ok'),
    group(P.mismatched, r.mismatched, (x) => x.detail || '', 'warn'),
    group(P.unknown, r.unknown, () => P.unknown, 'warn'),
    group(P.already, r.already_settled, (x) => x.detail || P.already, ''),
    group(P.invalid, r.invalid, (x) => x.detail || '', 'warn'));
}

async function batchScreen(gen, id) {
  let b;
  try {
    b = await get(`/v1/payout-batches/${id}`);
  } catch (err) {
    return failed(gen, P.title, err);
  }
  const box = h('div', { 'aria-live': 'polite', id: 'confirmation-progress' });
  const upload = form('confirmation', [
    h('p', { class: 'muted' }, P.uploadHint),
    h('div', { class: 'field' }, h('label', { for: 'confirmation-file' }, P.file),
      h('input', { type: 'file', id: 'confirmation-file', name: 'file', accept: '.csv,text/csv,text/plain' })),
    h('button', { type: 'submit', class: 'primary' }, P.send),
  ], async (data) => {
    const file = data.get('file');
    if (!file || !file.size) throw new Error(P.noFile);
    let started;
    try {
      started = await postFile(`/v1/payout-batches/${id}/confirmations`, file);
    } catch (err) {
      const rows = (err.problem && err.problem.errors) || [];
      if (rows.length) {
        box.replaceChildren(notice(err.message, 'error'), h('ul', {}, rows.map((r) => h('li', {}, `${P.line} ${r.line}: ${r.detail_es}`))));
        return null;
      }
      throw err;
    }
    await watchJob(gen, started.job_id, box, (job) => {
      if (job.status === 'failed') return box.replaceChildren(jobFailed(job));
      results.set(id, job.result);
      return go(`#/lote-pagos/${id}`);
    });
    return null;
  });
  const result = results.get(id);
  return office(gen, P.batchTitle(day(b.created_at)),
    takeFlash(),
    h('p', {}, badge(b.status, P.states)),
    figures([
      [P.lines, String(b.lines.length)],
      [P.pending, String(b.lines.filter((l) => l.status === 'pending').length)],
      [P.paid, String(b.lines.filter((l) => l.status === 'paid').length)],
      [P.failed, String(b.lines.filter((l) => l.status === 'failed').length)],
      [P.total, money(b.total), 'total'],
    ]),
    result ? confirmationResult(result) : null,
    (b.notices || []).length ? section('notices-title', P.notices,
      h('p', { class: 'muted' }, P.noticesHint),
      table(P.notices, [P.worker, P.notice, P.message], b.notices.map((n) => [
        n.worker_name || n.worker_id.slice(0, 8),
        badge(n.held ? 'held' : 'flagged', P.noticeStates),
        h('span', {}, `${P.codes[n.code] || n.code}: ${n.message}`),
      ]), '', { quietCaption: true })) : null,
    b.lines.length ? h('div', { class: 'actions' },
      h('a', { class: 'button', id: 'bank-file', href: `/v1/payout-batches/${b.id}/export`, download: `pagos-${b.id}.csv` }, P.download)) : null,
    table(P.batch, [P.worker, P.method, P.reference, P.amount, P.withholding, P.status], b.lines.map((l) => [
      l.worker_name || l.worker_id.slice(0, 8),
      P.methods[l.method] || l.method,
      l.reference,
      amount(l.amount),
      amount(l.withholding),
      badge(l.status, P.lineStatus),
    ]), '', { quietCaption: true }),
    b.lines.some((l) => l.status === 'pending') ? section('upload-title', P.upload, upload, box) : null,
    h('p', {}, h('a', { href: '#/pagos' }, P.backList)));
}

// ----------------------------------------------------------------------------------------
// Income statements and documentos soporte
// ----------------------------------------------------------------------------------------

const S = F.statements;

/** The Monday of the week before the one `today` (`YYYY-MM-DD`, Bogotá) is in. */
function lastMonday(today) {
  const d = new Date(`${today}T12:00:00Z`);
  const sinceMonday = (d.getUTCDay() + 6) % 7;
  d.setUTCDate(d.getUTCDate() - sinceMonday - 7);
  return d.toISOString().slice(0, 10);
}

async function statementsScreen(gen) {
  let docs;
  try {
    docs = await get('/v1/support-documents?limit=100');
  } catch (err) {
    return failed(gen, S.title, err);
  }
  const now = todayBogota();
  const box = h('div', { 'aria-live': 'polite' });
  const outcome = h('div', { id: 'statement-result' });
  const weekBox = h('div', { 'aria-live': 'polite' });
  const weekOutcome = h('div', { id: 'support-result', 'aria-live': 'polite' });
  const annulBox = h('div', { id: 'annul', 'aria-live': 'polite' });
  const docsBox = h('div', { id: 'support-documents' });
  // What a run or an annulment issued shows at once: the list is read again.
  const redraw = async () => {
    try {
      docs = await get('/v1/support-documents?limit=100');
    } catch (err) {
      return docsBox.replaceChildren(notice(err.message || String(err), 'error'));
    }
    return docsBox.replaceChildren(supportTable(docs.items, (d) => annulForm(gen, d, annulBox, weekBox, weekOutcome, redraw)));
  };
  docsBox.replaceChildren(supportTable(docs.items, (d) => annulForm(gen, d, annulBox, weekBox, weekOutcome, redraw)));
  return office(gen, S.title,
    h('p', {}, S.hint),
    form('statement-run', [
      field('month', S.month, { type: 'month', value: now.slice(0, 7), max: now.slice(0, 7), required: true }),
      h('button', { type: 'submit', class: 'primary' }, S.start),
    ], async (data) => {
      outcome.replaceChildren();
      await runJob(gen, box, '/v1/statement-runs', { month: data.get('month') }, (job) => {
        if (job.status === 'failed') return outcome.replaceChildren(jobFailed(job));
        const r = job.result || {};
        return fill(outcome, notice(S.done(r.workers || 0, r.new_versions || 0), 'ok'), runProblems(r));
      });
    }),
    box, outcome,
    section('support-title', S.support,
      h('p', {}, S.supportHint),
      h('p', {}, S.weekRunHint),
      form('support-run', [
        h('button', { type: 'submit' }, S.weekRun),
      ], async () => {
        weekOutcome.replaceChildren();
        await runJob(gen, weekBox, '/v1/support-document-runs', { week: lastMonday(now) }, (job) => {
          if (job.status === 'failed') return weekOutcome.replaceChildren(jobFailed(job));
          const r = job.result || {};
          fill(weekOutcome, notice(S.weekDone(r.documents || 0, r.adjustments || 0), 'ok'), runProblems(r));
          return redraw();
        });
      }),
      weekBox, weekOutcome, docsBox, annulBox),
    h('p', {}, h('a', { href: HOME }, F.back)));
}

/** The documentos soporte and notas de ajuste, newest first, each with its PDF; a weekly
 *  document not corrected yet can be annulled (`annul(d)` opens the form). */
function supportTable(items, annul) {
  if (items.length === 0) return h('p', {}, S.supportNone);
  // The nota de ajuste that corrected each document, by the document's number.
  const correctedBy = new Map(items.filter((d) => d.corrects).map((d) => [d.corrects, d.number]));
  return table(S.support,
    [S.number, S.worker, S.document, S.period, S.amount, S.issued, S.actions],
    items.map((d) => [
      d.corrects ? h('span', {}, d.number, h('br'), h('small', {}, S.corrects(d.corrects))) : d.number,
      d.worker_name, d.worker_document_id || '—',
      d.week_start ? S.week(day(d.week_start), day(d.week_end)) : month(d.month),
      amount(d.amount), day(d.issued_on),
      h('span', {},
        h('a', { href: `/v1/support-documents/${d.id}/pdf`, download: `${d.number}.pdf` }, S.pdf),
        correctedBy.has(d.number) ? h('span', { class: 'muted' }, ' · ', S.correctedBy(correctedBy.get(d.number)))
          : (d.kind === 'document' && d.week_start ? [' · ', button(S.annul, () => annul(d), 'link')] : null)),
    ]),
    '', { quietCaption: true });
}

/** Annul a weekly documento soporte (a nota de ajuste), follow the run that issues it again
 *  with the worker's data as they are now, and draw the list again. */
function annulForm(gen, d, box, jobBox, outcome, redraw) {
  box.replaceChildren(
    h('h3', {}, S.annulTitle(d.number, d.worker_name)),
    h('p', {}, S.annulHint),
    form('annul-form', [
      field('reason', S.reason, { required: true, minlength: 10, maxlength: 500, autocomplete: 'off' }),
      h('button', { type: 'submit', class: 'primary' }, S.annulConfirm),
      ' ', button(S.cancel, () => box.replaceChildren()),
    ], async (data) => {
      const r = await post(`/v1/support-documents/${d.id}/annulment`, { reason: String(data.get('reason') || '').trim() });
      box.replaceChildren();
      const said = S.annulledAs(r.adjustment.number, d.number);
      outcome.replaceChildren(notice(said, 'ok'));
      await redraw();
      await watchJob(gen, r.job_id, jobBox, (job) => {
        if (job.status === 'failed') return outcome.replaceChildren(notice(said, 'ok'), jobFailed(job));
        const res = job.result || {};
        fill(outcome, notice(`${said} ${S.weekDone(res.documents || 0, res.adjustments || 0)}`, 'ok'), runProblems(res));
        return redraw();
      });
    }));
  box.scrollIntoView({ block: 'nearest' });
  box.querySelector('input').focus();
}

// ----------------------------------------------------------------------------------------
// Withholding: the monthly report for the platform's filing, and the yearly certificates
// ----------------------------------------------------------------------------------------

const W = F.withholding;

async function withholdingScreen(gen, _arg, params) {
  const now = todayBogota();
  const chosen = params.get('mes') || now.slice(0, 7);
  let r;
  try {
    r = await get(`/v1/withholding-reports/${chosen}`);
  } catch (err) {
    return failed(gen, W.title, err);
  }
  const ties = cents(r.withheld) === cents(r.account_movement);
  const box = h('div', { 'aria-live': 'polite' });
  const outcome = h('div', { id: 'certificate-result' });
  return office(gen, W.title,
    h('p', {}, W.hint),
    form('report-month', [
      field('mes', W.month, { type: 'month', value: chosen, max: now.slice(0, 7), required: true }),
      h('button', { type: 'submit' }, W.show),
    ], async (data) => go(`#/retenciones?mes=${data.get('mes')}`)),
    r.rows.length === 0 ? h('p', {}, W.none(month(chosen))) : table(W.report(month(chosen)),
      [W.concept, W.rule, W.payments, W.payees, W.base, W.withheld],
      r.rows.map((x) => [W.concepts[x.concept] || x.concept, W.rules[x.rule] || x.rule, String(x.payments), String(x.payees), amount(x.paid), amount(x.withheld)])),
    figures([
      [W.base, money(r.paid)],
      [W.withheld, money(r.withheld), 'total'],
      [W.account, money(r.account_movement)],
    ]),
    notice(ties ? W.ties : W.differs, ties ? 'ok' : 'warn'),
    h('div', { class: 'actions' },
      h('a', { class: 'button', id: 'report-csv', href: `/v1/withholding-reports/${chosen}/csv`, download: `retenciones-${chosen}.csv` }, W.csv)),
    section('certificates-title', W.certificates,
      h('p', { class: 'muted' }, W.certificatesHint),
      form('certificate-run', [
        field('year', W.year, { type: 'number', value: String(Number(now.slice(0, 4)) - 1), min: '2000', max: now.slice(0, 4), required: true }),
        h('button', { type: 'submit', class: 'primary' }, W.start),
      ], async (data) => {
        outcome.replaceChildren();
        await runJob(gen, box, '/v1/certificate-runs', { year: Number(data.get('year')) }, (job) => {
          if (job.status === 'failed') return outcome.replaceChildren(jobFailed(job));
          const res = job.result || {};
          return fill(outcome, notice(W.done(res.workers || 0, res.new_versions || 0), 'ok'), runProblems(res));
        });
      }),
      box, outcome),
    h('p', {}, h('a', { href: HOME }, F.back)));
}

// ----------------------------------------------------------------------------------------
// The ledger, with names
// ----------------------------------------------------------------------------------------

const L = F.ledger;

async function ledgerScreen(gen) {
  let tb;
  try {
    tb = await get('/v1/ledger/trial-balance');
  } catch (err) {
    return failed(gen, L.title, err);
  }
  return office(gen, L.title,
    notice(tb.balanced ? F.dash.balanced : F.dash.unbalanced, tb.balanced ? 'ok' : 'error'),
    table(L.title, [L.account, L.owner, L.debit, L.credit, L.balance], tb.accounts.map((a) => [
      h('a', { href: `#/cuenta-contable/${encodeURIComponent(a.account)}`, 'aria-label': L.open(a.owner_name ? `${a.label_es} · ${a.owner_name}` : a.label_es) }, a.label_es),
      a.owner_name || '—',
      amount(a.debit),
      amount(a.credit),
      amount(a.balance),
    ]), '', { quietCaption: true }),
    figures([[F.dash.debits, money(tb.total_debit)], [F.dash.credits, money(tb.total_credit)]]),
    h('p', {}, h('a', { href: HOME }, F.back)));
}

async function accountScreen(gen, arg) {
  const account = decodeURIComponent(arg || '');
  const list = pages(`/v1/ledger/accounts/${encodeURIComponent(account)}`, { limit: '100' }, 'entries');
  try {
    await list.load();
  } catch (err) {
    return failed(gen, L.title, err);
  }
  const head = () => list.head;
  const draw = () => office(gen, head().owner_name ? `${head().label_es} · ${head().owner_name}` : head().label_es,
    figures([[L.balance, money(head().balance), 'total']]),
    list.items.length === 0 ? h('p', {}, L.none) : table(L.postings, [L.at, L.description, L.debit, L.credit], list.items.map((e) => [
      when(e.posted_at), e.description, amount(e.debit), amount(e.credit),
    ])),
    list.more(draw),
    h('p', {}, h('a', { href: '#/libro' }, L.backLedger)));
  return draw();
}

// ----------------------------------------------------------------------------------------
// Jobs and failed e-mails
// ----------------------------------------------------------------------------------------

async function jobsScreen(gen, _arg, params) {
  const kind = params.get('tipo') || '';
  const status = params.get('estado') || '';
  const list = pages('/v1/jobs', { limit: '50', kind, status });
  try {
    await list.load();
  } catch (err) {
    return failed(gen, F.jobs.title, err);
  }
  const draw = () => office(gen, F.jobs.title,
    form('job-filter', [
      select('tipo', F.jobs.kind, [['', F.jobs.allKinds], ...Object.entries(F.kind)], kind),
      select('estado', F.jobs.status, [['', F.jobs.allStatus], ...Object.entries(F.jobStatus)], status),
      h('button', { type: 'submit' }, I.filter),
    ], async (data) => {
      const q = new URLSearchParams();
      if (data.get('tipo')) q.set('tipo', data.get('tipo'));
      if (data.get('estado')) q.set('estado', data.get('estado'));
      go(`#/trabajos${q.toString() ? `?${q}` : ''}`);
    }),
    list.items.length === 0 ? h('p', {}, F.jobs.none) : jobsTable(F.jobs.title, list.items),
    list.more(draw),
    h('p', {}, h('a', { href: HOME }, F.back)));
  return draw();
}

// ----------------------------------------------------------------------------------------
// Electronic documents: their way to DIAN, and the answers the provider reports
// ----------------------------------------------------------------------------------------

const E = F.edocs;

/** Where a document's XML is served, by its kind. */
function xmlPath(d) {
  const base = { invoice: 'invoices', credit_note: 'credit-notes' }[d.kind] || 'support-documents';
  return `/v1/${base}/${d.subject_id}/xml`;
}

async function edocsScreen(gen, _arg, params) {
  const state = params.get('estado') || '';
  const list = pages('/v1/electronic-documents', { limit: '50', state });
  try {
    await list.load();
  } catch (err) {
    return failed(gen, E.title, err);
  }
  const msg = h('div', { 'aria-live': 'polite' });
  const answerBox = h('div', { id: 'answer', 'aria-live': 'polite' });
  const answer = (d, body) => post(`/v1/electronic-documents/${d.subject_id}/answer`, body).then(() => {
    setFlash(E.recorded(d.number, E.outcome[body.outcome]));
    go(`#/documentos-electronicos${state ? `?estado=${state}` : ''}`);
  });
  const rejectForm = (d) => {
    answerBox.replaceChildren(
      h('h3', {}, E.rejectTitle(d.number)),
      form('reject-form', [
        field('dian-reason', E.reason, { name: 'reason', required: true, maxlength: 500, autocomplete: 'off' }),
        h('button', { type: 'submit', class: 'primary' }, E.rejectConfirm),
        ' ', button(E.cancel, () => answerBox.replaceChildren()),
      ], (data) => answer(d, { outcome: 'rejected', reason: String(data.get('reason') || '').trim() })));
    answerBox.scrollIntoView({ block: 'nearest' });
    answerBox.querySelector('input').focus();
  };
  const actions = (d) => h('span', {},
    h('a', { href: xmlPath(d), download: `${d.number}.xml` }, 'XML'),
    ' · ', h('a', { href: d.lookup_url, target: '_blank', rel: 'noopener' }, E.lookup),
    d.state === 'delivered' ? [
      ' · ', button(E.accept, async (ev) => {
        ev.target.disabled = true;
        try {
          await answer(d, { outcome: 'accepted' });
        } catch (err) {
          msg.replaceChildren(notice(err.message, 'error'));
          ev.target.disabled = false;
        }
      }, 'link'),
      ' · ', button(E.reject, () => rejectForm(d), 'link'),
    ] : null);
  const draw = () => office(gen, E.title,
    takeFlash(),
    h('p', {}, E.hint),
    form('edoc-filter', [
      select('estado', E.state, [['', E.allStates], ...Object.entries(E.states)], state),
      h('button', { type: 'submit' }, I.filter),
    ], async (data) => go(`#/documentos-electronicos${data.get('estado') ? `?estado=${data.get('estado')}` : ''}`)),
    msg,
    list.items.length === 0 ? h('p', {}, E.none) : table(E.title,
      [E.kindCol, E.number, E.issued, E.stateCol, E.actions],
      list.items.map((d) => [
        E.kinds[d.kind] || d.kind,
        d.number,
        day(d.issued_on),
        h('span', {}, badge(d.state, E.states), d.signed ? '' : h('small', { class: 'muted' }, ' ', E.unsigned),
          d.state_reason ? h('small', {}, h('br'), d.state_reason) : null),
        actions(d),
      ]),
      '', { quietCaption: true }),
    list.more(draw),
    answerBox,
    h('p', {}, h('a', { href: HOME }, F.back)));
  return draw();
}

async function mailScreen(gen) {
  let list;
  try {
    list = await get('/v1/admin/outbox?status=failed&limit=200');
  } catch (err) {
    return failed(gen, F.mail.title, err);
  }
  const msg = h('div', { 'aria-live': 'polite' });
  const retry = (m) => button(F.mail.retry, async (ev) => {
    ev.target.disabled = true;
    try {
      await post(`/v1/admin/outbox/${m.id}/retry`);
      setFlash(F.mail.retried(m.recipient));
      go('#/correos');
    } catch (err) {
      msg.replaceChildren(notice(err.message, 'error'));
      ev.target.disabled = false;
    }
  });
  return office(gen, F.mail.title,
    takeFlash(),
    h('p', {}, F.mail.hint),
    msg,
    list.items.length === 0 ? h('p', {}, F.mail.none) : table(F.mail.title,
      [F.mail.to, F.mail.subject, F.mail.attempts, F.mail.error, F.mail.at, F.mail.action],
      list.items.map((m) => [m.recipient, m.subject, String(m.attempts), m.last_error || '', when(m.created_at), retry(m)]),
      '', { quietCaption: true }),
    h('p', {}, h('a', { href: HOME }, F.back)));
}

export const finance = {
  home: HOME,
  for: (me) => me.role === 'finance' || me.role === 'admin',
  /** Navigation links: `[hash, label]`. */
  // Admin (programme staff first) gets one link to the month end; finance the whole desk.
  links: (me) => (me.role === 'admin' ? [[HOME, F.nav.finance]] : [
    [HOME, F.nav.month],
    ['#/facturas', F.nav.invoices],
    ['#/pagos', F.nav.payouts],
    ['#/certificados', F.nav.statements],
    ['#/retenciones', F.nav.withholding],
    ['#/libro', F.nav.ledger],
    ['#/documentos-electronicos', F.nav.edocs],
    ['#/trabajos', F.nav.jobs],
    ['#/correos', F.nav.mail],
  ]),
  screens: {
    cierre: monthScreen,
    facturacion: billingScreen,
    facturas: invoicesScreen,
    factura: invoiceScreen,
    pagos: payoutsScreen,
    'lote-pagos': batchScreen,
    certificados: statementsScreen,
    retenciones: withholdingScreen,
    libro: ledgerScreen,
    'cuenta-contable': accountScreen,
    trabajos: jobsScreen,
    correos: mailScreen,
    'documentos-electronicos': edocsScreen,
  },
};
