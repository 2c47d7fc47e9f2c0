// «Mis datos para reportes de impacto» (issue 22 §1; Ley 1581 de 2012, arts. 5, 6 y 9), the
// worker's side, from «Mi cuenta» (`#/cuenta/impacto`): the text she is asked, word for word,
// with its one purpose; two optional data (her household's monthly income before joining, her
// programme groups) given with «Autorizo y guardo» (POST /v1/workers/{id}/consent, with the
// text's version and hash); her answer now and its history; and its withdrawal after a second,
// explicit yes (POST …/consent/withdrawal), which deletes both at once.
// Saving needs a connection; what she typed is kept on the device meanwhile (like her requests
// about her data), and the text and her answer as last seen are shown when there is no signal.
import { T, money, pesosTyped, day } from '/js/es.js';
import { get, post, Refusal, Unreachable } from '/js/api.js';
import { kv } from '/js/store.js';
import { h, show, notice, button, go, setFlash, takeFlash } from '/js/ui.js';

const C = T.consent;
const HASH = '#/cuenta/impacto';

/** Fresh from the server, kept on the device; the kept copy when there is no answer. */
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

/** Whole pesos as typed (`650000`, `650.000`, `$ 650.000`) as digits, else null. */
function wholePesos(typed) {
  const s = pesosTyped(typed);
  return /^\d{1,9}$/.test(s) ? String(Number(s)) : null;
}

/** `650000` → `650.000`, as she reads it in the field. */
const grouped = (digits) => digits.replace(/\B(?=(\d{3})+(?!\d))/g, '.');

/** A date of the ledger (an instant) or a text's version (`2026-12-06`), in Bogotá. */
const dayOf = (iso) => day(/^\d{4}-\d{2}-\d{2}$/.test(iso) ? `${iso}T12:00:00-05:00` : iso);

