// The family's home page (family/home.html) with JavaScript: "Will you
// come?" answers go into the sealed outbox and are sent from there (at once
// when online, when the network returns otherwise), and each pull keeps the
// phone's copy of the appointments for the offline shell. Without
// JavaScript the forms post as before. See docs/outbox.md.

import { refreshCards, wire } from './family/card.js';
import { start as startReminders } from './family/reminders.js';
import { load } from './i18n.js';
import * as cache from './outbox/cache.js';
import * as sync from './outbox/sync.js';

async function start() {
  const root = document.documentElement;
  await load(root.lang || 'en');
  // Independent of the outbox: reminders need the network anyway.
  startReminders(document.querySelector('[data-reminders]')).catch((error) => {
    console.error('Homeward reminders:', error);
  });
  const first = sync.start();
  sync.events.addEventListener('status', (event) => {
    root.dataset.sync = /** @type {CustomEvent} */ (event).detail.state;
  });
  // Who is signed in comes from the server (the first drain), not from
  // whoever used the phone last.
  await first;
  const user = await cache.currentUser();
  const cards = [...document.querySelectorAll('[data-appointment]')];
  if (user?.role === 'family') {
    const redraw = () => refreshCards(cards, user.id);
    for (const card of cards) wire(card, { owner: async () => user.id, onSaved: redraw });
    sync.events.addEventListener('change', redraw);
    await redraw();
  }
  root.dataset.outbox = 'ready';
}

start().catch((error) => {
  console.error('Homeward:', error);
  document.documentElement.dataset.outbox = 'failed';
});
