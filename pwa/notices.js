// Notices the client adds at the top of the page, built from DOM nodes
// (the CSP forbids inline HTML tricks and styles) with the sheet's classes.

const REGION_ID = 'pwa-notices';
// Advice that is not about what the person is doing goes after everything
// else: drawn late, at the top it would push the page down under their finger.
const END_ID = 'pwa-notices-end';

/** @param {boolean} atEnd */
function region(atEnd) {
  const id = atEnd ? END_ID : REGION_ID;
  let box = document.getElementById(id);
  if (!box) {
    box = document.createElement('div');
    box.id = id;
    box.className = 'pwa-notices';
    box.setAttribute('role', 'status');
    if (atEnd) {
      (document.querySelector('body > footer') || document.body).append(box);
    } else {
      (document.getElementById('main') || document.body).prepend(box);
    }
  }
  return box;
}

// Shows one notice per kind (`name`), replacing an earlier one of that kind.
// `atEnd` puts it at the foot of the page instead of the top.
/**
 * @param {string} name
 * @param {string} text
 * @param {{warn?: boolean, action?: {label: string, run(button: HTMLButtonElement): void} | null, atEnd?: boolean}} [options]
 * @returns {HTMLDivElement}
 */
export function show(name, text, { warn = false, action = null, atEnd = false } = {}) {
  const box = region(atEnd);
  box.querySelector(`[data-notice="${name}"]`)?.remove();
  const notice = document.createElement('div');
  notice.className = warn ? 'notice warn' : 'notice';
  notice.dataset.notice = name;
  const words = document.createElement('p');
  words.textContent = text;
  notice.append(words);
  if (action) {
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'button primary';
    button.textContent = action.label;
    button.addEventListener('click', () => action.run(button), { once: true });
    notice.append(button);
  }
  box.append(notice);
  return notice;
}
