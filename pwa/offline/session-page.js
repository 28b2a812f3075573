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

export function interceptSessionForm(form, forms, whoAmI) {
  const schema = JSON.parse(document.getElementById('form-schema').textContent);
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
    const select = form.querySelector('select[name=participant]');
    const code = select?.selectedOptions[0]?.textContent.trim() || '';
    const button = form.querySelector('button[type=submit]');
    button.disabled = true;
    try {
      await whoAmI;
      const user = await cache.currentUser();
      if (!user) throw new NoSealingKey('nobody known to seal for');
      await saveSessionLog({ id, owner: user.id, form: schema, clean: result.clean, appointment, code });
    } catch (error) {
      if (error?.name === 'ConstraintError') {
        // Saved already (a second press, or a second tab): nothing to add.
        done(form);
        return;
      }
      // No key or no WebCrypto: the plain post still works.
      console.error('Homeward:', error);
      form.submit();
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
