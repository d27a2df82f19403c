// The TARE cohort page (#/dose-cohort[?threshold=youden|GY]; QA and admin): the cohort analyses of the
// companion study — tumour dose against the % change at 3 months with the Youden and 189 Gy lines, the ROC
// curves with their AUC and CI, Bland–Altman of the MAA-predicted against the 90Y PET dose per compartment,
// Kaplan–Meier of time to progression by dose group with the log-rank p — and the tables of the numbers
// (Mann–Whitney, logistic b1 and the 50 % dose, Lin's CCC). Everything comes from GET /api/dose-response, the
// document of `recistry dose-response --json` (docs/dosimetry.md "Cohort analyses"); this page computes
// nothing, it lays the numbers out (and converts days to months on the Kaplan–Meier axis, as the endpoints page).
import * as api from './api.js';
import { h, clear } from './dom.js';
import { doseScatter, roc, blandAltman, kaplanMeier } from './charts.js';

const EANM_GY = 189;
const fmt = (v, d = 1) => (v === null || v === undefined || Number.isNaN(v) ? '—' : Number(v).toFixed(d));
/* A range: "a–b", or "a to b" when a bound is negative (−64.0–101.6 would read as a subtraction). */
const ci = (c, d = 1) => (Array.isArray(c) && c[0] !== null && c[1] !== null
  ? `${fmt(c[0], d)}${c[0] < 0 || c[1] < 0 ? ' to ' : '–'}${fmt(c[1], d)}` : '—');
/* A median's CI whose upper bound was not reached (the curve stays above 0.5): "lo–NR". */
const medianCi = (c) => (Array.isArray(c) && c[0] !== null ? `${fmt(c[0], 0)}–${c[1] === null ? 'NR' : fmt(c[1], 0)}` : '—');
const pval = (p) => (p === null || p === undefined ? '—' : p < 0.001 ? '< 0.001' : fmt(p, 3));
const ok = (part) => part && !part.error;
const BINARY = [
  ['dose_response', 'per_tumour', 'Response, per tumour'],
  ['dose_response', 'per_patient', 'Response, per patient'],
  ['dose_toxicity', 'grade_ge3', 'Toxicity grade ≥ 3'],
  ['dose_toxicity', 'grade_ge2', 'Toxicity grade ≥ 2'],
];
const ROC_COLORS = { per_tumour: '#4aa3ff', per_patient: '#3ec27a', grade_ge3: '#ff6b6b', grade_ge2: '#f0b541' };
const GROUP_COLORS = { below: '#ff9f43', above: '#56b4e9' };

function cell(text, key, title) { return h('td', { class: 'num', dataset: key ? { key } : {}, title: title || null }, text); }

/* One row per binary analysis: the groups, Mann–Whitney, the logistic model and the ROC. A part that could
 * not be computed shows its reason in the cell's tooltip. */
function binaryTable(doc) {
  const heads = ['n (+/−)', 'mean dose + / − (Gy)', 'difference (95 % CI)', 'Mann–Whitney U, p', 'logistic b1 per Gy (SE), p',
    'dose for 50 % (Gy)', 'AUC (95 % CI)', 'Youden threshold, Gy (95 % CI)', 'sens. / spec.'];
  return h('table', { class: 'grid small dc-table', id: 'dc-binary' },
    h('thead', {}, h('tr', {}, h('th', {}, 'outcome'), heads.map((t) => h('th', { class: 'num' }, t)))),
    h('tbody', {}, BINARY.map(([sec, key, name]) => {
      const b = (doc[sec] || {})[key] || {};
      const mw = b.mann_whitney || {}, lg = b.logistic || {}, r = b.roc || {}, bs = b.bootstrap || {};
      return h('tr', { dataset: { analysis: key }, title: `${b.dose || ''}: ${b.outcome || ''}` },
        h('th', {}, name, b.error ? h('span', { class: 'muted small' }, ` (${b.error})`) : null),
        cell(`${b.n ?? '—'} (${b.n_positive ?? '—'}/${b.n_negative ?? '—'})`, 'n', b.n_patients ? `${b.n_patients} patients` : null),
        cell(`${fmt(b.mean_gy_positive)} / ${fmt(b.mean_gy_negative)}`, 'means'),
        cell(`${fmt(b.diff_mean_gy)} (${ci(bs.diff_mean_ci95_gy)})`, 'diff'),
        cell(ok(mw) ? `${fmt(mw.u, 1)}, ${pval(mw.p)}` : '—', 'mwu', ok(mw) ? `${mw.method}; U of the ${b.positive}` : mw.error),
        cell(ok(lg) ? `${fmt(lg.b1, 4)} (${fmt(lg.se_b1, 4)}), ${pval(lg.p_b1)}` : '—', 'b1', ok(lg) ? `b0 ${fmt(lg.b0, 3)}` : lg.error),
        cell(ok(lg) ? fmt(lg.dose50_gy) : '—', 'dose50', ok(lg) ? null : lg.error),
        cell(ok(r) ? `${fmt(r.auc, 3)} (${ci(bs.auc_ci95, 3)})` : '—', 'auc', ok(r) ? null : r.error),
        cell(ok(r) ? `${fmt(r.youden_threshold_gy)} (${ci(bs.youden_threshold_ci95_gy)})` : '—', 'youden', ok(r) ? `J ${fmt(r.youden_j, 3)}` : r.error),
        cell(ok(r) ? `${fmt(r.sensitivity, 2)} / ${fmt(r.specificity, 2)}` : '—', 'sensspec'));
    })));
}

