// Minimal DOM building helpers: the UI is a few views, not worth a framework.

/** h('div', {class: 'x', onclick: fn, dataset: {k: v}}, child, ...) → element. Strings become text nodes. */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'style' && typeof v === 'object') Object.assign(el.style, v);
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function clear(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** A number with a true minus sign (U+2212), as printed for positions: −123.5. */
const signed = (v, d) => `${v < 0 ? '\u2212' : ''}${Math.abs(v).toFixed(d)}`;

export const fmt = {
  signed,
  mm: (v) => (v === null || v === undefined ? '—' : `${Number(v).toFixed(1)} mm`),
  pct: (v) => (v === null || v === undefined ? '—' : `${v > 0 ? '+' : ''}${Number(v).toFixed(1)} %`),
  resp: (v) => (v === null || v === undefined ? '—' : String(v).replace(/_/g, '-')),
};
