// The endpoints page (#/endpoints): the registry's endpoints by indication, the site reads and the final
// central reads side by side — response rates with their Clopper–Pearson CIs, ETS, depth of response and time
// to nadir, Kaplan–Meier curves of PFS, hepatic PFS and OS with the median and its CI, survival at 6/12/24
// months and the numbers at risk, the log-rank test across indications — and the per-subject plots (waterfall,
// spider, swimmer). Every figure comes from the server (GET /api/endpoints, the document of `recistry endpoints
// --json`, and GET /api/endpoints/subjects); this file lays them out and converts days to months for the axes.
import * as api from './api.js';
import { h, clear } from './dom.js';
import { kaplanMeier, waterfall, spider, swimmer, INDICATION_COLORS } from './charts.js';

const READERS = [['site', 'Site investigators'], ['central', 'Final central read']];
const SURVIVAL = [['pfs', 'Progression-free survival'], ['hpfs', 'Hepatic progression-free survival'], ['os', 'Overall survival']];
const MONTH_DAYS = 365.25 / 12;
const GROUP_NAMES = {
  all: 'All subjects', first_line: 'First line', consolidation: 'Consolidation', intensification: 'Intensification',
  salvage: 'Salvage', ablation_combination: 'With ablation', other: 'Other',
};

const fmt = (v, d = 1) => (v === null || v === undefined ? '—' : Number(v).toFixed(d));
const months = (days) => (days === null || days === undefined ? null : days / MONTH_DAYS);
const ciText = (c, f) => (Array.isArray(c) && (c[0] !== null || c[1] !== null) ? `${f(c[0])}–${f(c[1])}` : '—');
const rateText = (r) => (r && r.pct !== null ? `${fmt(r.pct)} % (${r.count}/${r.n})` : `— (0/${r ? r.n : 0})`);
const groupName = (g) => GROUP_NAMES[g] || g;
/* Opens the read the plot shows (the site read, or the central reader whose read is final), not the default one. */
const subjectLink = (go, subject, tp, read) => go(`#/subject/${encodeURIComponent(subject)}${tp ? `/${encodeURIComponent(tp)}` : ''}` +
  (read && read.role && read.reader ? `?role=${encodeURIComponent(read.role)}&reader=${encodeURIComponent(read.reader)}` : ''));

function cell(text, attrs = {}) { return h('td', { class: 'num', ...attrs }, text); }

/* Rates, ETS and DpR per group, for one reader: each rate as "% (CI)", its count/n in the cell's tooltip.
 * Cells carry data-group/data-key for the tests. */
function rateCell(r, key) {
  return cell(r && r.pct !== null ? `${fmt(r.pct)} (${ciText(r.ci95_pct, (v) => fmt(v))})` : '—',
    { dataset: { key }, title: `${r ? r.count : 0}/${r ? r.n : 0} subjects` });
}

function responseTable(doc, reader) {
  const cols = ['n', 'ORR % (95 % CI)', 'DCR % (95 % CI)', 'ETS20 / 30 %', 'DpR % (IQR)', 'nadir, days (IQR)'];
  return h('table', { class: 'grid small ep-table', id: `ep-response-${reader}` },
    h('thead', {}, h('tr', {}, h('th', {}, 'group'), cols.map((c) => h('th', { class: 'num' }, c)))),
    h('tbody', {}, doc.groups.map((g) => h('tr', { dataset: { group: g.group } },
      h('th', {}, groupName(g.group)),
      cell(String(g.n), { dataset: { key: 'n' } }),
      rateCell(g.orr, 'orr'), rateCell(g.dcr, 'dcr'),
      h('td', { class: 'num' },
        h('span', { dataset: { key: 'ets20' }, title: `ETS20 ${g.ets20.count}/${g.ets20.n}, 95 % CI ${ciText(g.ets20.ci95_pct, (v) => fmt(v))}` }, g.ets20.pct === null ? '—' : fmt(g.ets20.pct)),
        ' / ',
        h('span', { dataset: { key: 'ets30' }, title: `ETS30 ${g.ets30.count}/${g.ets30.n}, 95 % CI ${ciText(g.ets30.ci95_pct, (v) => fmt(v))}` }, g.ets30.pct === null ? '—' : fmt(g.ets30.pct))),
      cell(g.dpr.n ? `${fmt(g.dpr.median_pct)} (${fmt(g.dpr.q1_pct)}–${fmt(g.dpr.q3_pct)})` : '—', { dataset: { key: 'dpr' }, title: `${g.dpr.n} subjects with a DpR` }),
      cell(g.dpr.n ? `${fmt(g.dpr.time_to_nadir_median_days, 0)} (${fmt(g.dpr.time_to_nadir_q1_days, 0)}–${fmt(g.dpr.time_to_nadir_q3_days, 0)})` : '—', { dataset: { key: 'ttn' } })))));
}

