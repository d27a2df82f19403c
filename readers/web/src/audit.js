// The audit-log viewer (#/audit?subject=&reader=&action=&from=&to=), QA and admin only: filters, the rows the
// server returns newest first, and per row the fields that changed (old → new) as the server lists them
// ("changes"), with the raw before/after JSON one click further. "Load older" asks for the next page
// (keyset: next_before). The filters live in the address, so a link from the worklist (#/audit?subject=…) or
// the browser's back button shows the same page; the server checks every value and its message is shown as is.
import * as api from './api.js';
import { h, clear } from './dom.js';

export const FILTERS = ['subject', 'reader', 'action', 'from', 'to'];
// Kept in the address but without a field: the page size (default 100 on the server).
const KEPT = [...FILTERS, 'limit'];

/** What each action records (docs/audit.md says more). */
export const ACTION_HELP = {
  'lesion.add': 'a lesion was added to a read',
  'lesion.delete': 'a lesion was deleted from a read',
  'observation.set': 'a measurement, state, point, split or merge was recorded at a timepoint',
  'timepoint.sign': 'a timepoint was signed (electronic signature)',
  'timepoint.unsign': 'a signed timepoint was reopened (with a reason)',
  'read.import': 'a whole read was imported from a file (recistry reads import)',
  'registry.import': "a subject's registry row was imported (recistry registry import)",
  'registry.edit': "an administrator changed a subject's registry data",
  'assignment.set': "an administrator changed a subject's readers",
};

const COLUMNS = ['Time (UTC)', 'Who', 'Action', 'Subject', 'Read', 'Timepoint', 'Lesion', 'Reason', ''];

/** "2026-11-29T20:35:18.051Z" → "2026-11-29 20:35:18" (the column says UTC). */
const time = (at) => String(at || '').replace('T', ' ').replace(/\.\d+Z$|Z$/, '');

/** A changed value in one cell: absent as —, numbers to 2 decimals (the stored value in the tooltip), a key
 * image as a link to it, other strings as they are, points [col, row] and objects as compact JSON. */
function value(v) {
  if (v === null || v === undefined) return h('span', { class: 'muted' }, '—');
  if (typeof v === 'number') {
    const short = Number.isInteger(v) ? String(v) : String(Number(v.toFixed(2)));
    return h('span', { title: short === String(v) ? null : String(v) }, short);
  }
  if (typeof v === 'string' && /^\/api\/key-images\/[0-9a-f]{32}\.png$/.test(v))
    return h('a', { href: v, target: '_blank', rel: 'noopener', class: 'key-image' }, 'key image');
  if (typeof v === 'string') return v;
  return h('code', {}, JSON.stringify(v, (k, x) => (typeof x === 'number' && !Number.isInteger(x) ? Number(x.toFixed(2)) : x)).replace(/,/g, ', '));
}

const pathText = (path) => (path.length ? path.map((k) => (typeof k === 'number' ? `[${k}]` : k)).join(' › ') : '(value)');

/** Menu entries: every action, and "prefix.*" for a prefix shared by several (the server's prefix filter). */
function actionOptions(actions, current) {
  const groups = {};
  for (const a of actions) {
    const p = a.includes('.') ? a.slice(0, a.indexOf('.') + 1) : null;
    if (p) groups[p] = (groups[p] || 0) + 1;
  }
  const opts = [['', 'any action']];
  for (const [p, n] of Object.entries(groups).sort()) {
    if (n > 1) opts.push([p, `${p}* (all ${n})`]);
    for (const a of actions.filter((x) => x.startsWith(p))) opts.push([a, a]);
  }
  for (const a of actions.filter((x) => !x.includes('.'))) opts.push([a, a]);
  if (current && !opts.some(([v]) => v === current)) opts.push([current, current]);
  return opts.map(([v, t]) => h('option', { value: v, selected: v === current, title: ACTION_HELP[v] || null }, t));
}

function detailRow(e) {
  const changes = e.changes || [];
  const rows = changes.map((c) =>
    h('tr', {}, h('td', { class: 'field' }, pathText(c.path)), h('td', { class: 'old' }, value(c.before)),
      h('td', { class: 'arrow' }, '→'), h('td', { class: 'new' }, value(c.after))));
  const raw = (label, v) => h('div', {}, h('div', { class: 'muted' }, label),
    h('pre', { class: 'audit-json' }, v === null || v === undefined ? '—' : JSON.stringify(v, null, 2)));
  return h('tr', { class: 'audit-detail', dataset: { seq: e.seq } },
    h('td', { colspan: COLUMNS.length },
      h('div', { class: 'audit-meta muted' }, `#${e.seq} · ${ACTION_HELP[e.action] || e.action}`,
        e.reason ? [' · reason: ', h('q', {}, e.reason)] : ''),
      changes.length
        ? h('table', { class: 'grid small audit-changes' },
            h('thead', {}, h('tr', {}, h('th', {}, 'Field'), h('th', {}, 'Before'), h('th', {}, ''), h('th', {}, 'After'))),
            h('tbody', {}, rows))
        : h('p', { class: 'muted' }, 'No field changed.'),
      e.changes_truncated ? h('p', { class: 'warn' }, `Only the first ${changes.length} changed fields are listed; the raw JSON below has them all.`) : null,
      h('details', { class: 'audit-raw' }, h('summary', {}, 'Raw before / after JSON'),
        h('div', { class: 'audit-raw-cols' }, raw('before', e.before), raw('after', e.after)))));
}

