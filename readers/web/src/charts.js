// Chart helpers over Chart.js (tree-shaken: only the parts the registry's plots use). One place for the dark
// theme and the plot kinds, so the QA page's Bland–Altman and the endpoints page's waterfall, spider, swimmer
// and Kaplan–Meier plots look alike. Each helper returns the Chart (also on canvas.rcyChart, where the browser
// tests find the drawn elements); the caller destroys it when its view goes. Nothing here computes a statistic:
// the curves, values and events come from the server as they are.
import {
  Chart, ScatterController, LineController, BarController, PointElement, LineElement, BarElement,
  LinearScale, CategoryScale, Tooltip, Legend,
} from 'chart.js';

/* Horizontal reference lines across the whole plot area (options.plugins.rcyRefLines: [{y, color}]): a line
 * dataset would need two x values, which a one-subject waterfall does not have. {x, color, dash}: a vertical
 * line across the plot's height. */
const refLinesPlugin = {
  id: 'rcyRefLines',
  afterDatasetsDraw(chart, args, opts) {
    const lines = (opts && opts.lines) || [];
    const { ctx, chartArea: a, scales: { y } } = chart;
    ctx.save();
    for (const l of lines) {
      if (l.x !== undefined) { /* a vertical line (the cohort page's dose thresholds) */
        const px = chart.scales.x.getPixelForValue(l.x);
        if (px < a.left || px > a.right) continue;
        ctx.strokeStyle = l.color;
        ctx.lineWidth = 1.5;
        ctx.setLineDash(l.dash || [6, 4]);
        ctx.beginPath();
        ctx.moveTo(px, a.top);
        ctx.lineTo(px, a.bottom);
        ctx.stroke();
        continue;
      }
      const py = y.getPixelForValue(l.y);
      if (py < a.top || py > a.bottom) continue;
      ctx.strokeStyle = l.color;
      ctx.lineWidth = 1.2;
      ctx.setLineDash([6, 4]);
      ctx.beginPath();
      ctx.moveTo(a.left, py);
      ctx.lineTo(a.right, py);
      ctx.stroke();
    }
    ctx.restore();
  },
};

Chart.register(ScatterController, LineController, BarController, PointElement, LineElement, BarElement,
  LinearScale, CategoryScale, Tooltip, Legend, refLinesPlugin);

const css = (name, fallback) =>
  getComputedStyle(document.documentElement).getPropertyValue(name).trim() || fallback;

function theme() {
  const text = css('--text', '#dfe3ea');
  const muted = css('--muted', '#8a93a3');
  const line = css('--line', '#2f3540');
  Chart.defaults.color = muted;
  Chart.defaults.borderColor = line;
  Chart.defaults.font.family = 'system-ui, sans-serif';
  Chart.defaults.font.size = 12;
  return { text, muted, line, accent: css('--accent', '#4aa3ff'), warn: css('--warn', '#f0b541'), err: css('--err', '#ff6b6b') };
}

const fixed = (v, d = 1) => (v === null || v === undefined ? '—' : Number(v).toFixed(d));

/**
 * Bland–Altman plot: mean of the two measurements (x) against their difference (y), the bias line and the
 * 95 % limits of agreement. points: [{x, y, subject, timepoint}]; stats: {bias, lower, upper} (null when
 * unknown); unit: 'mm' | '%'; onPick(point): a click on a point.
 */
