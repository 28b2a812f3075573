// What tests/test_layout_browser.py measures in the page at one width: a
// list of problems, each a short sentence (empty when the screen is right).
// Evaluated through the DevTools protocol, so the page's CSP does not apply.
({ codes, tap }) => {
  const problems = [];
  const width = window.innerWidth;
  const describe = (el) => {
    const text = (el.innerText || el.value || '').trim().replace(/\s+/g, ' ').slice(0, 40);
    const cls = el.getAttribute('class') ? '.' + el.getAttribute('class').split(' ')[0] : '';
    return `<${el.tagName.toLowerCase()}${cls}> "${text}"`;
  };
  // A table stacked into cards on a small screen shows each column's name in
  // every cell (data-label, drawn by ::before); its header row stays only for
  // screen readers.
  const labelled = (table) => {
    const cells = [...table.querySelectorAll('tbody td, tfoot td')];
    return table.closest('.stacked') !== null && cells.length > 0 && cells.every((td) => {
      const before = getComputedStyle(td, '::before').content;
      return td.dataset.label && before && before !== 'none' && before !== 'normal';
    });
  };
  const stackedHeads = new Set(
    [...document.querySelectorAll('.stacked table')].filter(labelled).map((t) => t.tHead).filter(Boolean),
  );
  // Off screen on purpose: the skip link (until focused), text for screen
  // readers only, and the header rows of stacked tables.
  const offOnPurpose = (el) =>
    el.closest('.skip, .visually-hidden, [hidden]') || stackedHeads.has(el.closest('thead'));
  const shown = (el) => {
    const style = getComputedStyle(el);
    return style.display !== 'none' && style.visibility !== 'hidden' && el.getClientRects().length > 0;
  };
  if (document.scrollingElement.scrollWidth > width) {
    problems.push(`the page scrolls sideways: ${document.scrollingElement.scrollWidth} > ${width}`);
  }
  const elements = [...document.body.querySelectorAll('*')].filter((el) => !offOnPurpose(el) && shown(el));
  // 1. Inside the screen and inside every box that cuts or scrolls what overflows it.
  const reported = new Set();
  for (const el of elements) {
    if (reported.has(el.parentElement)) { reported.add(el); continue; }
    if (el.closest('select, option, svg')) continue;
    const box = el.getBoundingClientRect();
    if (box.width === 0 && box.height === 0) continue;
    if (box.left < -1 || box.right > width + 1) {
      problems.push(`wider than the screen: ${describe(el)} ${Math.round(box.left)}..${Math.round(box.right)}`);
      reported.add(el);
      continue;
    }
    for (let up = el.parentElement; up && up !== document.body; up = up.parentElement) {
      if (getComputedStyle(up).overflowX === 'visible') continue;
      const outer = up.getBoundingClientRect();
      if (box.left < outer.left - 1 || box.right > outer.right + 1) {
        problems.push(`cut or scrolled away by ${describe(up)}: ${describe(el)}`);
        reported.add(el);
      }
      break;
    }
  }
  // 2. Text cut inside its own box (headers, cells, buttons, labels).
  const boxes = 'th, td, button, .button, label, summary, legend, h1, h2, h3, dt, dd, .pill, caption';
  for (const el of elements) {
    if (!el.matches(boxes) || getComputedStyle(el).display === 'inline') continue;
    if (el.scrollWidth > el.clientWidth + 1) {
      problems.push(`text cut: ${describe(el)} needs ${el.scrollWidth} px, has ${el.clientWidth}`);
    }
  }
  // 3. No hidden column: a header is shown whole, or (a table stacked into
  //    cards on a small screen) its label is shown in every cell instead.
  for (const th of document.querySelectorAll('main th')) {
    const box = th.getBoundingClientRect();
    const whole = shown(th) && box.width > 1 && box.height > 1 && !offOnPurpose(th);
    if (!whole && !(stackedHeads.has(th.closest('thead')) && labelled(th.closest('table')))) {
      problems.push(`hidden column header: ${describe(th)}`);
    }
  }
  // 4. Tap targets. Radios and checkboxes are tapped through their label.
  //    Links inside a sentence are exempt (WCAG 2.5.8, "inline"): a link is
  //    inline when its block holds other words too.
  const inSentence = (a) => {
    if (getComputedStyle(a).display !== 'inline') return false;
    let block = a.parentElement;
    while (block && getComputedStyle(block).display === 'inline') block = block.parentElement;
    const all = (block?.innerText || '').replace(/\s+/g, ' ').trim();
    return all.length > (a.innerText || '').replace(/\s+/g, ' ').trim().length + 1;
  };
  const targets = 'a[href], button, select, summary, input[type=radio], input[type=checkbox]';
  for (const el of elements) {
    if (!el.matches(targets)) continue;
    let target = el;
    if (el.matches('input')) {
      target = (el.id && document.querySelector(`label[for="${el.id}"]`)) || el.closest('label') || el;
    } else if (el.matches('a') && inSentence(el)) {
      continue;
    }
    const box = target.getBoundingClientRect();
    if (box.width < tap - 0.5 || box.height < tap - 0.5) {
      problems.push(`tap target ${Math.round(box.width)}×${Math.round(box.height)}: ${describe(target)}`);
    }
  }
  // 6. Contrast of text with what is behind it (axe leaves some cases
  //    "to review", e.g. a small link drawn over the header's colour).
  const rgba = (value) => {
    const [r, g, b, a = 1] = value.match(/[\d.]+/g).map(Number);
    return { r, g, b, a };
  };
  const luminance = ({ r, g, b }) => {
    const lin = (c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
  };
  const backdrop = (el) => {
    for (let up = el; up; up = up.parentElement) {
      const bg = rgba(getComputedStyle(up).backgroundColor);
      if (bg.a > 0) return bg;
    }
    return { r: 255, g: 255, b: 255, a: 1 };
  };
  for (const el of elements) {
    const own = [...el.childNodes].some((n) => n.nodeType === Node.TEXT_NODE && n.data.trim());
    if (!own || el.matches(':disabled, option')) continue;
    const style = getComputedStyle(el);
    const fg = rgba(style.color);
    const bg = backdrop(el);
    const mixed = { r: fg.r * fg.a + bg.r * (1 - fg.a), g: fg.g * fg.a + bg.g * (1 - fg.a), b: fg.b * fg.a + bg.b * (1 - fg.a) };
    const [hi, lo] = [luminance(mixed), luminance(bg)].sort((x, y) => y - x);
    const ratio = (hi + 0.05) / (lo + 0.05);
    const size = parseFloat(style.fontSize);
    const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
    if (ratio < (large ? 3 : 4.5)) problems.push(`contrast ${ratio.toFixed(2)}: ${describe(el)}`);
  }
  // 5. Codes: left to right, never broken over two lines.
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const parent = node.parentElement;
    if (!parent || parent.closest('select, script, style, template') || offOnPurpose(parent) || !shown(parent)) continue;
    for (const code of codes) {
      const at = node.data.indexOf(code);
      if (at < 0) continue;
      const holder = parent.closest('bdi[dir=ltr]');
      if (!holder || getComputedStyle(holder).whiteSpace !== 'nowrap') {
        problems.push(`code not in <bdi dir=ltr> that never wraps: ${describe(parent)}`);
        continue;
      }
      const range = document.createRange();
      range.setStart(node, at);
      range.setEnd(node, at + code.length);
      const tops = new Set([...range.getClientRects()].map((r) => Math.round(r.top)));
      if (tops.size > 1) problems.push(`code broken over lines: ${code} in ${describe(parent)}`);
    }
  }
  // 7. Text for screen readers only is not drawn (a broken rule above it in
  //    the style sheet once showed every "required" in full).
  for (const el of document.querySelectorAll('.visually-hidden')) {
    if (el.closest('[hidden]')) continue;
    const box = el.getBoundingClientRect();
    if (box.width > 1 || box.height > 1) problems.push(`shown, meant for screen readers only: ${describe(el)}`);
  }
  return problems;
}
