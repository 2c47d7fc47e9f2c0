// Programme staff's screens (role admin): workers and their accounts, cohorts imported from a
// spreadsheet, the skills catalogue. Texts in /js/es.js (T.staff).
// Each screen is `(gen, arg, params, me)`, routed from app.js by the hash's first part.
import { T } from '/js/es.js';
import { office } from '/js/ui.js';

const S = T.staff;
const HOME = '#/personas';

function peopleScreen(gen) {
  return office(gen, S.title);
}

export const staff = {
  home: HOME,
  for: (me) => me.role === 'admin',
  /** Navigation links: `[hash, label]`. */
  links: () => [[HOME, S.nav.people]],
  screens: {
    personas: peopleScreen,
  },
};