export function blandAltman(canvas, { points, stats, unit, xTitle, yTitle, onPick }) {
  const t = theme();
  const xs = points.map((p) => p.x);
  const xmin = xs.length ? Math.min(...xs) : 0;
  const xmax = xs.length ? Math.max(...xs) : 1;
  const pad = (xmax - xmin) * 0.05 || 1;
  const step = xmax - xmin > 200 ? 50 : xmax - xmin > 20 ? 5 : 1; /* axis ends on round values: no crowded odd end ticks */
  const lo = step * Math.floor((xmin - pad) / step), hi = step * Math.ceil((xmax + pad) / step);
  const hline = (y, label, color, dash) => ({
    type: 'line', label: `${label} ${fixed(y)} ${unit}`, data: [{ x: lo, y }, { x: hi, y }],
    borderColor: color, borderWidth: 1.5, borderDash: dash, pointRadius: 0, pointHitRadius: 0, fill: false,
  });
  const datasets = [{
    type: 'scatter', label: 'timepoints', data: points, backgroundColor: t.accent, borderColor: t.accent,
    pointRadius: 4, pointHoverRadius: 7,
  }];
  if (stats && stats.bias !== null && stats.bias !== undefined) datasets.push(hline(stats.bias, 'bias', t.warn, []));
  if (stats && stats.lower !== null && stats.lower !== undefined) {
    datasets.push(hline(stats.upper, 'upper LoA', t.err, [6, 4]));
    datasets.push(hline(stats.lower, 'lower LoA', t.err, [6, 4]));
  }
  const chart = new Chart(canvas, {
    data: { datasets },
    options: {
      responsive: true, maintainAspectRatio: false, animation: false,
      interaction: { mode: 'nearest', intersect: true },
      scales: {
        x: { type: 'linear', min: lo, max: hi, title: { display: true, text: xTitle } },
        y: { type: 'linear', title: { display: true, text: yTitle } },
      },
      plugins: {
        legend: { labels: { boxWidth: 12, filter: (item) => item.datasetIndex > 0 } },
        tooltip: {
          filter: (item) => item.datasetIndex === 0,
          callbacks: {
            title: (items) => items.map((i) => `${i.raw.subject} · ${i.raw.timepoint}`),
            label: (i) => `mean ${fixed(i.raw.x)} ${unit}, difference ${fixed(i.raw.y)} ${unit}`,
          },
        },
      },
      onClick: (evt, elements) => {
        const hit = elements.find((e) => e.datasetIndex === 0);
        if (hit && onPick) onPick(points[hit.index]);
      },
      onHover: (evt, elements) => {
        evt.native.target.style.cursor = elements.some((e) => e.datasetIndex === 0) ? 'pointer' : 'default';
      },
    },
  });
  canvas.rcyChart = chart; /* browser tests find the points' pixels here */
  return chart;
}

/* Colours: one per indication (Okabe–Ito, readable on the dark theme) and one per response. */
export const INDICATION_COLORS = {
  all: '#c8ccd4', first_line: '#56b4e9', consolidation: '#009e73', intensification: '#e69f00',
  salvage: '#ff6b6b', ablation_combination: '#cc79a7', other: '#f0e442',
};
export const RESPONSE_COLORS = {
  CR: '#1f9d55', PR: '#3ec27a', SD: '#4aa3ff', NON_CR_NON_PD: '#7fb8ff', PD: '#ff6b6b', NE: '#8a93a3', NONE: '#8a93a3',
};
const responseLabel = (r) => (r ? String(r).replace(/_/g, ' ') : 'no BOR');
const MONTH_DAYS = 365.25 / 12;

function pointerCursor(isHit) {
  return (evt, elements) => { evt.native.target.style.cursor = elements.some(isHit) ? 'pointer' : 'default'; };
}

/**
 * Kaplan–Meier curves: one step line per series, starting at (0, 1), with a tick at each time that has
 * censorings. series: [{label, color, curve: [{t, surv, n_event, n_censor}]}] (the server's curve rows);
 * x in months. The line stops at the last time of the curve (no estimate after it).
 */
