// Sends the outbox through POST /v1/time-entries/sync: accepted and duplicate entries leave
// the device, refused ones stay with their reason; no answer means try again later, waiting
// longer each time (2 s, 4 s … 2 min). Each entry keeps its client_id, so a batch sent twice
// (an answer lost on the way back) is stored once.
import { post, Unreachable } from '/js/api.js';
import { outbox } from '/js/store.js';
import { refusalText } from '/js/es.js';

const listeners = new Set();
export function onSyncChange(f) {
  listeners.add(f);
}
function changed() {
  for (const f of listeners) f();
}

let running = null;
let failures = 0;
let retryTimer = null;

export function scheduleSync(delayMs = 0) {
  clearTimeout(retryTimer);
  retryTimer = setTimeout(() => {
    syncNow().catch(() => {});
  }, delayMs);
}

export async function syncNow() {
  if (running) return running;
  running = (async () => {
    const pending = (await outbox.all()).filter((e) => e.state === 'pending');
    if (pending.length === 0) {
      running = null;
      return;
    }
    try {
      let report;
      try {
        report = await post('/v1/time-entries/sync', {
          entries: pending.map((e) => ({
            client_id: e.client_id,
            assignment_id: e.assignment_id,
            started_at: e.started_at,
            ended_at: e.ended_at,
            source: e.source,
            note: e.note || undefined,
          })),
        });
      } catch (err) {
        if (err instanceof Unreachable || err.status >= 500) {
          failures += 1;
          scheduleSync(Math.min(120000, 2000 * 2 ** (failures - 1)));
          return;
        }
        if (err.status === 401) return;
        // The whole batch refused: show why on each entry.
        for (const e of pending) await outbox.put({ ...e, state: 'rejected', reason: err.message, code: err.code });
        return;
      }
      failures = 0;
      const byId = new Map(pending.map((e) => [e.client_id, e]));
      for (const r of report.results || []) {
        const e = byId.get(r.client_id);
        if (!e) continue;
        if (r.status === 'accepted' || r.status === 'duplicate') {
          await outbox.remove(r.client_id);
        } else {
          await outbox.put({ ...e, state: 'rejected', code: r.code || '', reason: refusalText(r, 422) });
        }
      }
    } finally {
      running = null;
      changed();
    }
  })();
  return running;
}

export async function unsentCount() {
  return (await outbox.all()).length;
}

window.addEventListener('online', () => {
  failures = 0;
  scheduleSync(0);
});
