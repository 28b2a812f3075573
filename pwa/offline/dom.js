// A tiny element builder: the CSP forbids inline HTML tricks, and text set
// through textContent can never become markup.

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
 * A date (YYYY-MM-DD) or an ISO moment in the page's language.
 *
 * @param {string | null | undefined} value
 * @param {boolean} [withTime]
 * @returns {string}
 */
export function formatDate(value, withTime = false) {
  if (!value) return '';
  const lang = document.documentElement.lang || 'en';
  const moment = withTime ? new Date(value) : new Date(`${value}T12:00:00Z`);
  /** @type {Intl.DateTimeFormatOptions} */
  const options = withTime
    ? { dateStyle: 'medium', timeStyle: 'short' }
    : { dateStyle: 'medium', timeZone: 'UTC' };
  try {
    return new Intl.DateTimeFormat(lang, options).format(moment);
  } catch {
    return value;
  }
}