export function kaplanMeier(canvas, { series, title }) {
  theme();
  const datasets = [];
  let tmax = 0;
  series.forEach((s) => {
    const steps = [{ x: 0, y: 1 }];
    (s.curve || []).forEach((p) => { if (p.surv !== null) steps.push({ x: p.t / MONTH_DAYS, y: p.surv, row: p }); });
    tmax = Math.max(tmax, ...steps.map((p) => p.x));
    datasets.push({
      type: 'line', label: s.label, data: steps, stepped: 'before', borderColor: s.color, backgroundColor: s.color,
      borderWidth: 2, pointRadius: 0, pointHitRadius: 6, fill: false, rcyKind: 'curve', rcyGroup: s.label,
    });
    const censored = (s.curve || []).filter((p) => p.n_censor > 0 && p.surv !== null)
      .map((p) => ({ x: p.t / MONTH_DAYS, y: p.surv, row: p }));
    datasets.push({
      type: 'scatter', label: `${s.label} censored`, data: censored, borderColor: s.color, backgroundColor: s.color,
      pointStyle: 'line', rotation: 90, pointRadius: 5, borderWidth: 1.5, pointHoverRadius: 6, rcyKind: 'censor',
      rcyGroup: s.label,
    });
  });
  const xmax = Math.max(6, 6 * Math.ceil(tmax / 6));
  const chart = new Chart(canvas, {
    data: { datasets },
    options: {
      responsive: true, maintainAspectRatio: false, animation: false, parsing: true,
      interaction: { mode: 'nearest', intersect: false, axis: 'x' },
      scales: {
        x: { type: 'linear', min: 0, max: xmax, ticks: { stepSize: 6 }, title: { display: true, text: 'months from treatment start' } },
        y: { type: 'linear', min: 0, max: 1, ticks: { stepSize: 0.2 }, title: { display: true, text: title || 'survival' } },
      },
      plugins: {
        legend: { position: 'bottom', labels: { boxWidth: 12, boxHeight: 2, filter: (item, data) => data.datasets[item.datasetIndex].rcyKind === 'curve' } },
        tooltip: {
          filter: (item) => item.dataset.rcyKind === 'curve' && item.raw.row,
          callbacks: {
            title: (items) => (items.length ? `day ${items[0].raw.row.t} (${fixed(items[0].raw.x)} months)` : ''),
            label: (i) => `${i.dataset.label}: S = ${fixed(i.raw.y, 3)}, at risk ${i.raw.row.n_risk}, events ${i.raw.row.n_event}`,
          },
        },
      },
    },
  });
  canvas.rcyChart = chart;
  return chart;
}

/**
 * Waterfall: one bar per subject, its best % change of the sum of diameters, sorted from the largest growth
 * to the deepest shrinkage, coloured by BOR, with the −30 % (PR) and +20 % (PD) reference lines.
 * bars: [{subject, value, bor, timepoint}]; onPick(bar) on a click.
 */
export function waterfall(canvas, { bars, onPick }) {
  const t = theme();
  const sorted = [...bars].sort((a, b) => b.value - a.value || (a.subject < b.subject ? -1 : 1));
  const labels = sorted.map((b) => b.subject);
  const bors = [...new Set(sorted.map((b) => b.bor || 'NONE'))]
    .sort((a, b) => Object.keys(RESPONSE_COLORS).indexOf(a) - Object.keys(RESPONSE_COLORS).indexOf(b));
  const datasets = bors.map((bor) => ({
    type: 'bar', label: responseLabel(bor), rcyKind: 'bars', grouped: false,
    data: sorted.map((b) => ((b.bor || 'NONE') === bor ? b.value : null)),
    backgroundColor: RESPONSE_COLORS[bor] || t.muted, borderWidth: 0, barPercentage: 1, categoryPercentage: 0.9, maxBarThickness: 28,
  }));
  const ref = (y, label, color) => ({ /* legend entry only: the line is drawn by rcyRefLines */
    type: 'line', label, data: [], borderColor: color, borderDash: [6, 4], borderWidth: 1.2, pointRadius: 0, fill: false, rcyKind: 'ref',
  });
  datasets.push(ref(20, '+20 % (PD)', t.err), ref(-30, '−30 % (PR)', t.accent));
  const vals = sorted.map((b) => b.value);
  const chart = new Chart(canvas, {
    data: { labels, datasets },
    options: {
      responsive: true, maintainAspectRatio: false, animation: false,
      interaction: { mode: 'index', intersect: false },
      scales: {
        x: { type: 'category', ticks: { display: labels.length <= 30, autoSkip: true, maxRotation: 90, minRotation: 60 }, grid: { display: false }, title: { display: true, text: `subjects (n = ${labels.length})` } },
        y: { type: 'linear', suggestedMin: Math.min(-40, ...vals), suggestedMax: Math.max(30, ...vals), title: { display: true, text: 'best % change' } },
      },
      plugins: {
        rcyRefLines: { lines: [{ y: 20, color: t.err }, { y: -30, color: t.accent }] },
        legend: { position: 'bottom', labels: { boxWidth: 12 } },
        tooltip: {
          filter: (item) => item.dataset.rcyKind === 'bars' && item.raw !== null,
          callbacks: {
            title: (items) => items.map((i) => sorted[i.dataIndex].subject),
            label: (i) => `${fixed(sorted[i.dataIndex].value)} % at ${sorted[i.dataIndex].timepoint || '—'}, BOR ${responseLabel(sorted[i.dataIndex].bor)}`,
          },
        },
      },
      onClick: (evt, elements) => {
        const hit = elements.find((e) => chart.data.datasets[e.datasetIndex].rcyKind === 'bars');
        if (hit && onPick) onPick(sorted[hit.index]);
      },
      onHover: pointerCursor((e) => e.element && chart.data.datasets[e.datasetIndex].rcyKind === 'bars'),
    },
  });
  chart.rcyBars = sorted;
  canvas.rcyChart = chart;
  return chart;
}

