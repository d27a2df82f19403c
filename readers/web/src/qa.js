// The QA page (#/qa, #/qa/{pair}): concordance of the archive's signed reads — site vs the final central read,
// or the two central readers R1 vs R2 — and the reader QC of independent central review. Every figure comes
// from the server (GET /api/concordance, /api/reader-qc), the same JSON `recistry concordance --archive` and
// `recistry adjudication qc --json` print; this file only lays it out.
import * as api from './api.js';
import { h, clear } from './dom.js';
import { blandAltman } from './charts.js';

const PAIRS = [
  ['site:central', 'Site vs final central'],
  ['r1:r2', 'Central R1 vs R2'],
];
const NAMES = { 'site:central': ['site', 'central'], 'r1:r2': ['R1', 'R2'] };
const REASONS = { bor_differs: 'BOR differs', pd_timepoint_differs: 'progression timepoint differs' };

const num = (v, d = 1) => (v === null || v === undefined ? '—' : Number(v).toFixed(d));
const pct = (v, d = 1) => (v === null || v === undefined ? '—' : `${Number(v).toFixed(d)} %`);
const frac = (v) => (v === null || v === undefined ? '—' : `${(100 * v).toFixed(1)} %`);
const ci = (c, f) => (Array.isArray(c) && c.length === 2 ? ` (95 % CI ${f(c[0])} to ${f(c[1])})` : '');
const resp = (v) => (v === null || v === undefined ? '—' : String(v).replace(/_/g, ' '));

function confusion(title, t, [first, second], id) {
  if (!t) return null;
  const cats = t.categories || [];
  const used = cats.map((_, i) => t.matrix[i].some((v) => v) || t.matrix.some((r) => r[i]));
  const keep = cats.map((c, i) => i).filter((i) => used[i]);
  const idx = keep.length ? keep : cats.map((c, i) => i);
  return h('div', { class: 'qa-matrix', id },
    h('h3', {}, title),
    h('table', { class: 'grid confusion' },
      h('thead', {},
        h('tr', {}, h('th', { class: 'corner' }, `${first} ↓ / ${second} →`), idx.map((j) => h('th', { class: 'num' }, resp(cats[j]))))),
      h('tbody', {}, idx.map((i) => h('tr', {},
        h('th', {}, resp(cats[i])),
        idx.map((j) => h('td', { class: `num${i === j ? ' diag' : ''}${t.matrix[i][j] ? ' hit' : ''}` },
          String(t.matrix[i][j] || 0))))))),
    h('p', { class: 'qa-stats' },
      h('span', {}, `n ${t.n}`),
      h('span', {}, `agreement ${pct(t.agreement_pct)}`),
      h('span', { class: 'kappa' }, `Cohen's κ ${num(t.kappa, 3)}${ci(t.kappa_ci95, (v) => num(v, 3))}`)));
}

function kv(label, value) {
  return h('div', { class: 'kv' }, h('span', {}, label), h('b', {}, value));
}

/* Every Bland–Altman block of the report: bland_altman_sum_mm (SOD), and any other bland_altman_* (such as
 * the % change) when the server sends it. */
const BA_TITLES = { bland_altman_sum_mm: 'sum of diameters', bland_altman_change_pct: '% change of the sum from baseline' };

function baBlocks(report) {
  return Object.keys(report).filter((k) => k.startsWith('bland_altman') && report[k] && typeof report[k] === 'object')
    .sort((a, b) => (a === 'bland_altman_sum_mm' ? -1 : b === 'bland_altman_sum_mm' ? 1 : a.localeCompare(b)));
}

function baPoints(ba) {
  return (ba.points || []).map((p) => {
    const mk = Object.keys(p).find((k) => k.startsWith('mean'));
    const dk = Object.keys(p).find((k) => k.startsWith('diff'));
    return { x: p[mk], y: p[dk], subject: p.subject_id, timepoint: p.timepoint };
  }).filter((p) => typeof p.x === 'number' && typeof p.y === 'number');
}

function statOf(ba, prefix) {
  const k = Object.keys(ba).find((key) => key.startsWith(prefix));
  return k ? ba[k] : null;
}

