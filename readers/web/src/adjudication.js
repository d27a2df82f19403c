// Adjudication: the queue (shown above the worklist of adjudicators, QA and admins) and the side-by-side page
// (#/adjudicate/{subject}): the two central reads R1 | R2 — best overall response, progression, responses per
// timepoint, differences highlighted — the lesions matched between the reads per timepoint with their key
// images, and the adjudicator's signed decision. What triggers, which lesions match and what a decision
// stores are the server's (src/reads/review.c, lesion_match.c); this page only shows them.
import * as api from './api.js';
import { h, clear, fmt } from './dom.js';

const enc = encodeURIComponent;
const REASON_TEXT = {
  bor_differs: 'best overall response differs',
  pd_timepoint_differs: 'progression date differs',
  overall_response_differs: 'overall response differs at a timepoint',
  reads_changed: 'a read changed after the decision',
};
const reasonText = (r) => REASON_TEXT[r] || r.replace(/_/g, ' ');
const STATUS_TEXT = {
  triggered: 'waiting for adjudication', stale: 'decided, but a read changed since', adjudicated: 'adjudicated',
  agreed: 'the readers agree', awaiting_reads: 'waiting for both central reads', single: 'single reading',
};

/** The adjudication queue as a worklist section, or null when the archive reads single and nothing waits. */
export async function queueSection() {
  const data = await api.adjudicationQueue();
  const queue = data.queue || [];
  if (data.paradigm !== 'double' && !queue.length) return null;
  return h('section', { class: 'card adjudication-queue', id: 'adjudication-queue' },
    h('h2', {}, 'Adjudication queue'),
    queue.length
      ? h('table', { class: 'grid' },
          h('thead', {}, h('tr', {}, ['Subject', 'Why', 'Readers', 'Status', ''].map((t) => h('th', {}, t)))),
          h('tbody', {}, queue.map((q) => h('tr', { dataset: { subject: q.subject_id } },
            h('td', { class: 'subject' }, q.subject_id),
            h('td', { class: 'adj-reasons' }, (q.reasons || []).map((r) => h('span', { class: 'reason-chip', dataset: { reason: r } }, reasonText(r)))),
            h('td', {}, `R1 ${q.readers?.r1 || '—'} · R2 ${q.readers?.r2 || '—'}`),
            h('td', {}, STATUS_TEXT[q.status] || q.status),
            h('td', {}, h('a', { class: 'adjudicate-link', href: `#/adjudicate/${enc(q.subject_id)}` }, 'Open side by side'))))))
      : h('p', { class: 'muted' }, 'No subject waits for adjudication.'));
}

const progression = (p) => (p && p.timepoint ? `${p.timepoint}${p.date ? ` (${p.date})` : ''}` : 'none');

function obsValue(obs) {
  if (!obs) return '—';
  if (obs.diameter_mm !== undefined && obs.diameter_mm !== null) return fmt.mm(obs.diameter_mm);
  if (obs.merged_into) return `merged into ${obs.merged_into}`;
  if (obs.state) return obs.state.replace(/_/g, ' ');
  return '—';
}

function keyImages(obs) {
  if (!obs) return [];
  const ms = obs.measurement ? [obs.measurement] : obs.fragments || [];
  return ms.map((m) => m.key_image_url).filter(Boolean);
}

/** A modal showing one key image at full size (click or Escape closes). */
function enlarge(url, caption) {
  const close = () => { overlay.remove(); document.removeEventListener('keydown', onKey); };
  const onKey = (e) => { if (e.key === 'Escape') close(); };
  const overlay = h('div', { class: 'modal-backdrop key-zoom', onclick: close, role: 'dialog', 'aria-label': caption },
    h('figure', {}, h('img', { src: url, alt: caption }), h('figcaption', {}, `${caption} — click to close`)));
  document.addEventListener('keydown', onKey);
  document.body.appendChild(overlay);
}

function thumbs(obs, caption) {
  return keyImages(obs).map((u) => h('img', { class: 'key-thumb', src: u, alt: caption, title: `${caption} (click to enlarge)`, loading: 'lazy',
    onclick: () => enlarge(u, caption) }));
}

