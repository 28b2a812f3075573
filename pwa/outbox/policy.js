// The outbox policy: what each answer of the server means for an entry, and
// how long to wait before trying again. No I/O here, so it reads as the rules.

import { _ } from '../i18n.js';
import { NEEDS_ATTENTION, SENT, WAITING } from './store.js';

export const BASE_DELAY = 1_000;
export const MAX_DELAY = 5 * 60_000;
// After the link failed (a cut, a drop, a timeout) rather than the server
// answering "busy": a mobile link comes and goes in seconds, and a try on a
// dead link costs nothing, so the wait stays short.
export const NETWORK_MAX_DELAY = 5_000;

/**
 * "Full jitter" backoff: a random wait between 0 and 1 s · 2^attempts,
 * capped at 5 minutes (5 s when the link, not the server, failed), so
 * phones that lost the network together do not all come back in the same
 * second. `attempts` counts failures so far (≥ 1).
 * @param {number} attempts
 * @param {() => number} [random]
 * @param {{network?: boolean}} [options]
 * @returns {number}
 */
export function backoff(attempts, random = Math.random, { network = false } = {}) {
  const cap = network ? NETWORK_MAX_DELAY : MAX_DELAY;
  const ceiling = Math.min(cap, BASE_DELAY * 2 ** Math.max(0, attempts - 1));
  return Math.max(BASE_DELAY / 4, Math.floor(random() * ceiling));
}

/** The change to make to an entry once the server answered for it. */
export function afterResult(result, now = Date.now()) {
  switch (result.status) {
    case 'stored':
    case 'already_stored':
      // Delivered. The sealed body is no longer needed; the entry stays as
      // "sent" until the next pull confirms it, then leaves.
      return { state: SENT, sealed: null, delivered: true, reason: '', sentAt: now };
    case 'conflict':
      // Delivered too: the server kept both versions and someone must look.
      return {
        state: NEEDS_ATTENTION,
        sealed: null,
        delivered: true,
        reason: _('Changed elsewhere: the office keeps both versions and will check them.'),
        sentAt: now,
      };
    default: {
      // Refused: kept, with the server's reason (already in the person's
      // language), until its author tries again or removes it.
      const details = Object.values(result.errors || {});
      const reason = [result.message, ...details].filter(Boolean).join(' ');
      return { state: NEEDS_ATTENTION, reason, delivered: false, code: result.code || '' };
    }
  }
}

/**
 * A batch that could not be delivered (network, 5xx, 429, 413): wait and
 * retry. `network`: the link failed (a cut, a timeout), so the wait is short.
 * `retryAfter` (ms): the server said when to come back (429, 503 with
 * Retry-After); the entry waits at least that long, and `notBefore` keeps
 * even a forced drain (network back, a new save) from sending it sooner.
 * @param {{attempts?: number}} entry
 * @param {number} [now]
 * @param {() => number} [random]
 * @param {{network?: boolean, retryAfter?: number}} [options]
 */
export function afterFailure(entry, now = Date.now(), random = Math.random, options = {}) {
  const { network = false, retryAfter = 0 } = options;
  const attempts = (entry.attempts || 0) + 1;
  const wait = Math.max(backoff(attempts, random, { network }), retryAfter);
  return { state: WAITING, attempts, nextAttemptAt: now + wait, notBefore: now + retryAfter };
}

/** The server refused the whole request (a 4xx other than 401): keep and say why. */
export function afterRefusal(message) {
  return {
    state: NEEDS_ATTENTION,
    reason: message || _('The server did not accept this entry. Please try again later.'),
    delivered: false,
  };
}

/**
 * Entries to send now: the owner's, not delivered, not refused, and due.
 * `force` skips the backoff, never the server's Retry-After (`notBefore`).
 */
export function due(entries, now = Date.now(), { force = false } = {}) {
  return entries.filter(
    (e) =>
      (e.state === WAITING || e.state === 'sending') &&
      e.sealed &&
      (e.notBefore || 0) <= now &&
      (force || (e.nextAttemptAt || 0) <= now),
  );
}

// The push API takes at most 100 records and 1 MB per request.
export const MAX_BATCH = 100;
export const MAX_BATCH_BYTES = 900_000;

/** Split entries into batches the server accepts (count and size). */
export function batches(entries, limit = MAX_BATCH) {
  const out = [];
  let current = [];
  let bytes = 0;
  for (const entry of entries) {
    const size = JSON.stringify(entry.sealed).length + 100;
    if (current.length && (current.length >= limit || bytes + size > MAX_BATCH_BYTES)) {
      out.push(current);
      current = [];
      bytes = 0;
    }
    current.push(entry);
    bytes += size;
  }
  if (current.length) out.push(current);
  return out;
}

/**
 * The next batch's size after one was cut mid-request: half of it (at
 * least 1), so a link that cuts more often than a batch takes still gets
 * some through.
 * @param {number} size the batch that was cut
 * @returns {number}
 */
export const smaller = (size) => Math.max(1, Math.floor(size / 2));

/**
 * The next batch's size after one was delivered: half as big again, up to
 * MAX_BATCH (back to full size in a few successes, not at once).
 * @param {number} limit
 * @returns {number}
 */
export const larger = (limit) => Math.min(MAX_BATCH, limit + Math.ceil(limit / 2));
