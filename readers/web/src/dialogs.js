// The UI's own modal dialogs (never the browser's prompt/confirm): a reason to type (changing a signed
// timepoint) and a confirmation that says what a change will replace. Esc or Cancel closes either with no effect.
import { h } from './dom.js';

function modal(title, body, buttons, { onKey, cls } = {}) {
  const overlay = h('div', { class: `modal-overlay${cls ? ' ' + cls : ''}`, role: 'dialog', 'aria-modal': 'true' },
    h('div', { class: 'modal' }, h('h3', {}, title), body, h('div', { class: 'modal-buttons' }, buttons)));
  const keys = (e) => {
    if (e.key === 'Escape') {
      e.preventDefault();
      e.stopPropagation();
      onKey('Escape');
    }
  };
  // Capture phase on window: the dialog sees Esc before anything else (the viewer's keys are off while it is open).
  window.addEventListener('keydown', keys, true);
  document.body.appendChild(overlay);
  return () => {
    window.removeEventListener('keydown', keys, true);
    overlay.remove();
  };
}

/**
 * Modal text prompt (the reason for changing a signed timepoint). Resolves to the trimmed text, or null when
 * cancelled (Cancel or Esc). An empty or blank reason is refused with a message in the dialog.
 */
export function askText(title, placeholder) {
  return new Promise((resolve) => {
    const input = h('textarea', { class: 'modal-input', rows: 3, placeholder: placeholder || '' });
    const error = h('p', { class: 'modal-error error', role: 'alert' });
    let close = null;
    const done = (v) => {
      close();
      resolve(v);
    };
    const ok = h('button', { class: 'primary', type: 'button', onclick: () => {
      const v = input.value.trim();
      if (!v) {
        error.textContent = 'a reason is required';
        input.focus();
        return;
      }
      done(v);
    } }, 'OK');
    input.addEventListener('input', () => { error.textContent = ''; });
    close = modal(title, [input, error],
      [h('button', { type: 'button', class: 'cancel', onclick: () => done(null) }, 'Cancel'), ok],
      { onKey: () => done(null) });
    input.focus();
  });
}

/** Modal confirmation: resolves true on the OK button, false on Cancel or Esc. Cancel has the focus. */
export function confirmDialog(title, text, okLabel = 'OK') {
  return new Promise((resolve) => {
    let close = null;
    const done = (v) => {
      close();
      resolve(v);
    };
    const cancel = h('button', { type: 'button', class: 'cancel', onclick: () => done(false) }, 'Cancel');
    close = modal(title, h('p', { class: 'modal-text' }, text),
      [cancel, h('button', { type: 'button', class: 'primary', onclick: () => done(true) }, okLabel)],
      { onKey: () => done(false), cls: 'confirm' });
    cancel.focus();
  });
}

/**
 * Modal electronic signature: shows what the signature means and asks for the user's password (the same
 * Esc/Cancel handling as askText; a blank password is refused in the dialog). Resolves to the password, or
 * null when cancelled. Enter submits.
 */
export function askPassword(title, meaning, okLabel = 'Sign') {
  return new Promise((resolve) => {
    const input = h('input', { class: 'modal-input', type: 'password', id: 'sign-password', autocomplete: 'current-password', placeholder: 'Your password' });
    const error = h('p', { class: 'modal-error error', role: 'alert' });
    let close = null;
    let settled = false;
    const done = (v) => {
      if (settled) return; // a double click on OK submits once
      settled = true;
      close();
      resolve(v);
    };
    const submit = () => {
      if (!input.value) {
        error.textContent = 'your password is required to sign';
        input.focus();
        return;
      }
      done(input.value);
    };
    const ok = h('button', { class: 'primary', type: 'button', id: 'sign-ok', onclick: submit }, okLabel);
    input.addEventListener('input', () => { error.textContent = ''; });
    input.addEventListener('keydown', (e) => { if (e.key === 'Enter') { e.preventDefault(); submit(); } });
    close = modal(title, [
      h('p', { class: 'modal-text sign-meaning', id: 'sign-meaning' }, `By entering your password you sign: “${meaning}”.`),
      input, error],
    [h('button', { type: 'button', class: 'cancel', onclick: () => done(null) }, 'Cancel'), ok],
    { onKey: () => done(null), cls: 'sign' });
    input.focus();
  });
}
