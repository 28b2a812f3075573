// The server-rendered session form (forms/session.html), taken over when
// JavaScript runs: checked with pwa/forms.js, sealed into the outbox, sent
// from there. Without JavaScript the form posts as before. The record id is
// the one in the form's action (?log=<uuid>), so a JS save and a plain post
// of the same form can never make two records.

import { _ } from '../i18n.js';
import { show as notify } from '../notices.js';
import * as cache from '../outbox/cache.js';
import { NoSealingKey, saveSessionLog } from '../outbox/save.js';
import { h } from './dom.js';
import { clearForm } from './form.js';
import { SAVED } from './screens.js';

/**
 * Save the server-rendered form through the outbox instead of posting it.
 * @param {HTMLFormElement} form
 * @param {typeof import('../forms.js')} forms the pwa/forms.js module
 * @param {Promise<unknown>} whoAmI the first drain (it learns who is signed in)
 */
export function interceptSessionForm(form, forms, whoAmI) {
  const schema = JSON.parse(/** @type {string} */ (document.getElementById('form-schema')?.textContent));
  const action = new URL(form.action, location.href);
  const id = action.searchParams.get('log');
  // Only new logs: corrections (/sessions/<id>/edit) keep their plain post.
  if (!id || !action.pathname.startsWith('/log/')) return;
  const appointment = action.searchParams.get('appointment');
  form.addEventListener('submit', async (event) => {
    // pwa/forms.js listens first and stops a form with wrong answers.
    if (event.defaultPrevented) return;
    event.preventDefault();
    const timeZone = form.dataset.timeZone || 'UTC';
    const result = forms.validate(schema, forms.collectValues(form, schema), new Date(), {
      timeZone,
    });
    if (!result.ok) return; // forms.js has shown why
    const select = /** @type {HTMLSelectElement | null} */ (form.querySelector('select[name=participant]'));
    const code = select?.selectedOptions[0]?.textContent.trim() || '';
    const button = /** @type {HTMLButtonElement} */ (form.querySelector('button[type=submit]'));
    button.disabled = true;
    try {
      await whoAmI;
      const user = await cache.currentUser();
      if (!user) throw new NoSealingKey('nobody known to seal for');
      await saveSessionLog({ id, owner: user.id, form: schema, clean: result.clean, appointment, code });
    } catch (/** @type {any} */ error) {
      if (error?.name === 'ConstraintError') {
        // Saved already (a second press, or a second tab): nothing to add.
        done(form);
        return;
      }
      console.error('Homeward:', error);
      // No key or no WebCrypto: the plain post still works, but only with a
      // network. It is a navigation: offline (or when the key could not be
      // fetched) it would end on an error page and lose every answer.
      if (navigator.onLine && !error?.offline) {
        form.submit();
        return;
      }
      button.disabled = false;
      notify('saved', _('This session could not be saved on this phone. Please try again.'), {
        warn: true,
      });
      return;
    }
    done(form);
  });
  form.dataset.outbox = 'on';
}

function done(form) {
  clearForm(form);
  form.hidden = true;
  const notice = notify('saved', SAVED());
  notice.append(h('p', {}, h('a', { class: 'button', href: '/' }, _('Back to the start'))));
  notice.scrollIntoView?.({ block: 'nearest' });
}
