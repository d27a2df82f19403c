// The dose view (#/dose/{subject}): the subject's 90Y absorbed dose fused over its CT in one Cornerstone3D
// volume viewport (axial), with a colour bar in Gy, the cumulative DVH of every compartment and the compartment
// table with the EANM flags. Everything shown is what the server computed (GET /api/dose/{subject}: the run's
// JSON with the grid's geometry; /volume the dose grid as little-endian Float32 in Gy; /ct the CT on the same
// grid as little-endian Int16 in HU): this screen computes no dose, it only draws the server's numbers.
// The two grids share one geometry, so they are built as two local volumes (volumeLoader.createLocalVolume)
// and stacked in one viewport: the CT in grey, the dose with the 'rcy-dose' colour map, transparent below a
// floor so the anatomy shows, at the opacity of the slider.
import * as api from './api.js';
import { h, clear } from './dom.js';
import { core, tools, TOOL, initCornerstone, endInteractions } from './cornerstone.js';
import { CT_PRESETS } from './viewer.js';
import { dvh as dvhChart } from './charts.js';

const { RenderingEngine, Enums, volumeLoader, cache, utilities: csUtils } = core;
const enc = encodeURIComponent;

/* The colour map of the dose (jet: dark blue → cyan → yellow → dark red), in [0, 1] of the colour range;
 * the colour bar is drawn from the same points, so the bar and the image cannot disagree. */
const DOSE_CMAP = 'rcy-dose';
const DOSE_RGB = [
  0.0, 0.0, 0.0, 0.5,
  0.125, 0.0, 0.0, 1.0,
  0.375, 0.0, 1.0, 1.0,
  0.625, 1.0, 1.0, 0.0,
  0.875, 1.0, 0.0, 0.0,
  1.0, 0.5, 0.0, 0.0,
];
let cmapRegistered = false;
/* The depth a volume viewport's slice is rendered over (vtk.js ray between the clipping planes), measured at
 * 3 mm voxels: the opacity of a thin slab is 1 - (1 - a)^(depth / unit distance). The start value only:
 * calibrateOpacity measures it on the subject's grid. */
const SLAB_DEPTH_MM = 0.125;

/** Colour of the colour map at t in [0, 1], as [r, g, b] 0..255. */
export function doseColour(t) {
  const p = DOSE_RGB;
  t = Math.min(1, Math.max(0, t));
  for (let i = 4; i < p.length; i += 4) {
    if (t <= p[i]) {
      const f = (t - p[i - 4]) / (p[i] - p[i - 4] || 1);
      return [1, 2, 3].map((c) => Math.round(255 * (p[i - 4 + c] + f * (p[i + c] - p[i - 4 + c]))));
    }
  }
  return [1, 2, 3].map((c) => Math.round(255 * p[p.length - 4 + c]));
}

/** A round upper end for the colour range: the next of 1, 2, 2.5, 5 × 10^n at or above v. */
function niceCeil(v) {
  if (!(v > 0)) return 1;
  const e = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * e >= v) return m * e;
  return 10 * e;
}

/** Tick step of about n ticks over [0, max]. */
function tickStep(max, n = 6) {
  const raw = max / n;
  const e = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * e >= raw) return m * e;
  return 10 * e;
}

const CURVE_COLOURS = ['#ff6b6b', '#4aa3ff', '#52c47a', '#f0b541', '#c77dff', '#4dd4c6', '#ff9f5a', '#e0e0e0'];
const num = (v, d = 1) => (v === null || v === undefined || Number.isNaN(Number(v)) ? '—' : Number(v).toFixed(d));

/** A compartment's DVH as [{dose_gy, volume_pct}], whichever of the run's shapes it has. */
function dvhPoints(c) {
  const d = c.dvh;
  if (!d) return [];
  if (Array.isArray(d)) {
    return d.map((p) => (Array.isArray(p) ? { dose_gy: p[0], volume_pct: p[1] } : { dose_gy: p.dose_gy, volume_pct: p.volume_pct }))
      .filter((p) => Number.isFinite(p.dose_gy) && Number.isFinite(p.volume_pct));
  }
  if (Array.isArray(d.dose_gy) && Array.isArray(d.volume_pct)) return d.dose_gy.map((x, i) => ({ dose_gy: x, volume_pct: d.volume_pct[i] }));
  return [];
}