/**
 * Spider: each subject's % change of the sum from baseline over time (months), one line per subject,
 * coloured by BOR. lines: [{subject, bor, points: [{x: months, y: pct, timepoint}]}]; onPick({subject, timepoint}).
 */
export function spider(canvas, { lines, onPick }) {
  const t = theme();
  const datasets = lines.map((l) => ({
    type: 'line', label: l.subject, data: l.points, rcyKind: 'subject', rcyBor: l.bor,
    borderColor: RESPONSE_COLORS[l.bor || 'NONE'] || t.muted, backgroundColor: RESPONSE_COLORS[l.bor || 'NONE'] || t.muted,
    borderWidth: 1.2, pointRadius: 2, pointHoverRadius: 5, fill: false,
  }));
  const xmax = Math.max(3, ...lines.flatMap((l) => l.points.map((p) => p.x)));
  ['CR', 'PR', 'SD', 'NON_CR_NON_PD', 'PD', 'NE'].forEach((bor) => {
    if (lines.some((l) => l.bor === bor)) {
      datasets.push({ type: 'line', label: responseLabel(bor), data: [], borderColor: RESPONSE_COLORS[bor], backgroundColor: RESPONSE_COLORS[bor], rcyKind: 'legend' });
    }
  });
  datasets.push({ type: 'line', label: '+20 %', data: [], borderColor: t.err, borderDash: [6, 4], borderWidth: 1, pointRadius: 0, rcyKind: 'ref' });
  datasets.push({ type: 'line', label: '−30 %', data: [], borderColor: t.accent, borderDash: [6, 4], borderWidth: 1, pointRadius: 0, rcyKind: 'ref' });
  const chart = new Chart(canvas, {
    data: { datasets },
    options: {
      responsive: true, maintainAspectRatio: false, animation: false,
      interaction: { mode: 'nearest', intersect: true },
      scales: {
        x: { type: 'linear', min: 0, suggestedMax: xmax, title: { display: true, text: 'months from treatment start' } },
        y: { type: 'linear', suggestedMin: -40, suggestedMax: 30, title: { display: true, text: '% change from baseline' } },
      },
      plugins: {
        rcyRefLines: { lines: [{ y: 20, color: t.err }, { y: -30, color: t.accent }] },
        legend: { position: 'bottom', labels: { boxWidth: 12, filter: (item, data) => data.datasets[item.datasetIndex].rcyKind !== 'subject' } },
        tooltip: {
          filter: (item) => item.dataset.rcyKind === 'subject',
          callbacks: {
            title: (items) => items.map((i) => `${i.dataset.label} · ${i.raw.timepoint}`),
            label: (i) => `${fixed(i.raw.y)} % at day ${i.raw.day}, BOR ${responseLabel(i.dataset.rcyBor)}`,
          },
        },
      },
      onClick: (evt, elements) => {
        const hit = elements.find((e) => chart.data.datasets[e.datasetIndex].rcyKind === 'subject');
        if (hit && onPick) onPick({ subject: chart.data.datasets[hit.datasetIndex].label, timepoint: chart.data.datasets[hit.datasetIndex].data[hit.index].timepoint });
      },
      onHover: pointerCursor((e) => chart.data.datasets[e.datasetIndex].rcyKind === 'subject'),
    },
  });
  canvas.rcyChart = chart;
  return chart;
}

