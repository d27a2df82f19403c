// The registry data of one subject (#/registry/{subject}): treatment start, indication, liver-only disease,
// death, last contact and secondary resection dates. QA sees them; an administrator changes them, always with a
// reason (kept in the audit log with before and after). The server checks every rule (dates in order, not in
// the future, a known indication) and its message is shown as is.
import * as api from './api.js';
import { h, clear } from './dom.js';

const DATES = [['treatment_start', 'Treatment start'], ['death_date', 'Death'], ['last_contact_date', 'Last contact'],
  ['secondary_resection_date', 'Secondary resection']];

export async function showRegistry(app, subjectId) {
  clear(app, h('p', { class: 'loading' }, 'Loading registry data…'));
  const data = await api.getRegistry(subjectId);
  const row = data.registry || {};
  const edit = !!data.editable;
  const msg = h('div', { id: 'registry-message' });
  const say = (text, kind = 'info') => clear(msg, text ? h('p', { class: kind, role: kind === 'error' ? 'alert' : null }, text) : null);
  const inputs = {};
  const field = (key, label, control) => h('label', { class: 'reg-field' }, h('span', {}, label), control);
  for (const [key] of DATES) inputs[key] = h('input', { type: 'date', id: `reg-${key}`, value: row[key] || '', disabled: !edit });
  inputs.indication = h('select', { id: 'reg-indication', disabled: !edit },
    h('option', { value: '' }, '—'), (data.indications || []).map((v) => h('option', { value: v, selected: row.indication === v }, v.replace(/_/g, ' '))));
  const lo = row.liver_only === true ? 'yes' : row.liver_only === false ? 'no' : '';
  inputs.liver_only = h('select', { id: 'reg-liver-only', disabled: !edit },
    [['', 'not given'], ['yes', 'yes'], ['no', 'no']].map(([v, t]) => h('option', { value: v, selected: lo === v }, t)));
  const reason = edit ? h('textarea', { id: 'reg-reason', rows: 2, placeholder: 'Reason for the change (kept in the audit log)' }) : null;
  const form = h('form', { class: 'registry-form', id: 'registry-form' },
    field('treatment_start', 'Treatment start', inputs.treatment_start),
    field('indication', 'Indication', inputs.indication),
    field('liver_only', 'Liver-only disease', inputs.liver_only),
    DATES.slice(1).map(([k, t]) => field(k, t, inputs[k])),
    edit ? field('reason', 'Reason', reason) : null,
    edit ? h('button', { class: 'primary', type: 'submit', id: 'reg-save' }, 'Save') : null);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (!reason.value.trim()) {
      say('A reason is required: say why the registry data change.', 'error');
      return;
    }
    const body = { indication: inputs.indication.value || null, reason: reason.value.trim(),
      liver_only: inputs.liver_only.value === '' ? null : inputs.liver_only.value === 'yes' };
    for (const [k] of DATES) body[k] = inputs[k].value || null;
    try {
      const saved = await api.putRegistry(subjectId, body);
      reason.value = '';
      say(`Saved (${saved.registry.updated_by}, ${saved.registry.updated_at}).`);
      clear(updated, updatedText(saved.registry));
    } catch (err) {
      say(err.message, 'error');
    }
  });
  const updatedText = (r) => (r && r.updated_by ? `Last changed by ${r.updated_by} at ${r.updated_at}.` : 'No registry data yet.');
  const updated = h('p', { class: 'muted', id: 'registry-updated' }, updatedText(data.registry));
  clear(app, h('section', { class: 'registry card' },
    h('h2', {}, `Registry data of ${subjectId}`, row.site_id ? h('span', { class: 'muted' }, ` (site ${row.site_id})`) : null),
    h('p', { class: 'muted' }, edit ? 'Changes are checked by the server and audited with your reason.' : `Read-only (${'QA'}): only an administrator changes registry data.`),
    updated, msg, form,
    h('p', {}, h('a', { id: 'report-subject', href: `/api/reports/subject/${encodeURIComponent(subjectId)}.pdf`, target: '_blank', rel: 'noopener' },
      'Subject report (PDF): reads, responses, key images, signatures')),
    h('p', {}, h('a', { href: '#/worklist' }, '← Worklist'))));
}
