// Signing out on a shared phone: say how many entries are still unsent
// (they stay sealed, for their author's next sign-in), then wipe this
// person's cached caseload, appointments and forms before the post goes.

import { _ } from '../i18n.js';
import * as cache from '../outbox/cache.js';
import * as store from '../outbox/store.js';

export function interceptSignOut() {
  const forms = /** @type {NodeListOf<HTMLFormElement>} */ (
    document.querySelectorAll('form[action="/signout"]')
  );
  for (const form of forms) {
    // app.js and worker.js may both ask: one listener per form is enough.
    if (form.dataset.intercepted) continue;
    form.dataset.intercepted = 'yes';
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const user = await cache.currentUser();
      if (user) {
        const count = await store.unsentCount(user.id);
        const warning = _(
          'Entries not sent yet: %(count)s. They stay sealed on this phone and will be sent the next time you sign in here.',
        ).replace('%(count)s', count.toLocaleString(document.documentElement.lang || 'en'));
        if (count > 0 && !confirm(warning)) return;
        await cache.wipe(user.id);
      }
      // submit() fires no second submit event: the post simply goes.
      form.submit();
    });
  }
}
