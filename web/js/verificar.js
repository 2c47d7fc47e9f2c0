// The public page a bank clerk uses to check a statement's or a yearly certificate's
// verification code (/verificar, /verificar/CODE). No sign-in: it asks
// GET /v1/statements/verify/{code} and says in Spanish what that version shows, whether it is
// provisional, and whether a later version replaced it.
import { T, money, month, refusalText, NETWORK_ERROR } from '/js/es.js';

const V = T.verify;
const form = document.getElementById('verify');
const input = document.getElementById('code');
const answer = document.getElementById('answer');

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}

function say(kind, ...nodes) {
  const box = el('div', { class: `card verified ${kind}`, role: kind === 'error' ? 'alert' : 'status' }, ...nodes);
  answer.replaceChildren(box);
}

function facts(s) {
  const row = (label, value) => [el('dt', {}, label), el('dd', {}, value)];
  if (s.kind === 'certificate') {
    return el('dl', { class: 'facts' },
      ...row(V.name, s.name),
      ...row(V.year, s.month),
      ...row(V.paid, money(s.gross)),
      ...row(V.withheld, money(s.withheld)),
      ...row(V.received, money(s.net)),
      ...row(V.version, String(s.version)));
  }
  return el('dl', { class: 'facts' },
    ...row(V.name, s.name),
    ...row(V.month, month(s.month)),
    ...row(V.gross, money(s.gross)),
    ...row(V.net, money(s.net)),
    ...row(V.version, String(s.version)),
    ...row(V.kind, s.status === 'provisional' ? V.provisional : V.final));
}

async function check(code) {
  const typed = code.trim();
  if (!typed) {
    say('error', el('p', {}, V.empty));
    input.focus();
    return;
  }
  say('info', el('p', {}, V.checking));
  let resp;
  try {
    resp = await fetch(`/v1/statements/verify/${encodeURIComponent(typed)}`, { headers: { Accept: 'application/json' } });
  } catch {
    say('error', el('p', {}, NETWORK_ERROR));
    return;
  }
  const body = await resp.json().catch(() => null);
  if (resp.status === 404) {
    say('error', el('p', {}, el('strong', {}, V.notFound)), el('p', {}, V.notFoundHelp));
    return;
  }
  if (!resp.ok || !body) {
    say('error', el('p', {}, refusalText(body, resp.status)));
    return;
  }
  const certificate = body.kind === 'certificate';
  const nodes = [el('p', {}, el('strong', {}, certificate ? V.authenticCertificate : V.authentic)), facts(body)];
  if (body.status === 'provisional') nodes.push(el('p', {}, V.provisionalNote));
  if (body.superseded) {
    nodes.push(el('p', { class: 'notice error' }, certificate
      ? V.supersededCertificate(body.latest_version, body.month)
      : V.superseded(body.latest_version, month(body.month))));
  }
  say(body.superseded ? 'warn' : 'ok', ...nodes);
  if (location.pathname !== `/verificar/${typed}`) history.replaceState(null, '', `/verificar/${encodeURIComponent(typed)}`);
}

form.addEventListener('submit', (ev) => {
  ev.preventDefault();
  check(input.value);
});

const fromPath = decodeURIComponent(location.pathname.replace(/^\/verificar\/?/, ''));
if (fromPath) {
  input.value = fromPath;
  check(fromPath);
}
document.body.classList.add('ready');