async function fetchBytes(path) {
  const res = await fetch(path, { credentials: 'same-origin' });
  if (!res.ok) {
    let msg = `GET ${path}: HTTP ${res.status}`;
    try {
      msg = (await res.json()).error || msg;
    } catch { /* not JSON */ }
    throw new api.ApiError(res.status, msg, null);
  }
  return res.arrayBuffer();
}

/** Little-endian bytes as a typed array (the server sends little-endian whatever this machine is). */
function leArray(buf, Type) {
  const little = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
  if (little) return new Type(buf);
  const dv = new DataView(buf);
  const n = buf.byteLength / Type.BYTES_PER_ELEMENT;
  const out = new Type(n);
  for (let i = 0; i < n; i++) out[i] = Type === Float32Array ? dv.getFloat32(4 * i, true) : dv.getInt16(2 * i, true);
  return out;
}

let seq = 0;

export class DoseView {
  constructor(root, subjectId, { user }) {
    this.root = root;
    this.subjectId = subjectId;
    this.user = user;
    this.opacity = 0.6;
    this.destroyed = false;
    this.listeners = [];
  }

  async start() {
    delete this.root.dataset.ready;
    clear(this.root, h('p', { class: 'loading', id: 'dose-loading' }, `Computing the dose of ${this.subjectId}… (about a second the first time)`));
    const base = `/api/dose/${enc(this.subjectId)}`;
    let run;
    try {
      run = await api.getDose(this.subjectId);
    } catch (err) {
      if (err instanceof api.ApiError && err.status === 401) throw err;
      clear(this.root, h('div', { class: 'dose-view' }, this.head(),
        h('p', { class: 'error', role: 'alert', id: 'dose-error' }, err.message)));
      return;
    }
    if (this.destroyed) return;
    this.run = run;
    const [doseBuf, ctBuf] = await Promise.all([fetchBytes(`${base}/volume`), run.ct ? fetchBytes(`${base}/ct`) : null]);
    if (this.destroyed) return;
    this.doseGy = leArray(doseBuf, Float32Array);
    this.ctHu = ctBuf ? leArray(ctBuf, Int16Array) : null;
    const g = run.grid;
    this.upperGy = niceCeil(g.max_gy);
    this.floorGy = Math.max(0.5, this.upperGy * 0.02);
    this.layout();
    this.renderTable();
    this.renderDvh();
    await this.startViewport();
    if (this.destroyed) return;
    this.drawColourBar();
    window.rcyDose = { view: this, core };
    this.root.dataset.ready = '1';
  }

  head() {
    return h('div', { class: 'subject-head' },
      h('a', { href: `#/subject/${enc(this.subjectId)}` }, '← Subject'),
      h('h2', {}, `Dose — ${this.subjectId}`));
  }

