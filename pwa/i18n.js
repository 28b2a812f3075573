// Client-side translations: the server sends {msgid: translation} for the
// messages marked in pwa/ (GET /i18n/{lang}.json, kept by the service worker),
// so the same Babel catalogues serve the page and the client; with them, the
// language's month and day names (pwa/dates.js).

import { load as loadCalendar } from './dates.js';

/** @type {Record<string, string>} */
let messages = {};

/** @param {string} lang */
export async function load(lang) {
  await Promise.all([loadMessages(lang), loadCalendar(lang)]);
}

/** @param {string} lang */
async function loadMessages(lang) {
  try {
    const response = await fetch(`/i18n/${encodeURIComponent(lang)}.json`);
    messages = response.ok ? await response.json() : {};
  } catch {
    // Offline before the service worker has the file: English is still readable.
    messages = {};
  }
}

/**
 * @param {string} message
 * @returns {string}
 */
export function _(message) {
  return Object.hasOwn(messages, message) ? messages[message] : message;
}