export async function showAdjudication(app, subjectId, { user }) {
  clear(app, h('p', { class: 'loading' }, 'Loading both reads…'));
  const data = await api.getAdjudication(subjectId);
  const review = data.review;
  const [r1, r2] = [data.r1, data.r2];
  const res = review.results || {};
  const diff = review.differences || {};
  const names = { r1: review.readers?.r1, r2: review.readers?.r2 };
  const page = h('section', { class: 'adjudication card', id: 'adjudication', dataset: { status: review.status } });
  const tps = (r1 || r2)?.timepoints?.map((t) => t.timepoint) || [];
  const viewLink = (which, tp) => `#/subject/${enc(subjectId)}/${enc(tp || tps[tps.length - 1] || '')}?role=central&reader=${enc(names[which] || '')}`;

  // Responses R1 | R2
  const engTp = (eng, tp) => (eng?.timepoints || []).find((t) => t.timepoint === tp) || {};
  const row = (label, a, b, differs, cls) => h('tr', { class: differs ? `differs ${cls || ''}` : cls || '' },
    h('th', {}, label), h('td', { class: 'r1' }, a), h('td', { class: 'r2' }, b), h('td', { class: 'flag' }, differs ? 'differs' : ''));
  const respRows = [
    row('Best overall response', fmt.resp(res.r1?.best_overall_response), fmt.resp(res.r2?.best_overall_response), !!diff.bor, 'adj-bor'),
    row('Progression', progression(res.r1?.progression), progression(res.r2?.progression), !!diff.progression, 'adj-pd'),
    ...tps.map((tp) => {
      const a = engTp(res.r1, tp), b = engTp(res.r2, tp);
      const isBl = tp === tps[0];
      const f = (x) => `${isBl ? 'baseline' : fmt.resp(x.overall_response)}${x.sum_mm !== undefined ? ` · SOD ${fmt.mm(x.sum_mm)}` : ''}`;
      return row(`${tp} overall response`, f(a), f(b), !isBl && (a.overall_response || null) !== (b.overall_response || null), 'adj-tp');
    }),
  ];
  const head = (which, read) => h('th', { class: which },
    `${which.toUpperCase()}: ${names[which] || '—'}`,
    read ? h('a', { class: `small open-read open-${which}`, href: viewLink(which) }, ' open in viewer') : null);

  // Matched lesions per timepoint
  const lesion = (read, id) => (read?.lesions || []).find((l) => l.lesion_id === id);
  const matchTables = tps.map((tp) => {
    const rows = (data.matches || []).map((m) => {
      const la = m.r1 && lesion(r1, m.r1.lesion_id), lb = m.r2 && lesion(r2, m.r2.lesion_id);
      const oa = la?.observations?.[tp], ob = lb?.observations?.[tp];
      if (!oa && !ob) return null;
      const only = !m.r1 ? 'r2' : !m.r2 ? 'r1' : null;
      const other = only === 'r1' ? 'r2' : 'r1';
      const da = oa?.diameter_mm, db = ob?.diameter_mm;
      const d = typeof da === 'number' && typeof db === 'number' ? db - da : null;
      const desc = (l, side) => (l ? `${l.lesion_id} ${l.kind.replace('_', '-')} · ${l.organ}` : `— (not in ${side.toUpperCase()})`);
      const unmatchedNote = only ? `${(only === 'r1' ? la : lb).kind === 'new' ? 'new lesion ' : 'lesion '}${(only === 'r1' ? la : lb).lesion_id} only in ${only.toUpperCase()}` : null;
      return h('tr', { class: only ? `unmatched only-${only}` : 'matched', dataset: { r1: m.r1?.lesion_id || '', r2: m.r2?.lesion_id || '' } },
        h('td', { class: 'r1' }, h('div', {}, desc(la, 'r1')), h('div', { class: 'val' }, la ? obsValue(oa) : ''), thumbs(oa, `R1 ${la?.lesion_id || ''} ${tp}`)),
        h('td', { class: 'r2' }, h('div', {}, desc(lb, 'r2')), h('div', { class: 'val' }, lb ? obsValue(ob) : ''), thumbs(ob, `R2 ${lb?.lesion_id || ''} ${tp}`)),
        h('td', { class: 'delta' }, only ? h('span', { class: 'unmatched-note' }, unmatchedNote, h('div', { class: 'muted' }, `not found in ${other.toUpperCase()}`))
          : d === null ? '' : `${d > 0 ? '+' : d < 0 ? '\u2212' : '±'}${Math.abs(d).toFixed(1)} mm`,
          !only && m.by === 'location' && m.distance_mm !== null ? h('div', { class: 'muted small' }, `matched by location, ${Number(m.distance_mm).toFixed(0)} mm apart`) : null,
          !only && m.by === 'label' ? h('div', { class: 'muted small' }, 'matched by ID and organ') : null));
    }).filter(Boolean);
    return h('div', { class: 'match-tp', dataset: { timepoint: tp } },
      h('h3', {}, tp),
      rows.length
        ? h('table', { class: 'grid match-table' },
            h('thead', {}, h('tr', {}, h('th', {}, `R1 ${names.r1 || ''}: lesion and value`), h('th', {}, `R2 ${names.r2 || ''}: lesion and value`), h('th', {}, 'Difference (R2 − R1)'))),
            h('tbody', {}, rows))
        : h('p', { class: 'muted' }, 'No lesion recorded at this timepoint.'));
  });

  clear(page,
    h('p', {}, h('a', { href: '#/worklist' }, '← Worklist')),
    h('h2', {}, `Adjudication — ${subjectId}`),
    h('p', { class: 'adj-status', id: 'adj-status' }, `Status: ${STATUS_TEXT[review.status] || review.status}`,
      (review.reasons || []).length ? [' — ', (review.reasons || []).map((r) => h('span', { class: 'reason-chip', dataset: { reason: r } }, reasonText(r)))] : null),
    h('table', { class: 'grid side-by-side', id: 'side-by-side' },
      h('thead', {}, h('tr', {}, h('th', {}, ''), head('r1', r1), head('r2', r2), h('th', {}, ''))),
      h('tbody', {}, respRows)),
    h('h3', {}, 'Lesions matched between the reads'),
    h('p', { class: 'muted small' }, 'Paired by where each lesion was first measured (closest first). Click a key image to enlarge it.'),
    matchTables,
    decisionPanel(subjectId, data, user));
  clear(app, page);
  app.dataset.ready = '1';
}