/* One survival endpoint for one reader: the curves (one per indication; 'all' alone when there is a single
 * group), then per group events, median (95 % CI) in months, survival at the landmarks and the numbers at risk. */
function survivalCard(doc, reader, key, charts) {
  const groups = doc.groups.length > 1 ? doc.groups.slice(1) : doc.groups;
  const canvas = h('canvas', { id: `km-${key}-${reader}` });
  const lm = (g) => g[key].landmarks || [];
  const lr = doc.logrank && doc.logrank[key];
  const card = h('div', { class: 'card ep-km', dataset: { reader, endpoint: key } },
    h('h3', {}, `${READERS.find(([r]) => r === reader)[1]}`),
    doc.groups[0].n ? h('div', { class: 'chart-box km-box' }, canvas) : h('p', { class: 'muted' }, 'No subject with a read and a registry row.'),
    h('table', { class: 'grid small ep-risk-table', id: `km-risk-${key}-${reader}` },
      h('thead', {}, h('tr', {}, h('th', {}, 'at risk, months'), ['0', '6', '12', '24'].map((m) => h('th', { class: 'num' }, m)))),
      h('tbody', {}, groups.map((g) => h('tr', { dataset: { group: g.group } },
        h('th', {}, h('span', { class: 'swatch', style: `background:${INDICATION_COLORS[g.group] || '#888'}` }), groupName(g.group)),
        cell(String(g[key].n), { dataset: { key: 'risk0' } }),
        lm(g).map((p) => cell(String(p.n_risk), { dataset: { key: `risk${p.months}` } })))))),
    h('table', { class: 'grid small ep-km-table', id: `km-table-${key}-${reader}` },
      h('thead', {}, h('tr', {}, h('th', {}, 'group'), h('th', { class: 'num' }, 'events/n'),
        h('th', { class: 'num' }, 'median, months (95 % CI)'), ['6', '12', '24'].map((m) => h('th', { class: 'num' }, `S(${m} mo) %`)))),
      h('tbody', {}, doc.groups.map((g) => h('tr', { dataset: { group: g.group } },
        h('th', {}, groupName(g.group)),
        cell(`${g[key].events}/${g[key].n}`, { dataset: { key: 'events' } }),
        cell(!g[key].n ? '—' : g[key].median_days === null ? 'not reached' : `${fmt(months(g[key].median_days))} (${ciText(g[key].median_ci95_days, (v) => (v === null ? 'NR' : fmt(months(v))))})`, { dataset: { key: 'median' } }),
        lm(g).map((p) => cell(p.surv === null ? '—' : fmt(100 * p.surv), { dataset: { key: `surv${p.months}` }, title: `95 % CI ${ciText(p.ci95, (v) => (v === null ? '—' : fmt(100 * v)))}, at risk ${p.n_risk}` })))))),
    lr ? h('p', { class: 'muted small ep-logrank', id: `logrank-${key}-${reader}` }, lr.df === 0
      ? 'Log-rank across indications: not computed (fewer than two indications with an expected event).'
      : `Log-rank across indications: χ² ${fmt(lr.chisq, 2)}, df ${lr.df}, p ${lr.p === null ? '—' : lr.p < 0.001 ? '< 0.001' : fmt(lr.p, 3)}`) : null);
  if (doc.groups[0].n) {
    card.draw = () => charts.push(kaplanMeier(canvas, {
      title: key.toUpperCase(),
      series: groups.map((g) => ({ label: groupName(g.group), group: g.group, color: INDICATION_COLORS[g.group] || '#888', curve: g[key].curve })),
    }));
  }
  return card;
}

function waterfallBars(subjects) {
  return subjects.filter((s) => s.best_change_pct !== null)
    .map((s) => ({ subject: s.subject_id, value: s.best_change_pct, bor: s.best_overall_response, timepoint: s.best_change_timepoint }));
}

function spiderLines(subjects) {
  return subjects.map((s) => ({
    subject: s.subject_id, bor: s.best_overall_response,
    points: [{ x: 0, y: 0, day: 0, timepoint: s.timepoints[0] ? s.timepoints[0].timepoint : null }].concat(
      s.timepoints.slice(1).filter((t) => t.change_from_baseline_pct !== null)
        .map((t) => ({ x: months(Math.max(0, t.day)), y: t.change_from_baseline_pct, day: t.day, timepoint: t.timepoint }))),
  })).filter((l) => l.points.length > 1);
}

function swimmerRows(subjects) {
  return [...subjects].sort((a, b) => (b.survival.os.time_days - a.survival.os.time_days) || (a.subject_id < b.subject_id ? -1 : 1))
    .map((s) => ({
      subject: s.subject_id, end: months(s.survival.os.time_days), color: `${INDICATION_COLORS[s.indication] || '#888'}40`,
      assessments: s.timepoints.slice(1).map((t) => ({ x: months(Math.max(0, t.day)), response: t.overall_response, timepoint: t.timepoint })),
      progression: months(s.progression_day), hepatic_progression: months(s.hepatic_progression_day),
      death: months(s.death_day), alive: s.death_day === null ? months(s.last_contact_day) : null,
      resection: months(s.secondary_resection_day),
    }));
}