export async function showAudit(app, { params, go }) {
  clear(app, h('p', { class: 'loading' }, 'Loading the audit log…'));
  const filter = Object.fromEntries(KEPT.map((k) => [k, params.get(k) || '']));
  const section = h('section', { class: 'audit card' });
  const error = h('p', { class: 'error', role: 'alert', id: 'audit-error' });
  let data;
  try {
    data = await api.audit(filter);
  } catch (err) {
    if (err instanceof api.ApiError && err.status === 400) data = { entries: [], next_before: null, actions: [], error: err.message };
    else throw err;
  }

  const input = (k, attrs) => h('input', { id: `audit-${k}`, name: k, value: filter[k], ...attrs });
  const inputs = {
    subject: input('subject', { placeholder: 'subject ID', size: 16 }),
    reader: input('reader', { placeholder: 'account name', size: 12, title: 'who made the change, or whose read it changed' }),
    action: h('select', { id: 'audit-action', name: 'action' }, actionOptions(data.actions || [], filter.action)),
    from: input('from', { type: 'date' }),
    to: input('to', { type: 'date' }),
  };
  const form = h('form', { class: 'audit-filters', id: 'audit-filters' },
    h('label', {}, 'Subject ', inputs.subject),
    h('label', {}, 'Reader ', inputs.reader),
    h('label', {}, 'Action ', inputs.action),
    h('label', {}, 'From ', inputs.from),
    h('label', {}, 'To ', inputs.to),
    h('button', { type: 'submit', class: 'primary', id: 'audit-apply' }, 'Apply'),
    h('button', { type: 'button', id: 'audit-clear', onclick: () => apply({ limit: filter.limit }) }, 'Clear'));
  const apply = (next) => {
    const q = new URLSearchParams();
    for (const k of KEPT) if (next[k]) q.set(k, next[k]);
    const s = q.toString();
    go(`#/audit${s ? '?' + s : ''}`);
  };
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    apply({ limit: filter.limit, ...Object.fromEntries(FILTERS.map((k) => [k, inputs[k].value.trim()])) });
  });
  inputs.action.addEventListener('change', () => form.requestSubmit());

  const tbody = h('tbody', {});
  const count = h('p', { class: 'muted', id: 'audit-count' });
  const more = h('button', { type: 'button', id: 'audit-more' }, 'Load older');
  let shown = 0;
  let nextBefore = data.next_before;
  const filterLink = (k, v, text) => (v ? h('a', { href: '#', class: 'filter-link', title: `only ${k} ${v}`,
    onclick: (ev) => { ev.preventDefault(); apply({ ...filter, [k]: v }); } }, text || v) : h('span', { class: 'muted' }, '—'));

  const addRows = (entries) => {
    for (const e of entries) {
      let detail = null;
      const toggle = h('button', { type: 'button', class: 'small audit-toggle', 'aria-expanded': 'false',
        title: 'what changed (before → after)' }, `${(e.changes || []).length} change${(e.changes || []).length === 1 ? '' : 's'} ▸`);
      const row = h('tr', { class: 'audit-row', dataset: { seq: e.seq, action: e.action } },
        h('td', { class: 'nowrap' }, time(e.at)),
        h('td', {}, filterLink('reader', e.actor)),
        h('td', { class: 'nowrap', title: ACTION_HELP[e.action] || null }, h('code', {}, e.action)),
        h('td', { class: 'nowrap' }, filterLink('subject', e.subject_id)),
        h('td', { class: 'nowrap' }, e.read_role ? [`${e.read_role} `, filterLink('reader', e.reader)] : h('span', { class: 'muted' }, '—')),
        h('td', {}, e.timepoint || h('span', { class: 'muted' }, '—')),
        h('td', {}, e.lesion_id || h('span', { class: 'muted' }, '—')),
        h('td', { class: 'reason' }, e.reason || h('span', { class: 'muted' }, '—')),
        h('td', { class: 'nowrap' }, toggle));
      toggle.addEventListener('click', () => {
        const open = !detail;
        if (open) row.after((detail = detailRow(e)));
        else { detail.remove(); detail = null; }
        row.classList.toggle('open', open);
        toggle.setAttribute('aria-expanded', String(open));
        toggle.textContent = toggle.textContent.replace(open ? '▸' : '▾', open ? '▾' : '▸');
      });
      tbody.append(row);
    }
    shown += entries.length;
    count.textContent = `${shown} entr${shown === 1 ? 'y' : 'ies'} shown, newest first` + (nextBefore ? ' · older ones below' : '');
    more.hidden = !nextBefore;
  };
  more.addEventListener('click', async () => {
    more.disabled = true;
    try {
      const page = await api.audit({ ...filter, before: nextBefore });
      nextBefore = page.next_before;
      addRows(page.entries || []);
    } catch (err) {
      error.textContent = err.message;
    } finally {
      more.disabled = false;
    }
  });

  error.textContent = data.error || '';
  addRows(data.entries || []);
  clear(section,
    h('h2', {}, 'Audit log'),
    h('p', { class: 'muted' }, 'Every change to reads, sign-offs, registry data and reader assignments, as the hash-chained log records it.'),
    form, error, count,
    shown
      ? h('table', { class: 'grid audit-table', id: 'audit-table' },
          h('thead', {}, h('tr', {}, COLUMNS.map((t) => h('th', {}, t)))), tbody)
      : h('p', { class: 'muted', id: 'audit-empty' }, data.error ? '' : 'No audit entry matches these filters.'),
    h('p', {}, more),
    h('p', {}, h('a', { href: '#/worklist' }, '← Worklist')));
  clear(app, section);
}