  layout() {
    const r = this.run;
    this.els = {
      vp: h('div', { class: 'viewport dose-vp', id: 'dose-viewport' }),
      bar: h('canvas', { class: 'dose-colourbar', id: 'dose-colourbar', width: 90, height: 400 }),
      slice: h('span', { class: 'muted', id: 'dose-slice' }),
      probe: h('span', { class: 'muted', id: 'dose-probe' }),
      dvh: h('canvas', { id: 'dose-dvh' }),
      table: h('div', { id: 'dose-table' }),
      flags: h('div', { id: 'dose-flags' }),
      models: h('div', { id: 'dose-models' }),
    };
    const e = this.els;
    const opacity = h('input', { type: 'range', id: 'dose-opacity', min: 0, max: 100, step: 5, value: Math.round(this.opacity * 100) });
    const opacityText = h('span', { class: 'muted', id: 'dose-opacity-value' }, `${Math.round(this.opacity * 100)} %`);
    opacity.addEventListener('input', () => {
      this.opacity = Number(opacity.value) / 100;
      opacityText.textContent = `${opacity.value} %`;
      this.applyDoseLook();
    });
    const upper = h('input', { type: 'number', id: 'dose-upper', min: 1, step: 'any', value: this.upperGy, class: 'num' });
    upper.addEventListener('change', () => {
      const v = Number(upper.value);
      if (!(v > 0)) return;
      this.upperGy = v;
      this.floorGy = Math.min(this.floorGy, v / 2);
      this.applyDoseLook();
      this.drawColourBar();
    });
    const floor = h('input', { type: 'number', id: 'dose-floor', min: 0, step: 'any', value: num(this.floorGy, 1), class: 'num' });
    floor.addEventListener('change', () => {
      const v = Number(floor.value);
      if (!(v >= 0) || v >= this.upperGy) return;
      this.floorGy = v;
      this.applyDoseLook();
      this.drawColourBar();
    });
    const presets = h('select', { id: 'dose-window' },
      Object.entries(CT_PRESETS).map(([k, p]) => h('option', { value: k }, `${p.label} (W ${p.ww} / L ${p.wc})`)));
    presets.addEventListener('change', () => {
      this.setWindow(presets.value);
      presets.blur();
    });
    this.els.presets = presets;
    const computed = r.computed_at ? `computed ${r.computed_at.replace('T', ' ').replace('Z', ' UTC')}` : '';
    clear(this.root,
      h('div', { class: 'dose-view', id: 'dose-view' },
        h('div', { class: 'subject-head' },
          h('a', { href: `#/subject/${enc(this.subjectId)}` }, '← Subject'),
          h('h2', {}, `Dose — ${this.subjectId}`),
          h('span', { class: 'muted' }, `${(r.method || 'ldm').toUpperCase()} · 90Y · ${computed}`)),
        h('div', { class: 'toolbar dose-toolbar' },
          h('label', {}, 'CT window ', presets),
          h('label', {}, 'Dose opacity ', opacity, ' ', opacityText),
          h('label', {}, 'Colour range 0 – ', upper, ' Gy'),
          h('label', {}, 'Hide below ', floor, ' Gy')),
        h('div', { class: 'dose-body' },
          h('section', { class: 'dose-image' },
            h('div', { class: 'pane-head dose-head' }, h('span', {}, e.slice, ' ', e.probe),
              h('span', { class: 'muted' }, 'wheel or ↑/↓ slices · left drag window/level · right drag zoom · middle drag pan')),
            h('div', { class: 'dose-stage' }, e.vp, h('div', { class: 'dose-bar-box' }, e.bar))),
          h('aside', { class: 'side dose-side' },
            h('div', { class: 'side-scroll' },
              h('h3', {}, 'Cumulative DVH'),
              h('div', { class: 'dose-dvh-box' }, e.dvh),
              h('h3', {}, 'Compartments'), e.table,
              h('h3', {}, 'EANM flags'), e.flags,
              h('h3', {}, 'Models'), e.models)))));
  }

  compartments() {
    return (this.run.compartments || []).map((c, i) => ({ ...c, colour: CURVE_COLOURS[i % CURVE_COLOURS.length] }));
  }

  renderTable() {
    const comps = this.compartments();
    const flags = this.run.flags || [];
    const flagsOf = (name) => flags.filter((f) => f.compartment === name);
    const rows = comps.map((c) => {
      const fl = flagsOf(c.name);
      const worst = fl.some((f) => f.severity === 'warning') ? 'warning' : fl.length ? 'info' : '';
      return h('tr', { dataset: { compartment: c.name, kind: c.kind || '' }, class: worst ? `flag-${worst}` : '' },
        h('td', { class: 'name', title: `${c.name} (${String(c.kind || '').replace(/_/g, ' ')})` },
          h('span', { class: 'swatch', style: { background: c.colour } }), ' ', String(c.name).replace(/_/g, ' ')),
        h('td', { class: 'num' }, num(c.volume_ml, 1)),
        h('td', { class: 'num', dataset: { metric: 'mean_gy' } }, num(c.mean_gy, 1)),
        h('td', { class: 'num' }, num(c.d70_gy, 1)),
        h('td', { class: 'num' }, num(c.d90_gy, 1)),
        h('td', { class: 'num' }, num(c.max_gy, 1)),
        h('td', { class: 'num' }, num(c.v100_pct, 0)),
        h('td', { class: 'num' }, num(c.v205_pct, 0)),
        h('td', { class: 'flag-cell', title: fl.map((f) => f.message).join('\n') },
          fl.map((f) => h('span', { class: `badge ${f.severity}` }, f.severity === 'warning' ? '!' : 'i'))));
    });
    clear(this.els.table, comps.length
      ? h('table', { class: 'dose-table' },
          h('thead', {}, h('tr', {}, ['compartment', 'mL', 'mean', 'D70', 'D90', 'max', 'V100', 'V205', 'flags']
            .map((t) => h('th', {}, t)))),
          h('tbody', {}, rows),
          h('caption', {}, 'Doses in Gy (mean, D70, D90: the minimum dose to the hottest 70 %, 90 %; max); V100, V205: % of the volume receiving ≥ 100, ≥ 205 Gy.'))
      : h('p', { class: 'muted' }, 'No compartment: no VOI was found for this subject.'));
    clear(this.els.flags, flags.length
      ? h('ul', { class: 'dose-flags' }, flags.map((f) =>
          h('li', { class: `flag-${f.severity}`, dataset: { threshold: f.threshold || '', compartment: f.compartment || '' } },
            h('span', { class: `badge ${f.severity}` }, f.severity), ' ', f.message)))
      : h('p', { class: 'muted' }, this.run.thresholds === false ? 'No thresholds configured.' : 'No flag raised.'));
    const m = this.run.models || {};
    const rowsM = [
      ['Injected activity', m.injected_gbq ?? this.run.injected_gbq, 'GBq', 2],
      ['Activity in the field of view', this.run.activity_in_fov_gbq, 'GBq', 2],
      ['Lung shunt fraction', m.lung_shunt_fraction != null && m.lung_shunt_fraction >= 0 ? 100 * m.lung_shunt_fraction : null, '%', 1],
      ['MIRD single compartment (liver)', m.mird_liver_gy, 'Gy', 1],
      ['Partition model: tumour', m.partition_tumour_gy, 'Gy', 1],
      ['Partition model: normal liver', m.partition_normal_gy, 'Gy', 1],
      ['Lung dose', m.lung_gy, 'Gy', 1],
    ].filter((x) => x[1] !== null && x[1] !== undefined && Number.isFinite(Number(x[1])));
    clear(this.els.models, rowsM.length
      ? h('table', { class: 'dose-models' }, h('tbody', {}, rowsM.map(([k, v, u, d]) =>
          h('tr', {}, h('td', {}, k), h('td', { class: 'num' }, `${num(v, d)} ${u}`)))))
      : h('p', { class: 'muted' }, '—'));
  }