function decisionPanel(subjectId, data, user) {
  const review = data.review;
  const adj = review.adjudication;
  const final = review.final;
  const names = review.readers || {};
  const done = adj && review.status === 'adjudicated'
    ? h('div', { class: 'decision-done', id: 'decision-done' },
        h('h3', {}, 'Decision'),
        h('dl', { class: 'kvs' },
          h('dt', {}, 'Read that stands'), h('dd', { id: 'decision-read' },
            adj.outcome === 'own' ? `the adjudicator's own read (${adj.read_reader})` : `${adj.outcome.toUpperCase()} — ${adj.read_reader}`),
          h('dt', {}, 'Signed by'), h('dd', { id: 'decision-by' }, `${adj.adjudicator || adj.decided_by || ''} at ${adj.decided_at || adj.signed_at || ''}`),
          h('dt', {}, 'Meaning'), h('dd', {}, adj.meaning || data.meaning),
          h('dt', {}, 'Reason'), h('dd', { id: 'decision-reason' }, adj.reason || ''),
          h('dt', {}, 'Final central read'), h('dd', { id: 'final-read' },
            final ? h('span', { class: 'final-flag' }, `✔ final central read: ${final.role} ${final.reader}`) : '—')))
    : adj ? h('p', { class: 'warning' }, `An earlier decision (${adj.outcome.toUpperCase()}) no longer holds: a read changed since. Decide again.`) : null;
  if (user?.role !== 'adjudicator') {
    return h('section', { class: 'decision' }, done || h('p', { class: 'muted' }, 'Only an adjudicator decides which read stands.'));
  }
  const ownComplete = data.own && (data.own.timepoints || []).length && data.own.timepoints.every((t) => t.signed);
  const choice = (value, label, enabled, note) => h('label', { class: `choice${enabled ? '' : ' disabled'}` },
    h('input', { type: 'radio', name: 'outcome', value, disabled: !enabled, dataset: { testid: `outcome-${value}` } }), ` ${label}`,
    note ? h('span', { class: 'muted small' }, ` ${note}`) : null);
  const reason = h('textarea', { id: 'adj-reason', rows: 2, required: true, maxlength: 1000, placeholder: 'Why this read stands (required)' });
  const password = h('input', { id: 'adj-password', type: 'password', autocomplete: 'current-password', required: true });
  const msg = h('p', { class: 'error', id: 'adj-error', role: 'alert' });
  const form = h('form', { class: 'decision-form', id: 'decision-form' },
    h('h3', {}, done ? 'Decide again' : 'Your decision'),
    h('div', { class: 'choices' },
      choice('r1', `R1 stands (${names.r1 || '—'})`, true),
      choice('r2', `R2 stands (${names.r2 || '—'})`, true),
      choice('own', 'My own read stands', ownComplete, ownComplete ? '' : '(read the subject yourself and sign every timepoint first)')),
    h('label', {}, 'Reason', reason),
    h('label', {}, 'Password (your electronic signature)', password),
    h('p', { class: 'muted small' }, `Signing means: “${data.meaning}”.`),
    h('button', { class: 'primary', type: 'submit', id: 'adj-sign' }, 'Sign'),
    msg);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    msg.textContent = '';
    const outcome = form.querySelector('input[name=outcome]:checked')?.value;
    if (!outcome) { msg.textContent = 'Choose which read stands.'; return; }
    if (!reason.value.trim()) { msg.textContent = 'A reason is required.'; return; }
    try {
      await api.adjudicate(subjectId, { outcome, reason: reason.value, password: password.value });
      password.value = '';
      window.dispatchEvent(new HashChangeEvent('hashchange'));
    } catch (err) {
      password.value = '';
      msg.textContent = err.message;
    }
  });
  return h('section', { class: 'decision' }, done, review.status === 'adjudicated' ? h('details', {}, h('summary', {}, 'Change the decision'), form) : form);
}