const EVENT_STYLE = {
  progression: { label: 'progression', pointStyle: 'triangle', color: '#ff6b6b', radius: 5 },
  hepatic_progression: { label: 'hepatic progression', pointStyle: 'rectRot', color: '#e69f00', radius: 4 },
  death: { label: 'death', pointStyle: 'crossRot', color: '#dfe3ea', radius: 6 },
  alive: { label: 'alive at last contact', pointStyle: 'line', color: '#dfe3ea', radius: 6 },
  resection: { label: 'secondary resection', pointStyle: 'star', color: '#cc79a7', radius: 6 },
};

/**
 * Swimmer: one horizontal bar per subject from treatment start to death or last contact (months), with a
 * marker for each assessment coloured by its overall response and the events (progression, hepatic
 * progression, death, last contact alive, secondary resection). rows: [{subject, end, indicationColor,
 * assessments: [{x, response, timepoint}], progression, hepatic_progression, death, alive, resection}] (x in
 * months; an event absent is null). onPick({subject, timepoint}).
 */
export function swimmer(canvas, { rows, onPick }) {
  const t = theme();
  const labels = rows.map((r) => r.subject);
  const k = rows.length > 60 ? 0.7 : 1; /* a few hundred rows: smaller markers, no overlap between rows */
  const datasets = [{
    type: 'bar', label: 'follow-up', indexAxis: 'y', rcyKind: 'bar', data: rows.map((r) => [0, r.end]),
    backgroundColor: rows.map((r) => r.color || t.line), borderWidth: 0, barPercentage: 0.7, categoryPercentage: 1,
  }];
  const responses = ['CR', 'PR', 'SD', 'NON_CR_NON_PD', 'PD', 'NE'];
  responses.forEach((resp) => {
    const data = rows.flatMap((r) => r.assessments.filter((a) => a.response === resp).map((a) => ({ x: a.x, y: r.subject, timepoint: a.timepoint })));
    if (data.length) datasets.push({ type: 'scatter', label: responseLabel(resp), data, rcyKind: 'assessment', backgroundColor: RESPONSE_COLORS[resp], borderColor: RESPONSE_COLORS[resp], pointRadius: 2.5 * k, pointHoverRadius: 5 });
  });
  Object.entries(EVENT_STYLE).forEach(([key, st]) => {
    const data = rows.filter((r) => r[key] !== null && r[key] !== undefined).map((r) => ({ x: r[key], y: r.subject }));
    if (data.length) datasets.push({ type: 'scatter', label: st.label, data, rcyKind: 'event', pointStyle: st.pointStyle, pointRadius: st.radius * k, backgroundColor: st.color, borderColor: st.color, borderWidth: 1.5 });
  });
  const chart = new Chart(canvas, {
    data: { labels, datasets },
    options: {
      responsive: true, maintainAspectRatio: false, animation: false,
      interaction: { mode: 'nearest', intersect: true },
      scales: {
        x: { type: 'linear', min: 0, position: 'top', title: { display: true, text: 'months from treatment start' } },
        y: { type: 'category', labels, /* legend and axis on top: with a few hundred rows the bottom is far down */ ticks: { display: labels.length <= 40, autoSkip: false, font: { size: 10 } }, grid: { display: false } },
      },
      plugins: {
        legend: { position: 'top', labels: { boxWidth: 10, usePointStyle: true, filter: (item, data) => data.datasets[item.datasetIndex].rcyKind !== 'bar' } },
        tooltip: {
          callbacks: {
            title: (items) => items.map((i) => (i.dataset.rcyKind === 'bar' ? labels[i.dataIndex] : i.raw.y)),
            label: (i) => (i.dataset.rcyKind === 'bar' ? `followed ${fixed(i.raw[1])} months`
              : `${i.dataset.label}${i.raw.timepoint ? ` (${i.raw.timepoint})` : ''} at ${fixed(i.raw.x)} months`),
          },
        },
      },
      onClick: (evt, elements) => {
        const hit = elements[0];
        if (!hit || !onPick) return;
        const ds = chart.data.datasets[hit.datasetIndex];
        const subject = ds.rcyKind === 'bar' ? labels[hit.index] : ds.data[hit.index].y;
        onPick({ subject, timepoint: ds.rcyKind === 'assessment' ? ds.data[hit.index].timepoint : null });
      },
      onHover: pointerCursor(() => true),
    },
  });
  canvas.rcyChart = chart;
  return chart;
}

