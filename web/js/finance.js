// Finance's screens (roles finance and admin): the month-end dashboard, billing, invoices and
// payments, payout batches and bank files, statements, the ledger, jobs and failed e-mails.
// Texts in /js/es.js (T.finance). Each screen is `(gen, arg, params, me)`, routed from app.js.
import { T } from '/js/es.js';
import { office } from '/js/ui.js';

const F = T.finance;
const HOME = '#/cierre';

function monthScreen(gen) {
  return office(gen, F.title);
}

export const finance = {
  home: HOME,
  for: (me) => me.role === 'finance' || me.role === 'admin',
  /** Navigation links: `[hash, label]`. */
  links: () => [[HOME, F.nav.month]],
  screens: {
    cierre: monthScreen,
  },
};
