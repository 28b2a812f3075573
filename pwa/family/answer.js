// A family member's "Will you come?" answer, the same on the server-rendered
// home and on the offline shell: sealed into the outbox, sent from there,
// and its progress shown on the appointment's card.

import { _ } from '../i18n.js';
import * as cache from '../outbox/cache.js';
import { saveAppointmentResponse } from '../outbox/save.js';
import * as store from '../outbox/store.js';

export const COMING = 'coming';
export const NOT_COMING = 'not_coming';

// Answers saved while this page is open, by appointment: once the server has
// one and the next pull took its entry away, the card can still say "Sent".
const savedHere = new Map();

/** The family member's answer entries, the newest per appointment. */
export async function latestEntries(owner) {
  const found = new Map();
  for (const entry of await store.entries(owner)) {
    if (store.recordType(entry) === store.APPOINTMENT_RESPONSE) {
      found.set(entry.summary.appointment, entry);
    }
  }
  return found;
}

/**
 * Seal and store an answer; resolves with the entry once it is on disk.
 * Earlier answers to the same appointment that are not yet sent are
 * replaced: sending both would apply the first and turn the second (the one
 * the person meant) into a conflict.
 */
export async function save({ owner, appointment, response, message, baseVersion }) {
  const earlier = (await store.entries(owner)).filter(
    (e) =>
      store.recordType(e) === store.APPOINTMENT_RESPONSE &&
      e.summary.appointment === appointment &&
      !e.delivered,
  );
  const entry = await saveAppointmentResponse({
    id: crypto.randomUUID(),
    owner,
    appointment,
    response,
    message,
    baseVersion,
    replaces: earlier.map((e) => e.id),
  });
  savedHere.set(appointment, entry.id);
  return entry;
}

/**
 * Where an answer stands, for the card: {state, text} or null when there is
 * nothing to say. `entry` is the newest entry for the appointment, if any.
 */
export function progress(appointment, entry) {
  if (entry) {
    if (entry.state === store.WAITING || entry.state === store.SENDING) {
      return {
        state: 'waiting',
        text: _('Saved on this phone. It will be sent when there is a network.'),
      };
    }
    if (entry.state === store.SENT) return { state: 'sent', text: _('Sent') };
    return { state: 'needs_attention', text: failure(entry) };
  }
  return savedHere.has(appointment) ? { state: 'sent', text: _('Sent') } : null;
}

/**
 * What happened to an answer that did not go through, and what to do, in
 * the family's words (the outbox's own wording is for workers).
 */
function failure(entry) {
  if (entry.delivered) {
    // A conflict: it arrived, but the appointment had changed since the
    // phone last saw it, so the office will ask again.
    return _(
      'Your answer arrived after the appointment was changed, so it was not used. Please look at the appointment again and send your answer again, or call the organisation.',
    );
  }
  // A refusal of this answer: the server's reason is written for the family
  // and says what to do (server/family/responses.py).
  if (entry.code && entry.reason) return entry.reason;
  // The whole request was refused, or no reason came.
  return _(
    'Your answer was not sent. Please press "Send my answer" again. If it still does not work, please call the organisation.',
  );
}

/** What the person said, as the card words it: a pending answer wins over the pulled one. */
export function saidText(response) {
  if (response === COMING) return _('You said you will come.');
  if (response === NOT_COMING) return _('You said you cannot come.');
  return '';
}

/** The family's appointments as the phone last pulled them, by id. */
export async function pulledAppointments(owner) {
  const found = (await cache.appointments(owner)).filter((a) => a.family);
  return new Map(found.map((a) => [a.id, a]));
}