/**
 * Cumulative dose-volume histograms: one curve per compartment, % of its volume (y) receiving at least a dose
 * (x, Gy), as the server computed them. curves: [{label, color, points: [{dose_gy, volume_pct}]}].
 */
export function dvh(canvas, { curves }) {
  theme();
  const datasets = curves.map((c) => ({
    type: 'line', label: c.label, data: c.points.map((p) => ({ x: p.dose_gy, y: p.volume_pct })),
    borderColor: c.color, backgroundColor: c.color, borderWidth: 2, pointRadius: 0, pointHitRadius: 6, fill: false,
    rcyKind: 'dvh',
  }));
  const xmaxData = Math.max(1, ...curves.flatMap((c) => c.points.map((p) => p.dose_gy)));
  const step = xmaxData > 200 ? 50 : xmaxData > 50 ? 20 : xmaxData > 20 ? 5 : 1;
  const chart = new Chart(canvas, {
    data: { datasets },
    options: {
      responsive: true, maintainAspectRatio: false, animation: false, parsing: true,
      interaction: { mode: 'nearest', intersect: false, axis: 'x' },
      scales: {
        x: { type: 'linear', min: 0, max: step * Math.ceil(xmaxData / step), ticks: { stepSize: step }, title: { display: true, text: 'dose (Gy)' } },
        y: { type: 'linear', min: 0, max: 100, ticks: { stepSize: 20 }, title: { display: true, text: 'volume (%)' } },
      },
      plugins: {
        legend: { position: 'bottom', labels: { boxWidth: 12, boxHeight: 2 } },
        tooltip: { callbacks: { label: (i) => `${i.dataset.label}: ${fixed(i.raw.y)} % ≥ ${fixed(i.raw.x)} Gy` } },
      },
    },
  });
  canvas.rcyChart = chart;
  return chart;
}

/**
 * Dose–response scatter (the TARE cohort page): tumour mean dose (x, Gy) against the % change of its longest
 * diameter at 3 months (y), responders and non-responders coloured, the −30 % line and vertical dose lines.
 * points: [{x, y, responder}]; vlines: [{x, label, color, dash}] (named in the legend).
 */
