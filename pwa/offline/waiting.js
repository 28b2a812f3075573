// On a page for nobody (the home page before sign-in, the sign-in page): when
// the person who last used this phone still has entries waiting, say how many
// and that signing in sends them. Her server session may have ended while
// the phone was away; her entries are never hidden for that (docs/offline.md).

import { _ } from '../i18n.js';
import { show } from '../notices.js';
import * as cache from '../outbox/cache.js';
import * as store from '../outbox/store.js';
import { h } from './dom.js';

/**
 * Show "Waiting to send: N" with "Sign in to send" when there is anything.
 * @returns {Promise<number>} the count shown (0: nothing shown)
 */
export async function showWaiting() {
  const user = await cache.currentUser();
  const count = user ? await store.unsentCount(user.id) : 0;
  if (!count) return 0;
  const lang = document.documentElement.lang || 'en';
  const notice = show(
    'signin',
    _('Waiting to send: %(count)s').replace('%(count)s', count.toLocaleString(lang)),
    { warn: true },
  );
  notice.dataset.count = String(count);
  notice.append(h('p', {}, h('a', { href: '/signin' }, _('Sign in to send'))));
  return count;
}