  renderDvh() {
    const curves = this.compartments().map((c) => ({ label: c.name, color: c.colour, points: dvhPoints(c) }))
      .filter((c) => c.points.length);
    if (this.chart) this.chart.destroy();
    this.chart = curves.length ? dvhChart(this.els.dvh, { curves }) : null;
  }

  async startViewport() {
    await initCornerstone();
    if (this.destroyed) return;
    if (!cmapRegistered) {
      csUtils.colormap.registerColormap({ Name: DOSE_CMAP, name: DOSE_CMAP, ColorSpace: 'RGB', RGBPoints: DOSE_RGB });
      cmapRegistered = true;
    }
    const n = ++seq;
    const g = this.run.grid;
    const d = g.direction;
    // The server's direction is row-major with column c the patient direction of index axis c; Cornerstone
    // wants the three axis directions one after the other.
    const direction = [d[0], d[3], d[6], d[1], d[4], d[7], d[2], d[5], d[8]];
    const FoR = this.run.frame_of_reference_uid || `rcy-dose-${this.subjectId}`;
    const geom = { dimensions: g.size, spacing: g.spacing_mm, origin: g.origin_mm, direction };
    this.ctId = `rcy-dose-ct-${n}`;
    this.doseId = `rcy-dose-gy-${n}`;
    const volumes = [];
    if (this.ctHu) {
      volumeLoader.createLocalVolume(this.ctId, {
        ...geom, scalarData: this.ctHu,
        metadata: { Modality: 'CT', FrameOfReferenceUID: FoR, PhotometricInterpretation: 'MONOCHROME2', BitsAllocated: 16, BitsStored: 16,
          PixelRepresentation: 1, voiLut: [{ windowCenter: 40, windowWidth: 400 }] },
      });
      volumes.push({ volumeId: this.ctId });
    }
    volumeLoader.createLocalVolume(this.doseId, {
      ...geom, scalarData: this.doseGy,
      metadata: { Modality: 'OT', FrameOfReferenceUID: FoR, PhotometricInterpretation: 'MONOCHROME2', BitsAllocated: 32, BitsStored: 32,
        PixelRepresentation: 1, voiLut: [] },
    });
    volumes.push({ volumeId: this.doseId });

    this.engine = new RenderingEngine(`rcy-dose-engine-${n}`);
    this.viewportId = `rcy-dose-vp-${n}`;
    this.engine.enableElement({
      viewportId: this.viewportId, type: Enums.ViewportType.ORTHOGRAPHIC, element: this.els.vp,
      defaultOptions: { orientation: Enums.OrientationAxis.AXIAL, background: [0, 0, 0] },
    });
    this.els.vp.addEventListener('contextmenu', (e) => e.preventDefault());
    this.viewport = this.engine.getViewport(this.viewportId);
    await this.viewport.setVolumes(volumes);
    if (this.destroyed) return;
    this.setWindow('abdomen', false);
    // The slice is a thin slab, less than one ray step: vtk.js gives a pixel the opacity 1 - (1 - a)^(slab / unit
    // distance) (a texture of 1 - (1 - a)^(step / unit), then a partial step), so with its default unit distance
    // (1 mm) the slider's 60 % showed as about 10 %. A unit distance of the slab's depth (0.125 mm at 3 mm voxels;
    // calibrateOpacity measures it) makes the opacity on screen the slider's; a step of twice that keeps the texture's exponent at 2, where
    // float32 still tells 0.99 from 1 (at the default step of ~1.7 mm, 80 % already rounded to opaque).
    const doseActor = this.viewport.getActors().find((a) => a.referencedId === this.doseId);
    if (doseActor) {
      doseActor.actor.getMapper().setSampleDistance(2 * SLAB_DEPTH_MM);
      doseActor.actor.getProperty().setScalarOpacityUnitDistance(0, SLAB_DEPTH_MM);
    }
    this.applyDoseLook(false);

    this.toolGroupId = `rcy-dose-tools-${n}`;
    const tg = tools.ToolGroupManager.createToolGroup(this.toolGroupId);
    for (const name of [TOOL.windowLevel, TOOL.pan, TOOL.zoom, TOOL.scroll]) tg.addTool(name);
    tg.addViewport(this.viewportId, this.engine.id);
    const MB = tools.Enums.MouseBindings;
    tg.setToolActive(TOOL.scroll, { bindings: [{ mouseButton: MB.Wheel }] });
    tg.setToolActive(TOOL.windowLevel, { bindings: [{ mouseButton: MB.Primary }] });
    tg.setToolActive(TOOL.pan, { bindings: [{ mouseButton: MB.Auxiliary }] });
    tg.setToolActive(TOOL.zoom, { bindings: [{ mouseButton: MB.Secondary }] });

    const onCamera = () => this.updateSliceText();
    this.els.vp.addEventListener(Enums.Events.CAMERA_MODIFIED, onCamera);
    this.listeners.push([this.els.vp, Enums.Events.CAMERA_MODIFIED, onCamera]);
    const onMove = (e) => this.probe(e);
    this.els.vp.addEventListener('mousemove', onMove);
    this.listeners.push([this.els.vp, 'mousemove', onMove]);
    this.onKey = (e) => {
      const t = e.target;
      if (t && (t.tagName === 'INPUT' || t.tagName === 'SELECT' || t.tagName === 'TEXTAREA')) return;
      const step = { ArrowUp: -1, ArrowDown: 1, PageUp: -10, PageDown: 10 }[e.key];
      if (!step) return;
      e.preventDefault();
      this.viewport.scroll(step);
    };
    window.addEventListener('keydown', this.onKey);
    this.resizeObserver = new ResizeObserver(() => {
      if (this.engine) this.engine.resize(true, true);
      this.drawColourBar();
    });
    this.resizeObserver.observe(this.els.vp);
    // Open on the slice with the hottest voxel: where the dose is.
    this.showWorld(this.hottestWorld());
    // The first frame after the dose mapper's step was changed comes out wrong (a flat grey slab); the next one is
    // right, so one more is drawn before the screen says it is ready.
    await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
    if (this.viewport) this.viewport.render();
    await new Promise((r) => requestAnimationFrame(r));
    await this.calibrateOpacity();
  }

