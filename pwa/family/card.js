// One appointment's card, taken over: the "Will you come?" form saves into
// the outbox instead of posting, and the card shows where the answer stands.
// The same markup comes from the server (family/home.html) and from the
// offline shell (screen.js):
//   [data-appointment=<id>]           the card
//     [data-said]                     "You said you will come." (hidden when nothing said)
//     form[data-family-answer]        radios name=response value=coming|not_coming,
//                                     input[name=message], one submit button;
//                                     data-version = the appointment's version as pulled;
//                                     data-dirty while changed and not yet saved
//     [data-answer-state]             "Saved on this phone…" / "Sent" / the reason

import { _ } from '../i18n.js';
import { show as notify } from '../notices.js';
import * as answer from './answer.js';

/** Show what was said (the chosen radio too) and where the answer stands. */
export function paint(card, response, progress) {
  const said = card.querySelector('[data-said]');
  if (said) {
    said.textContent = answer.saidText(response);
    said.dataset.response = response || '';
    said.hidden = !said.textContent;
  }
  const form = card.querySelector('form[data-family-answer]');
  // A choice being made and not yet sent is the person's: left alone.
  if (form && !form.dataset.dirty && response) {
    for (const radio of form.querySelectorAll('input[name=response]')) {
      radio.checked = radio.value === response;
    }
  }
  const state = card.querySelector('[data-answer-state]');
  if (state) {
    state.hidden = !progress;
    state.textContent = progress?.text || '';
    state.dataset.state = progress?.state || '';
    state.classList.toggle('warn', progress?.state === 'needs_attention');
  }
}

/**
 * Take over the card's form. `owner()` resolves to the signed-in person's
 * id (or null); `onSaved` runs after each save, to redraw.
 */
export function wire(card, { owner, onSaved = () => {} }) {
  const form = card.querySelector('form[data-family-answer]');
  if (!form || form.dataset.outbox) return;
  form.dataset.outbox = 'on';
  const appointment = card.dataset.appointment;
  form.addEventListener('input', () => {
    form.dataset.dirty = 'on';
  });
  form.addEventListener('submit', async (event) => {
    // The checked radio, whichever button sent the form (or Enter in the message).
    const response = form.elements.response?.value;
    const version = Number.parseInt(form.dataset.version ?? '', 10);
    // Decided before the first await: only then can the plain post still go.
    if (![answer.COMING, answer.NOT_COMING].includes(response) || Number.isNaN(version)) return;
    event.preventDefault();
    const buttons = [...form.querySelectorAll('button')];
    for (const button of buttons) button.disabled = true;
    const message = form.querySelector('[name=message]');
    try {
      const who = await owner();
      if (!who) throw new Error('nobody known to seal for');
      const entry = await answer.save({
        owner: who,
        appointment,
        response,
        message: message?.value.trim() || '',
        baseVersion: version,
      });
      // The message stays: it is part of the answer just saved, and shows what was sent.
      delete form.dataset.dirty;
      paint(card, response, answer.progress(appointment, entry));
      onSaved();
    } catch (error) {
      console.error('Homeward:', error);
      // The plain post is a navigation: only with a network that answers,
      // or what the person said is lost on an error page.
      if (navigator.onLine && !(/** @type {{offline?: boolean} | null} */ (error)?.offline)) {
        // The form holds the choice and the message, as the browser sends them.
        form.submit();
        return;
      }
      notify('saved', _('Your answer could not be saved on this phone. Please try again.'), {
        warn: true,
      });
    } finally {
      for (const button of buttons) button.disabled = false;
    }
  });
}

/** True while an answer is being given: a redraw now would lose it. */
export function typing(root = document) {
  const forms = /** @type {NodeListOf<HTMLFormElement>} */ (
    root.querySelectorAll('form[data-family-answer]')
  );
  return [...forms].some(
    (form) => form.dataset.dirty || form.querySelector('[name=message]') === document.activeElement,
  );
}

/**
 * Bring every card up to date with the phone: a pending answer shows as
 * said (and "Saved on this phone…"); otherwise what the last pull says, or
 * what the server rendered (`data-response` on the card).
 */
export async function refreshCards(cards, owner) {
  const [latest, pulled] = await Promise.all([
    answer.latestEntries(owner),
    answer.pulledAppointments(owner),
  ]);
  for (const card of cards) {
    const id = card.dataset.appointment;
    const entry = latest.get(id);
    const form = card.querySelector('form[data-family-answer]');
    // The answer is based on the newest version the phone knows.
    if (form && pulled.has(id)) form.dataset.version = String(pulled.get(id).version);
    const pending = entry && entry.state !== 'needs_attention';
    const response = pending
      ? entry.summary.response
      : (pulled.get(id)?.response ?? card.dataset.response ?? '');
    paint(card, response, answer.progress(id, entry));
  }
}
