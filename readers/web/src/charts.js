// Chart helpers over Chart.js (tree-shaken: only the parts the registry's plots use). One place for the dark
// theme and the plot kinds, so the QA page's Bland–Altman and, later, waterfall, spider and Kaplan–Meier plots
// look alike. Each helper returns the Chart; the caller destroys it when its view goes.
import {
  Chart, ScatterController, LineController, BarController, PointElement, LineElement, BarElement,
  LinearScale, CategoryScale, Tooltip, Legend,
} from 'chart.js';

Chart.register(ScatterController, LineController, BarController, PointElement, LineElement, BarElement,
  LinearScale, CategoryScale, Tooltip, Legend);

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
  const step = xmax - xmin > 20 ? 5 : 1; /* axis ends on round values: no crowded odd end ticks */
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