  /**
   * The depth of the thin slab vtk.js renders depends on the grid (0.125 mm at 3 mm voxels, half that at 1.5 mm),
   * so the opacity on screen, 1 - (1 - a)^E, is measured once at the hottest voxel (the CT alone, the dose opaque,
   * the dose at 50 %) and the unit distance scaled so that E = 1. Nothing is measured without a CT or when the
   * colour and the grey are too alike to tell (the measured constant stays).
   */
  async calibrateOpacity() {
    const entry = this.viewport?.getActors().find((a) => a.referencedId === this.doseId);
    const canvas = this.els.vp.querySelector('canvas');
    if (!entry || !canvas || !this.ctHu) return;
    const w = this.hottestWorld();
    const saved = this.opacity;
    const at = async (a) => {
      this.opacity = a;
      this.applyDoseLook();
      await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
      const [x, y] = this.viewport.worldToCanvas(w);
      const k = canvas.width / canvas.clientWidth;
      return [...canvas.getContext('2d').getImageData(Math.round(x * k), Math.round(y * k), 1, 1).data].slice(0, 3);
    };
    const grey = await at(0), colour = await at(1), half = await at(0.5);
    this.opacity = saved;
    let ch = 0;
    for (let i = 1; i < 3; i++) if (Math.abs(colour[i] - grey[i]) > Math.abs(colour[ch] - grey[ch])) ch = i;
    const seen = Math.abs(colour[ch] - grey[ch]) >= 40 ? (half[ch] - grey[ch]) / (colour[ch] - grey[ch]) : NaN;
    if (seen > 0.02 && seen < 0.98) {
      const prop = entry.actor.getProperty();
      const unit = Math.min(10, Math.max(1e-4, prop.getScalarOpacityUnitDistance(0) * (Math.log(1 - seen) / Math.log(0.5))));
      entry.actor.getMapper().setSampleDistance(2 * unit);
      prop.setScalarOpacityUnitDistance(0, unit);
      this.opacityCalibration = { seen_at_50: seen, unit_mm: unit };
    }
    this.applyDoseLook();
    await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
  }