function concordanceTable(doc) {
  const heads = ['n', 'mean MAA / 90Y (Gy)', 'bias (Gy)', 'SD (Gy)', '95 % limits (Gy)', 'bias %', '95 % limits %', 'Pearson r', "Lin's CCC (95 % CI)"];
  return h('table', { class: 'grid small dc-table', id: 'dc-concordance' },
    h('thead', {}, h('tr', {}, h('th', {}, 'compartment'), heads.map((t) => h('th', { class: 'num' }, t)))),
    h('tbody', {}, (doc.concordance || []).map((c) => h('tr', { dataset: { compartment: c.compartment } },
      h('th', {}, c.compartment, c.error ? h('span', { class: 'muted small' }, ` (${c.error})`) : null),
      cell(String(c.n), 'n'),
      cell(`${fmt(c.mean_maa_gy)} / ${fmt(c.mean_y90_gy)}`, 'means'),
      cell(fmt(c.bias_gy), 'bias'), cell(fmt(c.sd_gy), 'sd'), cell(ci(c.loa95_gy), 'loa'),
      cell(fmt(c.bias_pct), 'bias_pct'), cell(ci(c.loa95_pct), 'loa_pct'),
      cell(fmt(c.pearson_r, 3), 'r'), cell(c.ccc === undefined ? '—' : `${fmt(c.ccc, 3)} (${ci(c.ccc_ci95, 3)})`, 'ccc')))));
}

function ttpTable(ttp) {
  return h('table', { class: 'grid small dc-table', id: 'dc-ttp' },
    h('thead', {}, h('tr', {}, h('th', {}, 'dose group'), ['n', 'events', 'median TTP, days (95 % CI)'].map((t) => h('th', { class: 'num' }, t)))),
    h('tbody', {}, (ttp.groups || []).map((g) => h('tr', { dataset: { group: g.group } },
      h('th', {}, groupLabel(ttp, g.group)),
      cell(String(g.n), 'n'), cell(String(g.events), 'events'),
      cell(!g.km ? '—' : g.km.median_days === null ? 'not reached' : `${fmt(g.km.median_days, 0)} (${medianCi(g.km.median_ci95_days)})`, 'median')))));
}

function groupLabel(ttp, group) {
  return `${group === 'above' ? '≥' : '<'} ${fmt(ttp.threshold_gy, 0)} Gy`;
}

function plotCard(title, id, stats, empty, draw) {
  const canvas = h('canvas', { id });
  const card = h('div', { class: 'card dc-plot', dataset: { plot: id } }, h('h3', {}, title),
    stats ? h('p', { class: 'qa-stats' }, stats) : null,
    empty ? h('p', { class: 'muted' }, empty) : h('div', { class: 'chart-box' }, canvas));
  if (!empty) card.draw = () => draw(canvas);
  return card;
}

