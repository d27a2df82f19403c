// The response panel and the warnings list of the subject screen. Everything shown is the server's: the RECIST
// engine's output for this read (`read.engine`), its error, the server's rule warnings and the ingest QC. Nothing
// is computed here.
import { h, clear, fmt } from './dom.js';

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

  renderResponse() {
    const eng = this.read.engine;
    const el = this.els.response;
    if (!eng) {
      clear(el, h('h3', {}, 'Response'), h('p', { class: 'muted' }, 'No response yet (the engine has no complete assessment).'));
      return;
    }
    const tps = eng.timepoints || [];
    const cur = tps.find((t) => t.timepoint === this.currentTp.timepoint);
    const kv = (k, v, id) => h('div', { class: 'kv' }, h('span', {}, k), h('b', { id }, v));
    clear(el,
      h('h3', {}, `Response at ${this.currentTp.timepoint}`),
      cur ? h('div', { class: 'kvs', id: 'response-current' },
        kv('SOD', fmt.mm(cur.sum_mm), 'resp-sod'),
        kv('Nadir', fmt.mm(cur.nadir_mm), 'resp-nadir'),
        kv('Change from baseline', fmt.pct(cur.change_from_baseline_pct), 'resp-chg-bl'),
        kv('Change from nadir', fmt.pct(cur.change_from_nadir_pct), 'resp-chg-nadir'),
        kv('Target', fmt.resp(cur.target_response), 'resp-target'),
        kv('Non-target', fmt.resp(cur.non_target_response), 'resp-nontarget'),
        kv('New lesions', cur.new_lesions ? 'yes' : 'no', 'resp-new'),
        kv('Overall', fmt.resp(cur.overall_response), 'resp-overall'),
        kv('Best overall response so far', fmt.resp(eng.best_overall_response), 'resp-bor'))
        : h('div', { class: 'kvs' }, h('p', { class: 'muted' }, 'This timepoint is not in the engine output yet.'),
          kv('Best overall response so far', fmt.resp(eng.best_overall_response), 'resp-bor')),
      h('table', { class: 'grid small', id: 'response-table' },
        h('thead', {}, h('tr', {}, ['TP', 'SOD', 'Δ BL', 'Δ nadir', 'T', 'NT', 'Overall'].map((t) => h('th', {}, t)))),
        h('tbody', {}, tps.map((t) => h('tr', { class: t.timepoint === this.currentTp.timepoint ? 'active' : '' },
          h('td', {}, t.timepoint), h('td', {}, fmt.mm(t.sum_mm)), h('td', {}, fmt.pct(t.change_from_baseline_pct)),
          h('td', {}, fmt.pct(t.change_from_nadir_pct)), h('td', {}, fmt.resp(t.target_response)),
          h('td', {}, fmt.resp(t.non_target_response)), h('td', {}, fmt.resp(t.overall_response)))))));
  },
};