  /** World position (mm) of grid voxel (i, j, k). */
  worldOf(i, j, k) {
    const g = this.run.grid;
    const d = g.direction;
    const s = g.spacing_mm;
    return [0, 1, 2].map((r) => g.origin_mm[r] + d[3 * r] * i * s[0] + d[3 * r + 1] * j * s[1] + d[3 * r + 2] * k * s[2]);
  }

  /** Grid index (nearest voxel) of a world position, or null outside the grid. */
  indexOf(w) {
    const g = this.run.grid;
    const d = g.direction;
    const rel = [0, 1, 2].map((r) => w[r] - g.origin_mm[r]);
    const ijk = [0, 1, 2].map((c) => Math.round((d[c] * rel[0] + d[3 + c] * rel[1] + d[6 + c] * rel[2]) / g.spacing_mm[c]));
    return ijk.every((v, c) => v >= 0 && v < g.size[c]) ? ijk : null;
  }

  hottestWorld() {
    const g = this.run.grid;
    let best = 0;
    for (let p = 1; p < this.doseGy.length; p++) if (this.doseGy[p] > this.doseGy[best]) best = p;
    const i = best % g.size[0];
    const j = Math.floor(best / g.size[0]) % g.size[1];
    const k = Math.floor(best / (g.size[0] * g.size[1]));
    return this.worldOf(i, j, k);
  }

  /** Moves the axial slice to the one containing world point w (in-plane view unchanged). */
  showWorld(w) {
    if (!this.viewport) return;
    this.viewport.jumpToWorld(w);
    this.viewport.render();
    this.updateSliceText();
  }

  /** Dose (Gy) and HU of the grid voxel at world w, as the server sent them; null outside. */
  valuesAt(w) {
    const ijk = this.indexOf(w);
    if (!ijk) return null;
    const g = this.run.grid;
    const p = ijk[0] + g.size[0] * (ijk[1] + g.size[1] * ijk[2]);
    return { ijk, dose_gy: this.doseGy[p], hu: this.ctHu ? this.ctHu[p] : null };
  }

  updateSliceText() {
    if (!this.viewport) return;
    const cam = this.viewport.getCamera();
    const ijk = this.indexOf(cam.focalPoint);
    const nz = this.run.grid.size[2];
    const k = ijk ? ijk[2] : null;
    this.els.slice.textContent = k === null ? '' : `slice ${k + 1} / ${nz} · z ${cam.focalPoint[2].toFixed(1)} mm`;
    this.els.vp.dataset.slice = k === null ? '' : String(k);
    const sop = k !== null && this.run.ct?.sop_instance_uids ? this.run.ct.sop_instance_uids[k] : null;
    this.els.vp.dataset.sop = sop || '';
  }