export async function consentScreen(gen, me) {
  if (!me.worker_id) return go('#/cuenta');
  const back = h('p', {}, h('a', { href: '#/cuenta' }, C.back));
  // Refused because the text changed while she read it: said above the current one.
  const flash = takeFlash();
  const refused = flash ? notice(flash.textContent, 'error') : null;
  if (refused) refused.id = 'consent-refused';
  show(gen, C.title, notice(T.loading));
  const stateKey = `consent:${me.worker_id}`;
  const draftKey = `consent-draft:${me.worker_id}`;
  let policy;
  let state;
  let stale = false;
  try {
    const p = await cached('consent-policy', () => get('/v1/consent-policy'));
    const s = await cached(stateKey, () => get(`/v1/workers/${me.worker_id}/consent`));
    policy = p.data;
    state = s.data;
    stale = p.stale || s.stale;
  } catch (err) {
    if (err instanceof Unreachable) show(gen, C.title, notice(C.needOnlineFirst), back);
    else show(gen, C.title, notice(err.message, 'error'), back);
    return;
  }
  const labels = new Map((policy.groups || []).map((g) => [g.code, g.label]));

  // ---- Her answer now ----
  const stateBox = h('section', { class: 'card', id: 'consent-state', 'aria-labelledby': 'consent-state-title' });
  const doneMsg = h('div', { id: 'consent-done', 'aria-live': 'polite' });
  const drawState = () => {
    const history = state.history || [];
    const last = history[history.length - 1];
    const given = [];
    if (state.consenting) {
      given.push(h('ul', { class: 'consent-given' },
        h('li', {}, state.baseline_monthly_income ? C.gaveIncome(money(state.baseline_monthly_income)) : C.noIncome),
        h('li', {}, (state.groups || []).length
          ? C.gaveGroups(state.groups.map((g) => labels.get(g) || g).join(', ')) : C.noGroups)));
    }
    stateBox.replaceChildren(
      h('h2', { id: 'consent-state-title' }, C.stateTitle),
      h('p', { class: state.consenting ? 'ok-text' : '' },
        state.consenting ? C.consenting : last && last.action === 'withdrawn' ? C.withdrawnState : C.notConsenting),
      ...given,
      ...(state.asked_again ? [notice(C.askedAgain, 'warn')] : []),
    );
  };

  // ---- The history, newest first ----
  const historyBox = h('section', { class: 'card', id: 'consent-history', 'aria-labelledby': 'consent-history-title' });
  const drawHistory = () => {
    const rows = [...(state.history || [])].reverse();
    historyBox.replaceChildren(
      h('h2', { id: 'consent-history-title' }, C.historyTitle),
      rows.length === 0 ? h('p', { class: 'muted' }, C.noHistory) : h('ul', { class: 'consent-events' }, rows.map((e) => {
        const assisted = e.channel === 'assisted';
        return h('li', { class: `consent-event ce-${e.action}` },
          h('p', {}, h('time', { datetime: e.at }, C.event(e.action, day(e.at), assisted))),
          assisted ? h('p', {}, C.helpedBy(e.helped_by)) : null,
          e.policy_version !== policy.version ? h('p', { class: 'muted' }, C.textOf(dayOf(e.policy_version))) : null);
      })),
    );
  };

  // ---- The form: what she chooses to give. Her draft stays on the device until it is saved ----
  const draft = (await kv.get(draftKey)) || null;
  const start = draft || {
    income: state.consenting && state.baseline_monthly_income ? grouped(String(state.baseline_monthly_income).split('.')[0]) : '',
    groups: state.consenting ? state.groups || [] : [],
  };
  const saveDraft = () => kv.set(draftKey, { income: income.value, groups: chosen() }).catch(() => {});
  const incomeShown = h('p', { class: 'muted hint', id: 'consent-income-shown', 'aria-live': 'polite' });
  const incomeErr = h('div', { id: 'consent-income-error', class: 'field-error' });
  const showIncome = () => {
    const pesos = wholePesos(income.value);
    incomeShown.textContent = pesos ? C.incomeShown(money(pesos)) : '';
  };
  const income = h('input', {
    id: 'consent-income', name: 'income', type: 'text', inputmode: 'numeric', autocomplete: 'off', maxlength: '20',
    value: start.income || '',
    'aria-describedby': 'consent-income-hint consent-income-shown consent-income-error',
    oninput: () => {
      showIncome();
      incomeErr.replaceChildren();
      income.removeAttribute('aria-invalid');
      saveDraft();
    },
    onblur: () => {
      // Written back as she reads pesos: 650000 → 650.000.
      const pesos = wholePesos(income.value);
      if (pesos) {
        income.value = grouped(pesos);
        saveDraft();
      }
    },
  });
  showIncome();
  const groupsErr = h('div', { id: 'consent-groups-error', class: 'field-error' });
  const groupBoxes = (policy.groups || []).map((g) => h('div', { class: 'check' },
    h('input', {
      type: 'checkbox', id: `cg-${g.code}`, name: 'group', value: g.code, checked: (start.groups || []).includes(g.code),
      onchange: () => {
        groupsErr.replaceChildren();
        saveDraft();
      },
    }),
    h('label', { for: `cg-${g.code}` }, g.label)));
  const submit = h('button', { type: 'submit', class: 'primary' }, C.save);
  const netHint = h('div', { class: 'consent-net', 'aria-live': 'polite' });
  const msg = h('div', { class: 'form-msg', 'aria-live': 'polite' });
  const f = h('form', { id: 'consent-form', novalidate: true },
    h('div', { class: 'field' },
      h('label', { for: 'consent-income' }, C.income),
      h('p', { class: 'muted hint', id: 'consent-income-hint' }, C.incomeHint),
      income, incomeShown, incomeErr),
    h('fieldset', { 'aria-describedby': 'consent-groups-hint consent-groups-error' },
      h('legend', {}, C.groups),
      h('p', { class: 'muted hint', id: 'consent-groups-hint' }, C.groupsHint),
      groupBoxes, groupsErr),
    netHint, submit, msg);
  function chosen() {
    return [...f.querySelectorAll('input[name=group]:checked')].map((x) => x.value);
  }
  // Offline, the form says so before she presses; once she has left the screen it stops listening.
  let drawn = false;
  const drawNet = () => {
    if (drawn && !f.isConnected) {
      window.removeEventListener('online', drawNet);
      window.removeEventListener('offline', drawNet);
      return;
    }
    drawn = true;
    netHint.replaceChildren(...(navigator.onLine ? [] : [notice(C.offlineNow, 'warn')]));
  };
  drawNet();
  window.addEventListener('online', drawNet);
  window.addEventListener('offline', drawNet);

  const fieldError = (box, input, text) => {
    box.replaceChildren(notice(text, 'error'));
    if (input) {
      input.setAttribute('aria-invalid', 'true');
      input.focus();
    }
  };
  let busy = false;
  f.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (busy) return;
    msg.replaceChildren();
    doneMsg.replaceChildren();
    incomeErr.replaceChildren();
    groupsErr.replaceChildren();
    income.removeAttribute('aria-invalid');
    await saveDraft();
    if (!navigator.onLine) {
      netHint.replaceChildren();
      msg.replaceChildren(notice(C.needOnline, 'warn'));
      return;
    }
    const typed = income.value.trim();
    const body = { policy_version: policy.version, text_hash: policy.text_hash, groups: chosen() };
    if (typed) body.baseline_monthly_income = wholePesos(typed) || pesosTyped(typed);
    busy = true;
    submit.disabled = true;
    submit.textContent = C.saving;
    try {
      state = await post(`/v1/workers/${me.worker_id}/consent`, body);
      await kv.set(stateKey, state);
      await kv.remove(draftKey);
      fresh();
      const pesos = state.baseline_monthly_income ? String(state.baseline_monthly_income).split('.')[0] : '';
      income.value = pesos ? grouped(pesos) : '';
      showIncome();
      drawAll();
      msg.replaceChildren(notice(C.saved, 'ok'));
    } catch (err) {
      if (err instanceof Unreachable) {
        msg.replaceChildren(notice(C.needOnline, 'warn'));
      } else if (err instanceof Refusal && (err.code === 'policy_changed' || err.code === 'policy_text_mismatch')) {
        // The text changed while she read it: shown again, the current one, with her draft.
        await kv.remove('consent-policy');
        setFlash(err.message);
        go(HASH);
      } else if (err instanceof Refusal && err.field === 'baseline_monthly_income') {
        fieldError(incomeErr, income, err.message);
      } else if (err instanceof Refusal && err.field === 'groups') {
        fieldError(groupsErr, null, err.message);
        const first = f.querySelector('input[name=group]');
        if (first) first.focus();
      } else {
        msg.replaceChildren(notice(err.message, 'error'));
      }
    } finally {
      busy = false;
      submit.disabled = false;
      submit.textContent = C.save;
    }
  });

  // ---- Withdrawal: what happens, then a second, explicit yes ----
  const withdrawBox = h('section', { class: 'card', id: 'consent-withdraw', 'aria-labelledby': 'consent-withdraw-title' });
  const withdrawMsg = h('div', { class: 'form-msg', 'aria-live': 'polite' });
  let withdrawing = false;
  const open = button(C.withdraw, () => {
    withdrawMsg.replaceChildren();
    open.hidden = true;
    confirmBox.hidden = false;
    confirm.focus();
  }, 'danger');
  open.id = 'consent-withdraw-start';
  const cancel = button(C.cancel, () => {
    confirmBox.hidden = true;
    open.hidden = false;
    open.focus();
  });
  cancel.id = 'consent-withdraw-cancel';
  const confirm = button(C.confirm, async () => {
    if (withdrawing) return;
    withdrawMsg.replaceChildren();
    if (!navigator.onLine) {
      withdrawMsg.replaceChildren(notice(C.withdrawNeedOnline, 'warn'));
      return;
    }
    withdrawing = true;
    confirm.disabled = true;
    confirm.textContent = C.withdrawing;
    try {
      state = await post(`/v1/workers/${me.worker_id}/consent/withdrawal`);
      await kv.set(stateKey, state);
      await kv.remove(draftKey);
      fresh();
      income.value = '';
      showIncome();
      for (const box of f.querySelectorAll('input[name=group]')) box.checked = false;
      msg.replaceChildren();
      drawAll();
      doneMsg.replaceChildren(notice(C.withdrawn, 'ok'));
      stateBox.scrollIntoView({ block: 'start' });
    } catch (err) {
      withdrawMsg.replaceChildren(notice(err instanceof Unreachable ? C.withdrawNeedOnline : err.message, err instanceof Unreachable ? 'warn' : 'error'));
    } finally {
      withdrawing = false;
      confirm.disabled = false;
      confirm.textContent = C.confirm;
    }
  }, 'danger');
  confirm.id = 'consent-withdraw-confirm';
  const confirmBox = h('div', { class: 'dd-confirm', id: 'consent-withdraw-box', role: 'group', 'aria-labelledby': 'consent-confirm-title', hidden: true },
    h('h3', { id: 'consent-confirm-title' }, C.confirmTitle),
    h('p', {}, C.confirmText),
    h('p', { class: 'dd-actions' }, confirm, ' ', cancel));
  withdrawBox.append(
    h('h2', { id: 'consent-withdraw-title' }, C.withdrawTitle),
    h('p', {}, C.withdrawIntro),
    open, confirmBox, withdrawMsg);

  function drawAll() {
    drawState();
    drawHistory();
    withdrawBox.hidden = !state.consenting;
    if (!state.consenting) {
      confirmBox.hidden = true;
      open.hidden = false;
    }
  }
  drawAll();
  // Shown while what is on screen is the copy kept on the device; gone once the server answers.
  const staleNote = stale ? notice(C.offlineCached) : null;
  const fresh = () => {
    if (staleNote) staleNote.remove();
  };

  show(gen, C.title,
    refused,
    staleNote,
    stateBox,
    doneMsg,
    h('section', { class: 'card', id: 'consent-text', 'aria-labelledby': 'consent-text-title' },
      h('h2', { id: 'consent-text-title' }, C.textTitle),
      h('p', { class: 'consent-purpose' }, h('strong', {}, C.purpose(policy.purpose_es))),
      h('blockquote', { class: 'consent-words', lang: 'es-CO' }, policy.text),
      h('p', { class: 'muted' }, C.since(dayOf(policy.version))),
      h('p', { class: 'consent-optional' }, C.optional),
      h('p', {}, h('a', { href: '/privacidad' }, C.privacy))),
    h('section', { class: 'card', id: 'consent-ask', 'aria-labelledby': 'consent-ask-title' },
      h('h2', { id: 'consent-ask-title' }, C.formTitle), f),
    withdrawBox,
    historyBox,
    back,
  );
}