function plotCard(title, id, note, box, empty, draw) {
  const canvas = h('canvas', { id });
  const card = h('div', { class: 'card ep-plot' }, h('h3', {}, title), note ? h('p', { class: 'muted small' }, note) : null,
    empty ? h('p', { class: 'muted' }, empty) : h('div', { class: `chart-box ${box}` }, canvas));
  if (!empty) card.draw = () => draw(canvas);
  return card;
}

export async function showEndpoints(app, { go }) {
  const charts = [];
  const view = { destroy: () => charts.splice(0).forEach((c) => c.destroy()) };
  clear(app, h('p', { class: 'loading' }, 'Computing the endpoints…'));
  const [site, central, siteSubjects, centralSubjects] = await Promise.all([
    api.endpoints('site', 'indication'), api.endpoints('central', 'indication'),
    api.endpointSubjects('site'), api.endpointSubjects('central')]);
  const docs = { site, central };
  const subjects = { site: siteSubjects.subjects, central: centralSubjects.subjects };
  const unread = { site: siteSubjects.n_unread, central: centralSubjects.n_unread };
  const cards = [];
  const keep = (c) => { cards.push(c); return c; };
  const readOf = Object.fromEntries(READERS.map(([r]) => [r, Object.fromEntries(subjects[r].map((x) => [x.subject_id, x.read]))]));
  const pickIn = (r) => (p) => subjectLink(go, p.subject, p.timepoint, readOf[r][p.subject]);
  const perReader = (fn) => h('div', { class: 'ep-pair' }, READERS.map(([r]) => keep(fn(r))));
  const page = h('div', { class: 'qa-page ep-page', id: 'endpoints-page' },
    h('div', { class: 'qa-head' }, h('h2', {}, 'Registry endpoints'),
      h('span', { class: 'muted', id: 'ep-counts' }, READERS.map(([r, name]) =>
        `${name}: ${docs[r].groups[0].n} subject(s)${unread[r] ? ` (${unread[r]} registry subject(s) without a read)` : ''}`).join(' · '))),
    h('h2', { class: 'ep-section' }, 'Response (RECIST 1.1)'),
    h('div', { class: 'ep-pair' }, READERS.map(([r, name]) => h('div', { class: 'card ep-response', dataset: { reader: r } },
      h('h3', {}, name), responseTable(docs[r], r),
      h('p', { class: 'muted small' }, 'ORR: BOR CR or PR; DCR: CR, PR, SD or non-CR/non-PD; 95 % CI Clopper–Pearson (hover a cell for count/n). ETS20/30: ≤ −20 % / −30 % at the first follow-up, 4–8 weeks after treatment start (CI on hover). DpR: shrinkage at the nadir; nadir: time to it.')))),
    SURVIVAL.map(([key, name]) => [h('h2', { class: 'ep-section' }, name), perReader((r) => survivalCard(docs[r], r, key, charts))]),
    h('h2', { class: 'ep-section' }, 'Waterfall: best % change of the sum of diameters'),
    perReader((r) => {
      const bars = waterfallBars(subjects[r]);
      return plotCard(READERS.find(([x]) => x === r)[1], `waterfall-${r}`, null, 'waterfall-box', bars.length ? null : 'No subject with a follow-up sum.',
        (c) => charts.push(waterfall(c, { bars, onPick: pickIn(r) })));
    }),
    h('h2', { class: 'ep-section' }, 'Spider: % change of the sum over time'),
    perReader((r) => {
      const lines = spiderLines(subjects[r]);
      return plotCard(READERS.find(([x]) => x === r)[1], `spider-${r}`, null, 'spider-box', lines.length ? null : 'No subject with a follow-up sum.',
        (c) => charts.push(spider(c, { lines, onPick: pickIn(r) })));
    }),
    h('h2', { class: 'ep-section' }, 'Swimmer: each subject from treatment start to death or last contact'),
    perReader((r) => {
      const rows = swimmerRows(subjects[r]);
      const card = plotCard(READERS.find(([x]) => x === r)[1], `swimmer-${r}`, 'Bars coloured by indication; markers: each assessment\'s overall response and the events.', 'swimmer-box',
        rows.length ? null : 'No subject with a read and a registry row.', (c) => charts.push(swimmer(c, { rows, onPick: pickIn(r) })));
      const box = card.querySelector('.swimmer-box');
      if (box) box.style.height = `${Math.max(220, 80 + rows.length * 9)}px`;
      return card;
    }));
  clear(app, page);
  cards.forEach((c) => c.draw && c.draw());
  return view;
}
