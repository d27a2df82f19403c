// The worklist: subjects and their timepoints as the server lists them (a central reader with assignments sees
// only their assigned subjects: the server decides), with the number of timepoints per status, filters (site,
// status, reader) and a sort order kept for the session, and — for an admin — the readers assigned to each subject
// (PUT /api/assignments). Filtering and sorting only choose which server rows are shown and in what order.
import * as api from './api.js';
import { h, clear } from './dom.js';
import { statusCell } from './read_status.js';

export const STATUS_LABEL = { to_read: 'to read', in_progress: 'in progress', signed: 'signed' };
const SORTS = {
  subject: ['subject', (a, b) => a.subject_id.localeCompare(b.subject_id)],
  site: ['site', (a, b) => String(a.site_id).localeCompare(String(b.site_id)) || a.subject_id.localeCompare(b.subject_id)],
  latest: ['latest study first', (a, b) => lastDate(b).localeCompare(lastDate(a)) || a.subject_id.localeCompare(b.subject_id)],
  open: ['most to read first', (a, b) => open(b) - open(a) || a.subject_id.localeCompare(b.subject_id)],
};
const lastDate = (s) => String((s.timepoints || []).map((t) => t.date || '').sort().pop() || '');
const open = (s) => (s.timepoints || []).filter((t) => t.status !== 'signed').length;
const KEY = 'rcy-worklist-view';

function loadState() {
  try {
    return { site: '', status: '', reader: '', sort: 'subject', ...JSON.parse(sessionStorage.getItem(KEY) || '{}') };
  } catch {
    return { site: '', status: '', reader: '', sort: 'subject' };
  }
}