export async function showDoseCohort(app, { params, go }) {
  const charts = [];
  const view = { destroy: () => charts.splice(0).forEach((c) => c.destroy()) };
  const threshold = params.get('threshold');
  clear(app, h('p', { class: 'loading' }, 'Computing the cohort analyses…'));
  let doc;
  try {
    doc = await api.doseResponse(threshold ? { threshold_gy: threshold } : null);
  } catch (err) {
    clear(app, h('div', { class: 'qa-page', id: 'dose-cohort-page' },
      h('div', { class: 'qa-head' }, h('h2', {}, 'TARE cohort')),
      h('p', { class: 'error card', id: 'dc-error', role: 'alert' }, err.message)));
    return view;
  }
  const pt = doc.dose_response.per_tumour, pp = doc.dose_response.per_patient;
  const rocT = ok(pt) && ok(pt.roc) ? pt.roc : null;
  const bootT = (ok(pt) && pt.bootstrap && !pt.bootstrap.error) ? pt.bootstrap : {};
  const ttp = doc.ttp || {};

  const select = h('select', { id: 'dc-threshold' },
    h('option', { value: '', selected: !threshold }, `${EANM_GY} Gy (EANM 2022)`),
    h('option', { value: 'youden', selected: threshold === 'youden' }, 'per-patient Youden threshold'));
  select.addEventListener('change', () => go(`#/dose-cohort${select.value ? `?threshold=${select.value}` : ''}`));

  const cards = [];
  const keep = (c) => { cards.push(c); return c; };
  const scatter = (doc.dose_vs_change || []).map((p) => ({ x: p.tumour_mean_gy, y: p.pct_change_3m, responder: p.responder }));
  const rocCurves = BINARY.map(([sec, key, name]) => {
    const b = doc[sec][key];
    if (!ok(b) || !ok(b.roc)) return null;
    const pts = b.roc.points.map(([thr, fpr, tpr]) => ({ x: fpr, y: tpr, threshold: thr }));
    const y = pts.find((p) => p.threshold === b.roc.youden_threshold_gy) || null;
    return { key, label: `${name}: AUC ${fmt(b.roc.auc, 3)}`, color: ROC_COLORS[key], points: pts, youden: y };
  }).filter(Boolean);
  const respCurves = rocCurves.filter((c) => c.key === 'per_tumour' || c.key === 'per_patient');
  const toxCurves = rocCurves.filter((c) => c.key === 'grade_ge3' || c.key === 'grade_ge2');
  const kmSeries = (ttp.groups || []).filter((g) => g.km).map((g) => ({
    label: `${groupLabel(ttp, g.group)} (n ${g.n}, ${g.events} events)`, color: GROUP_COLORS[g.group], curve: g.km.points }));
  const lr = ttp.logrank;

  const page = h('div', { class: 'qa-page dc-page', id: 'dose-cohort-page' },
    h('div', { class: 'qa-head' },
      h('h2', {}, 'TARE cohort: dose–response'),
      h('span', { class: 'muted', id: 'dc-counts' }, `${doc.n_patients} patients, ${doc.n_tumours} tumours · bootstrap ${doc.options.bootstrap} replicates (seed ${doc.options.seed})`),
      h('label', {}, 'Dose groups for time to progression ', select)),
    h('p', { class: 'qa-stats dc-headline', id: 'dc-headline' },
      h('span', {}, 'Per tumour: AUC ', h('b', { id: 'dc-auc' }, rocT ? fmt(rocT.auc, 3) : '—'),
        ` (95 % CI ${ci(bootT.auc_ci95, 3)})`),
      h('span', {}, 'Youden threshold ', h('b', { id: 'dc-youden' }, rocT ? fmt(rocT.youden_threshold_gy, 1) : '—'),
        ` Gy (95 % CI ${ci(bootT.youden_threshold_ci95_gy)})`),
      h('span', {}, `per patient: AUC ${ok(pp) && ok(pp.roc) ? fmt(pp.roc.auc, 3) : '—'}`),
      h('span', { id: 'dc-logrank' }, `TTP log-rank p ${lr ? pval(lr.p) : '—'}`)),
    h('div', { class: 'dc-grid' },
      keep(plotCard('Tumour dose vs % change at 3 months', 'dc-scatter',
        `${scatter.length} tumours with a % change`,
        scatter.length ? null : 'No tumour with a % change.',
        (c) => charts.push(doseScatter(c, {
          points: scatter,
          vlines: [{ x: EANM_GY, label: `EANM 2022 ${EANM_GY} Gy`, color: '#c8ccd4' },
            ...(rocT ? [{ x: rocT.youden_threshold_gy, label: `Youden ${fmt(rocT.youden_threshold_gy, 0)} Gy`, color: '#ff6b6b' }] : [])],
        })))),
      keep(plotCard('ROC: tumour dose vs response', 'dc-roc', 'diamond: the Youden point',
        respCurves.length ? null : (pt.error || 'No ROC curve could be computed.'),
        (c) => charts.push(roc(c, { curves: respCurves })))),
      keep(plotCard('ROC: normal-liver dose vs toxicity', 'dc-roc-tox', doc.dose_toxicity.spearman_grade && !doc.dose_toxicity.spearman_grade.error
        ? `Spearman ρ (dose, highest grade) ${fmt(doc.dose_toxicity.spearman_grade.rho, 3)}, p ${pval(doc.dose_toxicity.spearman_grade.p)}` : null,
        toxCurves.length ? null : 'No ROC curve could be computed.',
        (c) => charts.push(roc(c, { curves: toxCurves })))),
      keep(plotCard('Time to progression by dose group', 'dc-km',
        lr ? `log-rank χ² ${fmt(lr.chisq, 2)}, df ${lr.df}, p ${pval(lr.p)} · groups: tumour dose ≥ ${fmt(ttp.threshold_gy, 1)} Gy (${ttp.threshold_source})` : (ttp.error || null),
        kmSeries.length ? null : (ttp.error || 'No time to progression in the cohort.'),
        (c) => charts.push(kaplanMeier(c, { series: kmSeries, title: 'progression-free' })))),
      (doc.concordance || []).map((cp) => {
        const pts = (cp.points || []).map((p) => ({ x: p.mean_gy, y: p.diff_gy, subject: `MAA ${fmt(p.maa_gy)} Gy`, timepoint: `90Y ${fmt(p.y90_gy)} Gy` }));
        const stats = { bias: cp.bias_gy ?? null, lower: cp.loa95_gy ? cp.loa95_gy[0] : null, upper: cp.loa95_gy ? cp.loa95_gy[1] : null };
        return keep(plotCard(`Bland–Altman, ${cp.compartment.replace(/_/g, ' ')}: 90Y − MAA`, `dc-ba-${cp.compartment}`,
          cp.error ? null : `n ${cp.n} · bias ${fmt(cp.bias_gy)} Gy · limits ${ci(cp.loa95_gy)} Gy · CCC ${fmt(cp.ccc, 3)} (${ci(cp.ccc_ci95, 3)})`,
          cp.error || (pts.length ? null : 'No pair.'),
          (c) => charts.push(blandAltman(c, { points: pts, stats, unit: 'Gy', xTitle: 'mean of MAA and 90Y dose (Gy)', yTitle: '90Y − MAA (Gy)' }))));
      })),
    h('div', { class: 'card' }, h('h3', {}, 'Dose–response and dose–toxicity'), binaryTable(doc),
      h('p', { class: 'muted small' }, 'Responder: the lesion\'s longest diameter ≤ −30 % at 3 months (per tumour), CR or PR (per patient). Toxicity: the patient\'s highest CTCAE grade against the normal-liver mean dose. Mann–Whitney two-sided; logistic P = 1/(1+exp(−(b0 + b1·dose))), Wald p; 95 % CIs: bootstrap percentiles with patients resampled. Hover a cell for details.')),
    h('div', { class: 'dc-wide' },
      h('div', { class: 'card' }, h('h3', {}, 'MAA-predicted vs 90Y PET dose'), concordanceTable(doc)),
      h('div', { class: 'card' }, h('h3', {}, 'Time to progression'), ttpTable(ttp),
        lr ? h('p', { class: 'muted small' }, `Log-rank: observed ${fmt(lr.observed[0], 0)} / ${fmt(lr.observed[1], 0)}, expected ${fmt(lr.expected[0], 1)} / ${fmt(lr.expected[1], 1)} (below / above).`) : null)),
    doc.warnings && doc.warnings.length
      ? h('div', { class: 'card', id: 'dc-warnings' }, h('h3', {}, 'Checks of the tables'), h('ul', { class: 'small' }, doc.warnings.map((w) => h('li', {}, w))))
      : null);
  clear(app, page);
  cards.forEach((c) => c.draw && c.draw());
  return view;
}
