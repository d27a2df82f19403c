// The status cell of a worklist timepoint. A reader sees the status of their own read; QA and admin, who have
// no read of their own, see the status of every read that exists there, as the server lists it
// ("site: signed · central (alice): in progress"), or "no read yet".
import { h } from './dom.js';

export const STATUS_LABEL = { to_read: 'to read', in_progress: 'in progress', signed: 'signed' };

export function statusCell(tp) {
  if (!Array.isArray(tp.reads)) {
    return h('span', { class: `status status-${tp.status}` }, STATUS_LABEL[tp.status] || tp.status);
  }
  const started = tp.reads.filter((r) => r.status !== 'to_read' || r.role === 'site');
  if (!tp.reads.length) return h('span', { class: 'status status-none muted' }, 'no read yet');
  return h('span', { class: 'read-statuses' }, (started.length ? started : tp.reads).map((r, k) => [
    k ? ' · ' : null,
    h('span', { class: `status status-${r.status}` },
      `${r.role}${r.role === 'site' ? '' : ` (${r.reader})`}: ${STATUS_LABEL[r.status] || r.status}`),
  ]));
}