function qcTables(qc) {
  const rate = (r, a, b) => `${r[a]}/${r[b]}`;
  const rateRow = (label, r, a, b) => h('tr', {}, h('td', {}, label), h('td', { class: 'num' }, rate(r, a, b)),
    h('td', { class: 'num' }, frac(r.rate)), h('td', { class: 'num muted' }, Array.isArray(r.rate_ci95) ? `${frac(r.rate_ci95[0])} to ${frac(r.rate_ci95[1])}` : '—'));
  const adj = qc.adjudication || {};
  const lv = qc.lesion_variability || {};
  const lvRows = [['all reader pairs', lv.overall], ...(lv.by_pair || []).map((r) => [`R1 ${r.r1} / R2 ${r.r2}`, r])];
  return h('div', { class: 'qa-qc', id: 'qa-reader-qc' },
    h('h2', {}, 'Reader QC', h('span', { class: 'muted small' }, ` (central reading: ${qc.paradigm})`)),
    qc.paradigm !== 'double' ? h('p', { class: 'muted' }, 'The archive reads single: one central read per subject, nothing to adjudicate.') : null,
    h('div', { class: 'qa-qc-grid' },
      h('div', {},
        h('h3', {}, 'Adjudication rate'),
        h('table', { class: 'grid small', id: 'qc-adjudication' },
          h('thead', {}, h('tr', {}, h('th', {}, ''), h('th', { class: 'num' }, 'triggered / complete'), h('th', { class: 'num' }, 'rate'), h('th', { class: 'num' }, '95 % CI'))),
          h('tbody', {},
            adj.overall ? rateRow('all subjects', adj.overall, 'triggered', 'complete') : null,
            (adj.by_pair || []).map((r) => rateRow(`R1 ${r.r1} / R2 ${r.r2}`, r, 'triggered', 'complete')),
            (adj.by_site || []).map((r) => rateRow(`site ${r.site_id}`, r, 'triggered', 'complete'))))),
      h('div', {},
        h('h3', {}, 'Adjudicator agreement'),
        (qc.adjudicator_agreement || []).length
          ? h('table', { class: 'grid small', id: 'qc-agreement' },
            h('thead', {}, h('tr', {}, h('th', {}, 'reader'), h('th', { class: 'num' }, 'chosen / adjudicated'), h('th', { class: 'num' }, 'rate'), h('th', { class: 'num' }, '95 % CI'))),
            h('tbody', {}, qc.adjudicator_agreement.map((r) => rateRow(r.reader, r, 'chosen', 'adjudicated'))))
          : h('p', { class: 'muted', id: 'qc-agreement' }, 'No subject adjudicated yet.'),
        adj.overall && adj.overall.own_read_chosen ? h('p', { class: 'muted small' }, `The adjudicator's own read stood for ${adj.overall.own_read_chosen} subject(s).`) : null)),
    h('h3', {}, 'Per-lesion variability (matched target lesions, R1 − R2)'),
    h('table', { class: 'grid small', id: 'qc-lesions' },
      h('thead', {}, h('tr', {}, ['', 'pairs (n)', 'lesions', 'subjects', 'mean diff', 'SD', '95 % limits of agreement', 'mean |rel. diff|']
        .map((t, i) => h('th', { class: i ? 'num' : null }, t)))),
      h('tbody', {}, lvRows.filter(([, r]) => r).map(([label, r]) => h('tr', {},
        h('td', {}, label), h('td', { class: 'num' }, String(r.n)), h('td', { class: 'num' }, String(r.lesions)),
        h('td', { class: 'num' }, String(r.subjects)), h('td', { class: 'num' }, `${num(r.mean_difference_mm, 2)} mm`),
        h('td', { class: 'num' }, `${num(r.sd_mm, 2)} mm`),
        h('td', { class: 'num' }, r.loa_lower_mm === null ? '—' : `${num(r.loa_lower_mm, 2)} to ${num(r.loa_upper_mm, 2)} mm`),
        h('td', { class: 'num' }, pct(r.mean_abs_relative_difference_pct)))))));
}