export async function showWorklist(app, { user }) {
  clear(app, h('p', { class: 'loading' }, 'Loading worklist…'));
  const data = await api.worklist();
  const subjects = data.subjects || [];
  const state = loadState();
  const isAdmin = user?.role === 'admin';
  const hasReaders = subjects.some((s) => Array.isArray(s.readers));
  const sites = [...new Set(subjects.map((s) => s.site_id).filter(Boolean))].sort();
  const readers = [...new Set(subjects.flatMap((s) => s.readers || []))].sort();
  const section = h('section', { class: 'worklist card' });

  const render = () => {
    sessionStorage.setItem(KEY, JSON.stringify(state));
    const shown = subjects
      .filter((s) => !state.site || s.site_id === state.site)
      .filter((s) => !state.status || (s.timepoints || []).some((t) => t.status === state.status))
      .filter((s) => !state.reader || (state.reader === '-' ? !(s.readers || []).length : (s.readers || []).includes(state.reader)))
      .sort((SORTS[state.sort] || SORTS.subject)[1]);
    const counts = Object.fromEntries(Object.keys(STATUS_LABEL).map((k) => [k, 0]));
    for (const s of shown) for (const t of s.timepoints || []) counts[t.status] = (counts[t.status] || 0) + 1;
    const select = (id, key, options, label) => {
      const el = h('select', { id, title: label }, options.map(([v, t]) => h('option', { value: v, selected: state[key] === v }, t)));
      el.addEventListener('change', () => { state[key] = el.value; render(); });
      return h('label', {}, `${label} `, el);
    };
    const rows = [];
    for (const s of shown) {
      (s.timepoints || []).forEach((tp, k) => {
        rows.push(h('tr', { dataset: { subject: s.subject_id, timepoint: tp.timepoint }, class: s.assigned ? 'assigned' : '' },
          k === 0 ? h('td', { rowspan: s.timepoints.length, class: 'subject' }, s.subject_id,
            h('div', { class: 'muted' }, s.site_id || ''),
            s.assigned ? h('div', { class: 'muted assigned-note' }, 'assigned to you') : null,
            hasReaders ? readersCell(s, isAdmin) : null,
            ['qa', 'admin'].includes(user?.role) ? h('div', { class: 'subject-links' },
              h('a', { class: 'registry-link small', href: `#/registry/${encodeURIComponent(s.subject_id)}` }, 'registry'),
              h('a', { class: 'audit-link small', href: `#/audit?subject=${encodeURIComponent(s.subject_id)}` }, 'audit log')) : null) : null,
          h('td', {}, h('a', { href: `#/subject/${encodeURIComponent(s.subject_id)}/${encodeURIComponent(tp.timepoint)}`, class: 'open-tp' }, tp.timepoint)),
          h('td', {}, tp.date || ''),
          h('td', {}, tp.modality || ''),
          h('td', {}, statusCell(tp)),
          h('td', { class: 'qc' }, (tp.qc || []).map((q) => h('div', { class: `qc-${q.severity}` }, q.message)))));
      });
    }
    clear(section,
      h('h2', {}, 'Worklist'),
      h('div', { class: 'worklist-tools' },
        select('wl-site', 'site', [['', 'all sites'], ...sites.map((x) => [x, x])], 'Site'),
        select('wl-status', 'status', [['', 'any status'], ...Object.entries(STATUS_LABEL)], 'Status'),
        hasReaders ? select('wl-reader', 'reader', [['', 'any reader'], ['-', 'unassigned'], ...readers.map((x) => [x, x])], 'Reader') : null,
        select('wl-sort', 'sort', Object.entries(SORTS).map(([k, [t]]) => [k, t]), 'Sort')),
      isAdmin ? roundRobinTool() : null,
      h('p', { class: 'worklist-counts', id: 'worklist-counts' },
        `${shown.length} subject(s) · timepoints: `,
        Object.entries(STATUS_LABEL).map(([k, t], i) => [i ? ' · ' : '', h('span', { dataset: { status: k } }, `${t} ${counts[k] || 0}`)])),
      shown.length
        ? h('table', { class: 'grid', id: 'worklist' },
            h('thead', {}, h('tr', {}, ['Subject', 'Timepoint', 'Date', 'Modality', 'Status', 'QC'].map((t) => h('th', {}, t)))),
            h('tbody', {}, rows))
        : h('p', { class: 'muted' }, subjects.length ? 'No subject matches these filters.' : 'No subjects are ready for you to read.'));
  };

  /** An admin's round-robin assignment of every subject without readers (the rule is the server's). */
  function roundRobinTool() {
    const names = h('input', { id: 'rr-readers', size: 22, placeholder: 'central readers: alice, bob, …',
      title: 'Subjects without readers are given these readers in turn' });
    const per = h('select', { id: 'rr-per' }, h('option', { value: '1' }, '1 reader (single)'), h('option', { value: '2' }, '2 readers (R1, R2)'));
    const msg = h('span', { class: 'muted', id: 'rr-msg' });
    const go = h('button', { type: 'button', id: 'rr-go', class: 'small', onclick: async () => {
      const list = names.value.split(',').map((x) => x.trim()).filter(Boolean);
      msg.className = 'muted';
      try {
        const r = await api.roundRobin(list, Number(per.value));
        for (const a of r.assigned || []) {
          const s = subjects.find((x) => x.subject_id === a.subject_id);
          if (s) s.readers = a.readers;
        }
        render();
        const m = document.getElementById('rr-msg');
        if (m) m.textContent = ` ${r.assigned.length} subject(s) assigned`;
      } catch (err) {
        msg.textContent = ` ${err.message}`;
        msg.className = 'error';
      }
    } }, 'Assign unassigned round-robin');
    return h('div', { class: 'worklist-tools round-robin' }, h('label', {}, 'Round robin ', names), per, go, msg,
      h('span', { class: 'muted small' }, ' In double reading the first reader of each subject is R1, the second R2.'));
  }

  /** Readers of a subject; an admin edits them (comma-separated account names) and saves. */
  function readersCell(s, editable) {
    if (!editable) return h('div', { class: 'muted readers' }, (s.readers || []).length ? `readers: ${s.readers.join(', ')}` : 'unassigned');
    const input = h('input', { class: 'assign-input', dataset: { subject: s.subject_id }, value: (s.readers || []).join(', '),
      placeholder: 'R1, R2 (central readers)', size: 14,
      title: 'Central readers in order, comma-separated. In double reading the first central reader is R1, the second R2.' });
    const msg = h('span', { class: 'muted' });
    const save = h('button', { type: 'button', class: 'small assign-save', dataset: { subject: s.subject_id }, onclick: async () => {
      const names = input.value.split(',').map((x) => x.trim()).filter(Boolean);
      try {
        await api.putAssignments(s.subject_id, names);
        s.readers = names;
        msg.textContent = ' saved';
      } catch (err) {
        msg.textContent = ` ${err.message}`;
        msg.className = 'error';
      }
    } }, 'Assign');
    return h('div', { class: 'readers' }, input, save, msg, h('div', { class: 'muted small' }, 'first = R1, second = R2'));
  }

  render();
  clear(app, section);
}