  probe(e) {
    if (!this.viewport) return;
    const rect = this.els.vp.getBoundingClientRect();
    const w = this.viewport.canvasToWorld([e.clientX - rect.left, e.clientY - rect.top]);
    const v = this.valuesAt(w);
    this.els.probe.textContent = v ? `· ${num(v.dose_gy, 1)} Gy${v.hu !== null ? ` · ${v.hu} HU` : ''}` : '';
  }

  setWindow(key, render = true) {
    const p = CT_PRESETS[key];
    if (!p || !this.viewport || !this.ctHu) return;
    this.els.presets.value = key;
    this.viewport.setProperties({ voiRange: { lower: p.wc - p.ww / 2, upper: p.wc + p.ww / 2 } }, this.ctId);
    if (render) this.viewport.render();
  }

  /** The dose volume's look: colour range [0, upper] Gy, transparent below the floor, the slider's opacity. */
  applyDoseLook(render = true) {
    if (!this.viewport) return;
    const lo = this.floorGy, hi = this.upperGy, a = this.opacity;
    const eps = Math.max(1e-3, hi * 1e-4);
    this.viewport.setProperties({ voiRange: { lower: 0, upper: hi } }, this.doseId);
    this.viewport.setProperties({
      colormap: {
        name: DOSE_CMAP,
        opacity: [
          { value: 0, opacity: 0 }, { value: Math.max(0, lo - eps), opacity: 0 },
          { value: lo, opacity: a }, { value: Math.max(hi, lo + eps), opacity: a },
        ],
      },
    }, this.doseId);
    if (render) this.viewport.render();
  }

  drawColourBar() {
    const c = this.els?.bar;
    if (!c) return;
    const box = c.parentElement.getBoundingClientRect();
    const dpr = window.devicePixelRatio || 1;
    const cssH = Math.max(160, Math.min(box.height - 8, 520));
    const cssW = 90;
    c.style.width = `${cssW}px`;
    c.style.height = `${cssH}px`;
    c.width = Math.round(cssW * dpr);
    c.height = Math.round(cssH * dpr);
    const ctx = c.getContext('2d');
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, cssW, cssH);
    const top = 26, bottom = cssH - 12, x = 8, w = 20;
    const hi = this.upperGy, lo = this.floorGy;
    for (let y = top; y < bottom; y++) {
      const v = hi * (1 - (y - top) / (bottom - top));
      const [r, g, b] = doseColour(v / hi);
      ctx.fillStyle = v < lo ? '#000' : `rgb(${r},${g},${b})`;
      ctx.fillRect(x, y, w, 1);
    }
    ctx.strokeStyle = '#8a93a3';
    ctx.strokeRect(x + 0.5, top + 0.5, w, bottom - top);
    ctx.fillStyle = '#dfe3ea';
    ctx.font = '12px system-ui, sans-serif';
    ctx.textBaseline = 'middle';
    ctx.fillText('Gy', x, 10);
    const step = tickStep(hi);
    for (let v = 0; v <= hi + 1e-9; v += step) {
      const y = bottom - (v / hi) * (bottom - top);
      ctx.fillRect(x + w, Math.round(y), 5, 1);
      ctx.fillText(Number(v.toFixed(2)).toString(), x + w + 8, y);
    }
    c.dataset.upperGy = String(hi);
    c.dataset.floorGy = String(lo);
  }

  destroy() {
    this.destroyed = true;
    if (this.onKey) window.removeEventListener('keydown', this.onKey);
    for (const [t, name, fn] of this.listeners) t.removeEventListener(name, fn);
    this.listeners = [];
    if (this.resizeObserver) this.resizeObserver.disconnect();
    if (this.chart) this.chart.destroy();
    endInteractions([this.viewport?.element]);
    if (this.toolGroupId) tools.ToolGroupManager.destroyToolGroup(this.toolGroupId);
    if (this.engine) this.engine.destroy();
    this.engine = null;
    this.viewport = null;
    for (const id of [this.ctId, this.doseId]) if (id && cache.getVolume(id)) cache.removeVolumeLoadObject(id);
    if (window.rcyDose && window.rcyDose.view === this) delete window.rcyDose;
    delete this.root.dataset.ready;
  }
}

/** Whether a subject has a PET series (the subject view shows its Dose link then): any of its studies' series. */
export async function subjectHasPet(studyUids, seriesOf) {
  for (const uid of studyUids) {
    try {
      const data = await seriesOf(uid);
      if ((data.series || []).some((s) => s.modality === 'PT')) return true;
    } catch { /* a study not visible: no link from it */ }
  }
  return false;
}
