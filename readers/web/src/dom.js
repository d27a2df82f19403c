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

/** Modal text prompt (the reason for changing a signed timepoint). Resolves to the text, or null if cancelled. */
export function askText(title, placeholder) {
  return new Promise((resolve) => {
    const input = h('textarea', { class: 'modal-input', rows: 3, placeholder: placeholder || '' });
    const done = (v) => {
      overlay.remove();
      resolve(v);
    };
    const ok = h('button', { class: 'primary', type: 'button', onclick: () => input.value.trim() && done(input.value.trim()) }, 'OK');
    const overlay = h(
      'div',
      { class: 'modal-overlay', role: 'dialog' },
      h('div', { class: 'modal' }, h('h3', {}, title), input, h('div', { class: 'modal-buttons' },
        h('button', { type: 'button', onclick: () => done(null) }, 'Cancel'), ok)),
    );
    document.body.appendChild(overlay);
    input.focus();
  });
}

export const fmt = {
  mm: (v) => (v === null || v === undefined ? '—' : `${Number(v).toFixed(1)} mm`),
  pct: (v) => (v === null || v === undefined ? '—' : `${v > 0 ? '+' : ''}${Number(v).toFixed(1)} %`),
  resp: (v) => (v === null || v === undefined ? '—' : String(v).replace(/_/g, '-')),
};
