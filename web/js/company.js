// The company owner's screens: the company and its members, posting tasks one at a time or in
// batches from a spreadsheet, their progress, and invoices. Texts in /js/es.js.
// Each screen is `(gen, arg, params, me)`, routed from app.js by the hash's first part.

export const company = {
  home: '#/tareas-publicadas',
  /** Navigation links for this person: `[hash, label]`. */
  links: () => [],
  screens: {},
};
