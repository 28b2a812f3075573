// A tiny element builder: the CSP forbids inline HTML tricks, and text set
// through textContent can never become markup.

import * as dates from '../dates.js';

/**
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Record<string, any>} [props]
 * @param {...any} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === false || value === null || value === undefined) continue;
    if (name === 'class') node.className = value;
    else if (name === 'dataset') Object.assign(node.dataset, value);
    else if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else if (value === true) node.setAttribute(name, '');
    else node.setAttribute(name, String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

/**
 * A participant's code, isolated left to right and never broken over two
 * lines (static/app.css `.code`): in Arabic "TN-5V5FEA" stays one word.
 * @param {string} value
 * @returns {HTMLElement}
 */
export function code(value) {
  return h('bdi', { dir: 'ltr', class: 'code', translate: 'no' }, value);
}

/**
 * A date (YYYY-MM-DD), or an ISO moment with its time, in the page's
 * language as the user's country writes it, in the user's time zone
 * (pwa/dates.js: from the server's data, not the browser's).
 *
 * @param {string | null | undefined} value
 * @param {boolean} [withTime]
 * @param {{time_zone?: string | null, country?: string | null} | null} [user]
 * @returns {string}
 */
export function formatDate(value, withTime = false, user = null) {
  if (!value) return '';
  const options = { timeZone: user?.time_zone, country: user?.country };
  return withTime ? dates.formatDateTime(value, options) : dates.formatDay(value, options);
}