export function doseScatter(canvas, { points, vlines }) {
  const t = theme();
  const resp = '#3ec27a', non = '#ff9f43';
  const vl = (vlines || []).filter((v) => v.x !== null && v.x !== undefined);
  const xmaxData = Math.max(1, ...points.map((p) => p.x), ...vl.map((v) => v.x));
  const step = xmaxData > 500 ? 200 : xmaxData > 200 ? 100 : 50;
  const datasets = [
    { type: 'scatter', label: 'responder (≤ −30 %)', data: points.filter((p) => p.responder), backgroundColor: resp, borderColor: resp, pointRadius: 3.5, rcyKind: 'points' },
    { type: 'scatter', label: 'non-responder', data: points.filter((p) => !p.responder), backgroundColor: non, borderColor: non, pointRadius: 3.5, rcyKind: 'points' },
    /* legend entries of the reference lines (the lines themselves are drawn by rcyRefLines) */
    ...vl.map((v) => ({ type: 'line', label: v.label, data: [], borderColor: v.color, backgroundColor: v.color, borderDash: v.dash || [6, 4], rcyKind: 'rule' })),
    { type: 'line', label: '−30 %', data: [], borderColor: t.accent, backgroundColor: t.accent, borderDash: [2, 3], rcyKind: 'rule' },
  ];
  const chart = new Chart(canvas, {
    data: { datasets },
    options: {
      responsive: true, maintainAspectRatio: false, animation: false,
      interaction: { mode: 'nearest', intersect: true },
      scales: {
        x: { type: 'linear', min: 0, max: step * Math.ceil(xmaxData * 1.05 / step), title: { display: true, text: 'tumour mean dose (Gy)' } },
        y: { type: 'linear', title: { display: true, text: '% change at 3 months' } },
      },
      plugins: {
        legend: { position: 'bottom', labels: { boxWidth: 12, boxHeight: 2 } },
        rcyRefLines: { lines: [{ y: -30, color: t.accent }, ...vl.map((v) => ({ x: v.x, color: v.color, dash: v.dash }))] },
        tooltip: {
          filter: (item) => item.dataset.rcyKind === 'points',
          callbacks: { label: (i) => `${fixed(i.raw.x)} Gy, ${fixed(i.raw.y)} %` },
        },
      },
    },
  });
  canvas.rcyChart = chart;
  return chart;
}

/**
 * ROC curves (the TARE cohort page): straight segments between the server's points (fpr, tpr), the chance
 * diagonal and each curve's Youden point. curves: [{label, color, points: [{x: fpr, y: tpr, threshold}],
 * youden: {x, y, threshold} | null}].
 */
export function roc(canvas, { curves }) {
  const t = theme();
  const datasets = [{ type: 'line', label: 'chance', data: [{ x: 0, y: 0 }, { x: 1, y: 1 }], borderColor: t.line, borderDash: [4, 4], borderWidth: 1, pointRadius: 0, pointHitRadius: 0, rcyKind: 'chance' }];
  curves.forEach((c) => {
    datasets.push({ type: 'line', label: c.label, data: c.points, borderColor: c.color, backgroundColor: c.color, borderWidth: 2, pointRadius: 2, pointHoverRadius: 5, fill: false, rcyKind: 'roc' });
    if (c.youden) {
      datasets.push({ type: 'scatter', label: `${c.label}: Youden point`, data: [c.youden], borderColor: '#ffffff', backgroundColor: c.color, pointRadius: 7, pointStyle: 'rectRot', borderWidth: 2, clip: false, rcyKind: 'youden' });
    }
  });
  const chart = new Chart(canvas, {
    data: { datasets },
    options: {
      responsive: true, maintainAspectRatio: false, animation: false,
      interaction: { mode: 'nearest', intersect: true },
      scales: {
        x: { type: 'linear', min: 0, max: 1, ticks: { stepSize: 0.2 }, title: { display: true, text: '1 − specificity (false-positive rate)' } },
        y: { type: 'linear', min: 0, max: 1, ticks: { stepSize: 0.2 }, title: { display: true, text: 'sensitivity (true-positive rate)' } },
      },
      plugins: {
        /* the Youden diamonds are explained by the card's note, not in the legend */
        legend: { position: 'bottom', labels: { boxWidth: 12, boxHeight: 2, filter: (item, data) => data.datasets[item.datasetIndex].rcyKind === 'roc' } },
        tooltip: {
          filter: (item) => item.dataset.rcyKind !== 'chance',
          callbacks: { label: (i) => `dose ≥ ${i.raw.threshold === null ? '∞' : fixed(i.raw.threshold)} Gy: sensitivity ${fixed(i.raw.y, 2)}, 1 − specificity ${fixed(i.raw.x, 2)}` },
        },
      },
    },
  });
  canvas.rcyChart = chart;
  return chart;
}
