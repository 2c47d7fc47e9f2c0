// The review queue: submissions waiting for a decision, oldest first, for a company's owner and
// reviewers. Texts in /js/es.js. Each screen is `(gen, arg, params, me)`, routed from app.js.

export const review = {
  home: '#/revision',
  /** Navigation links for this person: `[hash, label]`. */
  links: () => [],
  screens: {},
};
