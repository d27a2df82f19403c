// The response panel and the warnings list of the subject screen. Everything shown is the server's: the RECIST
// engine's output for this read (`read.engine`: per timepoint, best overall response, early tumour shrinkage,
// depth of response, progression, hepatic progression), the server's confirmation note (`read.confirmation`:
// which CR/PR are not confirmed), its error, the server's rule warnings and the ingest QC. Nothing is computed
// here: the panel only chooses words for what is absent (a baseline has no change and no response yet).
import { h, clear, fmt } from './dom.js';

const days = (d) => (d === null || d === undefined ? '' : ` (day ${d})`);
const REASON = { target: 'target lesions', non_target: 'non-target lesions', new_lesion: 'new lesion' };

function progressionText(p) {
  if (!p) return 'none';
  const why = (p.reasons || []).map((r) => REASON[r] || r).join(', ');
  const confirmedAt = p.confirmed_timepoint && p.confirmed_timepoint !== p.timepoint ? `, seen as PD at ${p.confirmed_timepoint}` : '';
  return `${p.timepoint} ${p.date}${why ? ` — ${why}` : ''}${confirmedAt}`;
}

export const responseMethods = {
  renderWarnings() {
    const qc = this.currentTp.qc || [];
    const warns = this.read.warnings || [];
    const items = [
      ...qc.map((q) => h('li', { class: `qc-${q.severity}` }, `QC ${q.code}: ${q.message}`)),
      ...warns.map((w) => h('li', {}, typeof w === 'string' ? w : w.message || JSON.stringify(w))),
      this.read.engine_error ? h('li', { class: 'error' }, `Engine: ${this.read.engine_error}`) : null,
    ].filter(Boolean);
    clear(this.els.warnings, items.length ? h('ul', {}, items) : null);
  },

  /** "PR" or "PR (unconfirmed)" when the server says that timepoint's CR/PR is not confirmed. */
  respText(tp, value) {
    const unconfirmed = (this.read.confirmation?.unconfirmed_timepoints || []).includes(tp);
    return unconfirmed && value ? `${fmt.resp(value)} (unconfirmed)` : fmt.resp(value);
  },

  /**
   * Volumetric response, exploratory: the server's sum of target segmentation volumes per timepoint (when every
   * target has one) and its change from baseline. Not RECIST: shown apart, labelled so, never coloured like a
   * response. Null when no timepoint has a sum.
   */
  volumetricBlock() {
    const tps = (this.read.timepoints || []).filter((t) => t.volumetric && typeof t.volumetric.sum_ml === 'number');
    if (!tps.length) return null;
    const line = (t) => {
      const v = t.volumetric;
      const chg = typeof v.change_from_baseline_pct === 'number'
        ? `, ${v.change_from_baseline_pct > 0 ? '+' : v.change_from_baseline_pct < 0 ? '−' : ''}${Math.abs(v.change_from_baseline_pct).toFixed(0)} %` : '';
      return h('div', { class: t.timepoint === this.currentTp.timepoint ? 'vol-line active' : 'vol-line', dataset: { timepoint: t.timepoint } },
        h('span', {}, t.timepoint), h('span', {}, 'Volume (exploratory):'), h('b', {}, `${v.sum_ml.toFixed(1)} mL${chg}`));
    };
    return h('div', { class: 'volumetric', id: 'resp-volumetric',
      title: 'Sum of the target lesions’ segmentation volumes, when every target of a timepoint has one. Exploratory: not part of RECIST 1.1 and of no response.' },
    h('h4', {}, 'Volumetric (exploratory, not RECIST)'), tps.map(line));
  },

  renderResponse() {
    const eng = this.read.engine;
    const el = this.els.response;
    if (!eng) {
      clear(el, h('h3', {}, 'Response'), h('p', { class: 'muted', id: 'resp-none' }, 'Not yet measured: the response appears once every baseline target is measured.'),
        this.volumetricBlock());
      return;
    }
    const tps = eng.timepoints || [];
    const blTp = tps[0]?.timepoint;
    const followUps = tps.length > 1;
    const cur = tps.find((t) => t.timepoint === this.currentTp.timepoint);
    const atBl = cur && cur.timepoint === blTp;
    const conf = this.read.confirmation || {};
    const kv = (k, v, id, title) => h('div', { class: 'kv', title: title || '' }, h('span', {}, k), h('b', { id }, v));
    const noneYet = followUps ? null : '— (no follow-up assessed yet)';
    const measuredNothing = cur && cur.sum_mm === null && !(this.read.lesions || []).some((l) => l.kind === 'target');
    let bor = noneYet || fmt.resp(eng.best_overall_response);
    const pending = (conf.unconfirmed_timepoints || []).length && conf.best_overall_response_unconfirmed;
    if (!noneYet && pending && conf.best_overall_response_unconfirmed !== eng.best_overall_response) {
      bor += ` — ${fmt.resp(conf.best_overall_response_unconfirmed)} not confirmed yet (needs a CR/PR ≥ ${conf.min_days} days later)`;
    }
    const ets = eng.early_tumour_shrinkage;
    const dpr = eng.depth_of_response;
    const etsText = ets ? `${fmt.pct(ets.change_pct)} at ${ets.timepoint}${days(ets.days)}${ets.ets30 ? ' · ETS ≥ 30 %' : ets.ets20 ? ' · ETS ≥ 20 %' : ' · no ETS'}${ets.in_window ? '' : ' · outside the 4–8 week window'}`
      : (noneYet || '— (needs a complete first follow-up)');
    // The engine's DpR is positive for shrinkage: say which it is rather than print a "+" that reads as growth.
    const dprText = dpr ? `${Math.abs(dpr.pct).toFixed(1)} % ${dpr.pct >= 0 ? 'shrinkage' : 'growth'} at ${dpr.timepoint}` : (noneYet || '—');
    const ttn = dpr && dpr.time_to_nadir_days !== null && dpr.time_to_nadir_days !== undefined ? `${dpr.time_to_nadir_days} days (${dpr.timepoint})` : (noneYet || '—');
    clear(el,
      h('h3', {}, `Response at ${this.currentTp.timepoint}`),
      cur ? h('div', { class: 'kvs', id: 'response-current' },
        kv('SOD', measuredNothing ? 'not yet measured' : fmt.mm(cur.sum_mm), 'resp-sod'),
        atBl ? null : kv('Nadir', fmt.mm(cur.nadir_mm), 'resp-nadir'),
        kv('Change from baseline', atBl ? '— (baseline)' : fmt.pct(cur.change_from_baseline_pct), 'resp-chg-bl'),
        kv('Change from nadir', atBl ? '— (baseline)' : fmt.pct(cur.change_from_nadir_pct), 'resp-chg-nadir'),
        atBl ? null : kv('Target', fmt.resp(cur.target_response), 'resp-target'),
        atBl ? null : kv('Non-target', fmt.resp(cur.non_target_response), 'resp-nontarget'),
        atBl ? null : kv('New lesions', cur.new_lesions ? 'yes' : cur.equivocal_new_lesions ? 'equivocal only' : 'no', 'resp-new'),
        atBl ? null : kv('Overall', this.respText(cur.timepoint, cur.overall_response), 'resp-overall'))
        : h('div', { class: 'kvs' }, h('p', { class: 'muted' }, 'This timepoint is not in the engine output yet.')),
      h('div', { class: 'kvs', id: 'response-subject' },
        kv('Best overall response so far', bor, 'resp-bor', conf.required ? `CR/PR confirmed by a second assessment ≥ ${conf.min_days} days later (RECIST 1.1)` : ''),
        kv('Early tumour shrinkage', etsText, 'resp-ets'),
        kv('Depth of response', dprText, 'resp-dpr'),
        kv('Time to nadir', ttn, 'resp-ttn', 'from the treatment start'),
        kv('Progression', followUps ? progressionText(eng.progression) : noneYet, 'resp-progression'),
        kv('Hepatic progression', followUps ? progressionText(eng.hepatic_progression) : noneYet, 'resp-hepatic')),
      h('table', { class: 'grid small', id: 'response-table' },
        h('thead', {}, h('tr', {}, ['TP', 'SOD', 'Δ BL', 'Δ nadir', 'T', 'NT', 'Overall'].map((t) => h('th', {}, t)))),
        h('tbody', {}, tps.map((t) => {
          const bl = t.timepoint === blTp;
          return h('tr', { class: t.timepoint === this.currentTp.timepoint ? 'active' : '' },
            h('td', {}, t.timepoint), h('td', {}, fmt.mm(t.sum_mm)), h('td', {}, bl ? '—' : fmt.pct(t.change_from_baseline_pct)),
            h('td', {}, bl ? '—' : fmt.pct(t.change_from_nadir_pct)), h('td', {}, fmt.resp(t.target_response)),
            h('td', {}, fmt.resp(t.non_target_response)), h('td', {}, this.respText(t.timepoint, t.overall_response)));
        }))),
      this.volumetricBlock());
  },
};
