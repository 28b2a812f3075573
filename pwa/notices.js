// Notices the client adds at the top of the page, built from DOM nodes
// (the CSP forbids inline HTML tricks and styles) with the sheet's classes.

const REGION_ID = 'pwa-notices';

function region() {
  let box = document.getElementById(REGION_ID);
  if (!box) {
    box = document.createElement('div');
    box.id = REGION_ID;
    box.className = 'pwa-notices';
    box.setAttribute('role', 'status');
    const main = document.getElementById('main') || document.body;
    main.prepend(box);
  }
  return box;
}

// Shows one notice per kind (`name`), replacing an earlier one of that kind.
export function show(name, text, { warn = false, action = null } = {}) {
  const box = region();
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