export async function showQa(app, pairArg, { go }) {
  const pair = PAIRS.some(([p]) => p === pairArg) ? pairArg : 'site:central';
  const charts = [];
  const view = { destroy: () => charts.splice(0).forEach((c) => c.destroy()) };
  clear(app, h('p', { class: 'loading' }, 'Loading concordance…'));
  const [report, qc] = await Promise.all([api.concordance(pair), api.readerQc()]);
  const names = NAMES[pair];
  const select = h('select', { id: 'qa-pair' }, PAIRS.map(([p, t]) => h('option', { value: p, selected: p === pair }, t)));
  select.addEventListener('change', () => go(`#/qa/${select.value}`));
  const prog = report.progression || {};
  const dr = report.discrepancy_rates || {};
  const unpaired = report.unpaired || {};
  const baCards = baBlocks(report).map((key) => {
    const ba = report[key];
    const isPct = !key.endsWith('_mm');
    const unit = isPct ? '%' : 'mm';
    const what = BA_TITLES[key] || key.replace(/^bland_altman_?/, '').replace(/_/g, ' ');
    const canvas = h('canvas', { id: `ba-${key.replace(/^bland_altman_?/, '') || 'plot'}` });
    const points = baPoints(ba);
    const stats = { bias: statOf(ba, 'mean_diff'), lower: statOf(ba, 'loa_lower'), upper: statOf(ba, 'loa_upper') };
    const card = h('div', { class: 'card qa-ba', dataset: { key } },
      h('h3', {}, `Bland–Altman: ${what} (${names[0]} − ${names[1]})`),
      h('p', { class: 'qa-stats' }, h('span', {}, `n ${ba.n}`), h('span', {}, `bias ${num(stats.bias, 2)} ${unit}`),
        h('span', {}, `SD ${num(statOf(ba, 'sd'), 2)} ${unit}`),
        h('span', {}, `limits ${num(stats.lower, 2)} to ${num(stats.upper, 2)} ${unit}`)),
      points.length ? h('div', { class: 'chart-box' }, canvas) : h('p', { class: 'muted' }, 'No paired timepoint with both sums.'));
    if (points.length) {
      card.draw = () => charts.push(blandAltman(canvas, {
        points, stats, unit, xTitle: `mean of the two reads (${unit})`, yTitle: `${names[0]} − ${names[1]} (${unit})`,
        onPick: (p) => go(`#/subject/${encodeURIComponent(p.subject)}/${encodeURIComponent(p.timepoint)}`),
      }));
    }
    return card;
  });
  const disc = report.discordant || [];
  const page = h('div', { class: 'qa-page', id: 'qa-page' },
    h('div', { class: 'qa-head' },
      h('h2', {}, 'Concordance'),
      h('label', {}, 'Reads compared ', select),
      h('span', { class: 'muted', id: 'qa-counts' },
        `${report.subjects} paired subject(s), ${report.timepoints} paired timepoint(s)` +
        (unpaired.first_only && unpaired.first_only.length ? `; ${names[0]} only: ${unpaired.first_only.length}` : '') +
        (unpaired.second_only && unpaired.second_only.length ? `; ${names[1]} only: ${unpaired.second_only.length}` : '')),
      h('span', { class: 'qa-reports' }, 'Cohort report (PDF): ',
        h('a', { id: 'report-cohort-central', href: '/api/reports/cohort.pdf?reader=central&by=indication', target: '_blank', rel: 'noopener' }, 'central'),
        ' · ',
        h('a', { id: 'report-cohort-site', href: '/api/reports/cohort.pdf?reader=site&by=indication', target: '_blank', rel: 'noopener' }, 'site'))),
    h('div', { class: 'qa-grid' },
      h('div', { class: 'card' }, confusion('Best overall response', report.best_overall_response_agreement, names, 'qa-bor')),
      h('div', { class: 'card' }, confusion('Overall response, all paired timepoints', report.overall_response_agreement, names, 'qa-tp')),
      h('div', { class: 'card qa-prog', id: 'qa-progression' },
        h('h3', {}, 'Progression'),
        h('div', { class: 'kvs' },
          kv('both PD', prog.both_pd), kv(' … at the same timepoint', prog.same_timepoint), kv(`${names[0]} PD only`, prog.first_only_pd),
          kv(`${names[1]} PD only`, prog.second_only_pd), kv('neither PD', prog.neither_pd)),
        h('h3', {}, 'Discrepancy rates'),
        h('div', { class: 'kvs' },
          kv('EDR', frac(dr.edr)), kv('LDR', frac(dr.ldr)), kv(`${names[0]} PDs`, dr.investigator_pd),
          kv('PD discrepancies', dr.pd_discrepancies)),
        h('p', { class: 'muted small' }, `EDR and LDR take the ${names[0]} read as the investigator's (Amit et al. 2011).`))),
    h('div', { class: 'qa-grid two' }, baCards),
    h('div', { class: 'card' },
      h('h3', {}, `Discordant subjects (${disc.length})`),
      disc.length
        ? h('table', { class: 'grid small', id: 'qa-discordant' },
          h('thead', {}, h('tr', {}, ['subject', 'reasons', `${names[0]} BOR`, `${names[1]} BOR`, `${names[0]} PD at`, `${names[1]} PD at`, ''].map((t) => h('th', {}, t)))),
          h('tbody', {}, disc.map((d) => h('tr', { dataset: { subject: d.subject_id } },
            h('td', {}, h('a', { href: `#/subject/${encodeURIComponent(d.subject_id)}` }, d.subject_id)),
            h('td', {}, d.reasons.map((r) => REASONS[r] || r).join(', ')),
            h('td', {}, resp(d.first && d.first.best_overall_response)), h('td', {}, resp(d.second && d.second.best_overall_response)),
            h('td', {}, (d.first && d.first.progression_timepoint) || '—'), h('td', {}, (d.second && d.second.progression_timepoint) || '—'),
            h('td', {}, h('a', { class: 'adjudicate-link', href: `#/adjudicate/${encodeURIComponent(d.subject_id)}` }, 'side by side'))))))
        : h('p', { class: 'muted' }, 'The two reads agree on BOR and progression for every paired subject.')),
    h('div', { class: 'card' }, qcTables(qc)));
  clear(app, page);
  baCards.forEach((c) => c.draw && c.draw());
  return view;
}
