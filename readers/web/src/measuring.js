// The measuring workflow of the subject screen: the tool bar (tools, window presets of the modality shown, link,
// the "Measuring Tn" bar), arming a lesion with "Measure", turning a finished caliper into a stored measurement
// (image coordinates; the server computes millimetres), split fragments, and drawing the stored calipers back.
// A caliper only exists while a lesion is being measured: one drawn otherwise is removed at once, and a caliper
// of zero length is never sent.
import { h, clear } from './dom.js';
import { presetsFor, AUTO_TOOL } from './viewer.js';
import { TOOL, tools } from './cornerstone.js';
import { annotationToMeasurement, drawStoredMeasurement, canvasToImagePoint, imageToWorld } from './measure.js';
import * as api from './api.js';
import { lesionSop } from './places.js';

/** Shortest caliper accepted, in image pixels: a click is not a measurement. */
const MIN_CALIPER_PX = 1;
/** The annotation of a semi-automatic proposal's calipers (one at a time). */
const AUTO_UID = 'auto-proposal';
/** A proposal's caliper end moved by more than this (image px) is an edit (the server decides the same way). */
const EDIT_TOLERANCE_PX = 0.05;
/** A click this close (CSS px) to a handle of the proposal is the reader moving that handle, not a new click. */
const HANDLE_PX = 8;

const near = (a, b) => Math.abs(a[0] - b[0]) <= EDIT_TOLERANCE_PX && Math.abs(a[1] - b[1]) <= EDIT_TOLERANCE_PX;
const sameCaliper = (a, b, q1, q2) => (near(a, q1) && near(b, q2)) || (near(a, q2) && near(b, q1));
/** The measurement the reader accepts is the proposal itself (same image, every end within the tolerance). */
function isProposal(meas, prop) {
  return meas.sop_instance_uid === prop.long_axis.sop_instance_uid && sameCaliper(meas.p1, meas.p2, prop.long_axis.p1, prop.long_axis.p2)
    && (!meas.short_p1 || sameCaliper(meas.short_p1, meas.short_p2, prop.short_axis.p1, prop.short_axis.p2));
}
const num = (v, d = 1) => (typeof v === 'number' && Number.isFinite(v) ? v.toFixed(d) : '?');

export const measuringMethods = {
  /** The presets of the current pane's modality (CT: HU presets; MR and others: the image's own / auto). */
  presets() {
    return presetsFor(this.viewer?.panes?.current?.modality || this.currentTp.modality || 'CT');
  },

  renderToolbar() {
    const blurAfter = (fn) => (e) => { e.currentTarget.blur(); fn(); };
    const tool = (name, label, key) =>
      h('button', {
        type: 'button', class: this.viewer.primaryTool === name ? 'tool active' : 'tool', title: `${label} (${key})`,
        dataset: { tool: name }, onclick: blurAfter(() => { this.viewer.setPrimaryTool(name); this.renderToolbar(); }),
      }, label);
    const presets = this.presets();
    clear(this.els.toolbar,
      h('div', { class: 'group' }, tool(TOOL.windowLevel, 'W/L', 'drag'), tool(TOOL.pan, 'Pan', 'middle'),
        tool(TOOL.zoom, 'Zoom', 'right'), tool(TOOL.length, 'Length', 'longest diameter'),
        tool(TOOL.bidirectional, 'Bidirectional', 'node short axis'),
        this.measuring && !this.measuring.fragments && !this.readOnly
          ? tool(AUTO_TOOL, 'Auto', 'A: one click on the lesion proposes its contour and calipers') : null),
      h('div', { class: 'group' }, Object.entries(presets).map(([k, p], i) =>
        h('button', { type: 'button', class: this.viewer.preset === k ? 'preset active' : 'preset', dataset: { preset: k },
          title: `${p.ww ? `W${p.ww} / L${p.wc}` : p.label} (${i + 1})`,
          onclick: blurAfter(() => { this.viewer.setPreset(k); this.renderToolbar(); }) }, p.label))),
      h('button', { type: 'button', id: 'reset-view', title: 'Whole image, no zoom or pan (R)', onclick: blurAfter(() => this.viewer.reset()) }, 'Reset'),
      this.isBaseline ? null : h('label', { class: 'sync', title: 'Slice by patient position, zoom, pan and window' },
        h('input', { type: 'checkbox', id: 'sync', checked: this.viewer.sync,
          onchange: (e) => { this.viewer.setLinked(e.target.checked); e.target.blur(); } }), ' Link panes'),
      this.measuring ? h('div', { class: 'measuring-bar', id: 'measuring' },
        `Measuring ${this.measuring.lesionId}` + (this.measuring.fragments ? ` (split: ${this.measuring.fragments.length} fragment(s))` : ''),
        this.measuring.autoBusy ? h('span', { class: 'auto-proposal', id: 'auto-busy' }, 'Auto: segmenting…') : null,
        this.measuring.fromBaseline && !this.measuring.auto && !this.measuring.autoBusy && !this.readOnly
          ? h('button', { type: 'button', id: 'propose-bl', title: 'Segment the lesion where it lay at baseline and propose its calipers',
            onclick: () => this.proposeFromBaseline(this.measuring.lesion) }, 'Propose from BL') : null,
        this.measuring.auto ? h('span', { class: 'auto-proposal', id: 'auto-result' },
          `${this.measuring.auto.proposal.propagated_from ? `From ${this.measuring.auto.proposal.propagated_from.timepoint}: ` : 'Auto: '}long ${num(this.measuring.auto.proposal.long_mm)} mm, short ${num(this.measuring.auto.proposal.short_mm)} mm, `
          + `volume ${num(this.measuring.auto.proposal.volume_ml)} mL`) : null,
        this.measuring.auto ? h('button', { type: 'button', class: 'primary', id: 'accept-auto',
          title: 'Store the calipers shown (moved handles make it “auto, edited”)', onclick: () => this.acceptAuto() }, 'Accept') : null,
        this.measuring.auto ? h('button', { type: 'button', id: 'reject-auto', title: 'Remove the proposal and measure by hand',
          onclick: () => this.rejectAuto() }, 'Reject') : null,
        this.measuring.pending ? h('button', { type: 'button', class: 'primary', id: 'save-caliper',
          onclick: () => this.storeCaliper(this.measuring.pending.pane, this.measuring.pending.annotation) }, 'Save caliper') : null,
        this.measuring.fragments ? h('button', { type: 'button', id: 'save-fragments', disabled: this.measuring.fragments.length < 2,
          onclick: () => this.saveFragments() }, 'Save fragments') : null,
        h('button', { type: 'button', id: 'cancel-measure', onclick: () => this.cancelMeasuring() }, 'Cancel (Esc)'))
        : null);
  },

  async onMeasured(pane, annotation) {
    if (annotation.annotationUID === AUTO_UID) return; // the proposal's calipers: stored by Accept
    const m = this.measuring;
    if (this.readOnly || !m) {
      // Not armed: the caliper would look like a measurement and capture the next drag. It goes at once.
      this.viewer.removeAnnotation(annotation);
      this.say(this.readOnly ? 'Read-only: nothing can be measured here.' : 'Nothing was measured: click “Measure” on a lesion row first, then draw.', 'warn');
      return;
    }
    if (pane.label !== 'current') {
      this.viewer.removeAnnotation(annotation);
      this.say(`Measure on the ${this.currentTp.timepoint} images (right), not on the baseline.`, 'error');
      return;
    }
    if (m.nodal && annotation.metadata.toolName !== TOOL.bidirectional) {
      // A node is recorded by its short axis: a Length caliper cannot measure it. Say so before anything is
      // sent (or a reason asked for), and hand the reader the right tool.
      this.viewer.removeAnnotation(annotation);
      this.viewer.setPrimaryTool(TOOL.bidirectional);
      this.renderToolbar();
      this.say(`${m.lesionId} is a lymph node: RECIST records its short axis. Measure it with Bidirectional (selected now): draw the long axis, then adjust the short axis.`, 'warn');
      return;
    }
    annotation.data.label = m.lesionId;
    if (annotation.metadata.toolName === TOOL.bidirectional && !m.fragments) {
      // A node's short axis usually needs adjusting after the long axis is drawn: stored on "Save caliper".
      if (m.pending && m.pending.annotation !== annotation) this.viewer.removeAnnotation(m.pending.annotation);
      m.pending = { pane, annotation };
      this.renderToolbar();
      this.say(`Adjust the short axis of ${m.lesionId} if needed, then “Save caliper”.`);
      return;
    }
    await this.storeCaliper(pane, annotation);
  },

  async storeCaliper(pane, annotation) {
    const m = this.measuring;
    if (!m) {
      this.viewer.removeAnnotation(annotation);
      return;
    }
    let meas;
    try {
      meas = annotationToMeasurement(pane, annotation);
    } catch (err) {
      this.viewer.removeAnnotation(annotation);
      this.say(err.message, 'error');
      return;
    }
    const len = (a, b) => (a && b ? Math.hypot(b[0] - a[0], b[1] - a[1]) : Infinity);
    if (len(meas.p1, meas.p2) < MIN_CALIPER_PX || len(meas.short_p1, meas.short_p2) < MIN_CALIPER_PX) {
      this.viewer.removeAnnotation(annotation);
      if (m.pending?.annotation === annotation) m.pending = null;
      this.renderToolbar();
      this.say(`That caliper has no length: drag across ${m.lesionId} (nothing was stored).`, 'warn');
      return;
    }
    if (m.fragments) {
      m.fragments.push(meas);
      this.renderToolbar();
      return;
    }
    this.measuring = null;
    if (m.auto) this.clearAutoProposal(m); // measured by hand instead of the proposal

    const ok = await this.putObservation(m.lesionId, { measurement: meas }, `${m.lesionId} measured.`);
    // The stored caliper (redrawn from the server's answer) replaces the one just drawn.
    this.viewer.removeAnnotation(annotation);
    if (!ok) {
      this.renderToolbar();
      this.renderLesions();
    }
  },

  async saveFragments() {
    const m = this.measuring;
    if (!m || !m.fragments || m.fragments.length < 2) return;
    this.measuring = null;
    this.viewer.removeUnstored();
    await this.putObservation(m.lesionId, { fragments: m.fragments }, `${m.lesionId}: ${m.fragments.length} fragments stored.`);
  },

  cancelMeasuring() {
    if (this.measuring) this.clearAutoProposal(this.measuring);
    this.measuring = null;
    if (this.viewer.primaryTool === AUTO_TOOL) this.viewer.setPrimaryTool(TOOL.windowLevel);
    this.viewer.removeUnstored();
    this.drawStored();
    this.renderToolbar();
    this.renderLesions();
    this.say('');
  },

  startMeasuring(lesion, fragments) {
    if (this.measuring) this.clearAutoProposal(this.measuring);
    this.viewer.removeUnstored();
    this.measuring = { lesionId: lesion.lesion_id, fragments: fragments ? [] : null, pending: null,
      nodal: lesion.kind === 'target' && !!lesion.nodal, lesion,
      fromBaseline: !fragments && lesion.kind === 'target' && !this.isBaseline && this.canPropagate(lesion) };
    // A node's recorded size is its short axis: the bidirectional caliper gives both axes.
    this.viewer.setPrimaryTool(lesion.nodal ? TOOL.bidirectional : TOOL.length);
    this.renderToolbar();
    this.renderLesions();
    this.say(lesion.nodal
      ? `Draw the long axis of ${lesion.lesion_id}, then adjust the short axis; the short axis is recorded.`
      : `Drag across the longest diameter of ${lesion.lesion_id}.`);
  },

  // ---- semi-automatic: one click → a proposal (contours on every slice, calipers), Accept or Reject

  /** The Auto tool (key A) while a lesion is being measured. */
  selectAuto() {
    const m = this.measuring;
    if (!m || m.fragments || this.readOnly) {
      this.say('Auto measures the lesion being measured: click “Measure” on a lesion row first.', 'warn');
      return;
    }
    this.viewer.setPrimaryTool(AUTO_TOOL);
    this.renderToolbar();
    this.say(`Auto: click inside ${m.lesionId} on the ${this.currentTp.timepoint} images.`);
  },

  /** A click with the Auto tool: the server segments the lesion under it and proposes its calipers. */
  async onAutoClick(pane, canvasPoint) {
    const m = this.measuring;
    if (!m || m.fragments || this.readOnly) {
      this.say('Auto measures the lesion being measured: click “Measure” on a lesion row first.', 'warn');
      return;
    }
    if (pane.label !== 'current') {
      this.say(`Click the lesion on the ${this.currentTp.timepoint} images (right), not on the baseline.`, 'error');
      return;
    }
    if (m.autoBusy || (m.auto && this.nearAutoHandle(pane, canvasPoint))) return;
    const p = canvasToImagePoint(pane, canvasPoint);
    const sop = pane.currentSop();
    if (!p || !sop) return;
    m.autoBusy = true;
    this.renderToolbar();
    this.say(`Segmenting ${m.lesionId}…`);
    let prop;
    try {
      prop = await api.segment(this.subjectId, this.currentTp.timepoint, sop, p);
    } catch (err) {
      if (this.measuring !== m) return;
      m.autoBusy = false;
      this.renderToolbar();
      if (err instanceof api.ApiError && err.status === 401) {
        window.dispatchEvent(new CustomEvent('rcy-session-expired'));
        return;
      }
      this.say(err.message, 'error'); // e.g. "nothing stands out around the click…": measure by hand
      return;
    }
    if (this.measuring !== m || !this.viewer) return; // cancelled (Esc) or left while the server worked
    m.autoBusy = false;
    this.clearAutoProposal(m);
    await this.showAutoProposal(m, pane, prop);
  },

  async showAutoProposal(m, pane, prop) {
    const sop = prop.long_axis?.sop_instance_uid;
    const k = pane.indexBySop.get(sop);
    if (k === undefined) {
      this.renderToolbar();
      this.say('The proposal lies on an image that is not in the series shown: measure by hand.', 'error');
      return;
    }
    const imageId = pane.imageIds[k];
    await this.viewer.ensureLoaded([imageId]);
    if (this.measuring !== m || !this.viewer) return;
    await pane.jumpToSop(sop);
    const w = (q) => imageToWorld(imageId, q);
    tools.BidirectionalTool.hydrate(pane.id, [[w(prop.long_axis.p1), w(prop.long_axis.p2)], [w(prop.short_axis.p1), w(prop.short_axis.p2)]],
      { referencedImageId: imageId, annotationUID: AUTO_UID, label: m.lesionId });
    const a = tools.annotation.state.getAnnotation(AUTO_UID);
    if (a) a.data.label = `${m.lesionId} (auto)`;
    pane.contours.set(prop.contours, m.lesionId);
    m.auto = { pane, proposal: prop };
    this.viewer.engine.render();
    this.renderToolbar();
    const axis = m.nodal ? 'short axis (a node)' : 'long axis';
    this.say(`Auto proposal for ${m.lesionId} over ${prop.slices} slice(s), its ${axis} is recorded: move a handle if needed, then Accept; Reject to measure by hand.`);
  },

  /** A target measured at baseline (its long axis gives the position to look at on a follow-up). */
  canPropagate(lesion) {
    return !!lesion.observations?.[this.baselineTp.timepoint]?.measurement?.sop_instance_uid;
  },

  /**
   * Follow-up propagation: the server segments the target where it lay at baseline (same patient position,
   * no registration) and proposes it like an Auto click: contours, calipers, Accept/Reject. Accept stores it
   * with the same semi-automatic method; its seed is the proposal's, which the server segments again.
   */
  async proposeFromBaseline(lesion) {
    if (this.readOnly || this.isBaseline) return;
    if (this.measuring?.lesionId !== lesion.lesion_id || this.measuring.fragments) this.startMeasuring(lesion, false);
    const m = this.measuring;
    if (m.autoBusy) return;
    this.clearAutoProposal(m);
    m.autoBusy = true;
    this.renderToolbar();
    this.say(`Looking for ${m.lesionId} where it lay at ${this.baselineTp.timepoint}…`);
    let prop;
    try {
      prop = await api.propagate(this.subjectId, this.currentTp.timepoint, m.lesionId);
    } catch (err) {
      if (this.measuring !== m) return;
      m.autoBusy = false;
      this.renderToolbar();
      if (err instanceof api.ApiError && err.status === 401) {
        window.dispatchEvent(new CustomEvent('rcy-session-expired'));
        return;
      }
      this.say(`${err.message} — click the lesion with Auto (A), or measure it by hand.`, 'error');
      return;
    }
    if (this.measuring !== m || !this.viewer) return;
    m.autoBusy = false;
    // As after an Auto click: handles move the proposal, a click elsewhere on the lesion proposes anew.
    this.viewer.setPrimaryTool(AUTO_TOOL);
    const pane = this.viewer.panes.current;
    await this.showAutoProposal(m, pane, prop);
    if (this.measuring !== m || !m.auto) return;
    const from = prop.propagated_from || {};
    const shift = from.seed_shift_mm ? ` (seed moved ${Number(from.seed_shift_mm).toFixed(0)} mm to find it)` : '';
    this.say(`Proposed from ${from.timepoint || 'baseline'}${shift}: ${m.lesionId} over ${prop.slices} slice(s). Check it is the same lesion, move a handle if needed, then Accept; Reject to measure by hand.`);
  },

  /** The outline of a stored measurement's segmentation on the current pane (the row's "outline" toggle). */
  async toggleOutline(lesion, uid) {
    const pane = this.viewer?.panes?.current;
    if (!pane) return;
    if (this.outline?.uid === uid) {
      this.outline = null;
      pane.contours.clear();
      this.renderLesions();
      return;
    }
    if (this.measuring?.auto) {
      this.say('Accept or Reject the proposal first.', 'warn');
      return;
    }
    let seg;
    try {
      this.outlineCache = this.outlineCache || new Map();
      seg = this.outlineCache.get(uid) || (await api.getSegmentation(uid));
      this.outlineCache.set(uid, seg);
    } catch (err) {
      this.say(`Cannot show the outline of ${lesion.lesion_id}: ${err.message}`, 'error');
      return;
    }
    if (!this.viewer || this.measuring?.auto) return;
    this.outline = { lesionId: lesion.lesion_id, uid };
    pane.contours.set(seg.contours, lesion.lesion_id, 'stored');
    await this.jumpToLesion(lesion, 'current');
    pane.contours.draw();
    this.renderLesions();
    this.say(`${lesion.lesion_id}: outline of its stored segmentation (${seg.contours.length} slice(s)).`);
  },

  /** True when the canvas point is on a handle of the proposal's calipers. */
  nearAutoHandle(pane, q) {
    const a = tools.annotation.state.getAnnotation(AUTO_UID);
    if (!a || pane.viewport.getCurrentImageId() !== a.metadata.referencedImageId) return false;
    return a.data.handles.points.some((w) => {
      const c = pane.viewport.worldToCanvas(w);
      return Math.hypot(c[0] - q[0], c[1] - q[1]) <= HANDLE_PX;
    });
  },

  /** Removes the proposal's calipers and contours. */
  clearAutoProposal(m) {
    if (tools.annotation.state.getAnnotation(AUTO_UID)) tools.annotation.state.removeAnnotation(AUTO_UID);
    for (const p of Object.values(this.viewer?.panes || {})) p.contours?.clear();
    if (m) m.auto = null;
    if (this.outline) { // the layer holds one set of contours: a stored outline shown goes too
      this.outline = null;
      this.renderLesions();
    }
    this.viewer?.engine?.render();
  },

  /** Stores the calipers shown: "semiautomatic", or "semiautomatic_edited" when a handle was moved. */
  async acceptAuto() {
    const m = this.measuring;
    if (!m?.auto) return;
    const a = tools.annotation.state.getAnnotation(AUTO_UID);
    let meas;
    try {
      if (!a) throw new Error('the proposal is gone: click the lesion again');
      meas = annotationToMeasurement(m.auto.pane, a);
    } catch (err) {
      this.say(err.message, 'error');
      return;
    }
    const prop = m.auto.proposal;
    const edited = !isProposal(meas, prop);
    const body = { measurement: { ...meas, method: edited ? 'semiautomatic_edited' : 'semiautomatic',
      segmentation: { seed: prop.seed, volume_ml: prop.volume_ml } } };
    this.measuring = null;
    const ok = await this.putObservation(m.lesionId, body, `${m.lesionId} measured.`);
    if (!ok) { // the proposal stays: Accept again, or Reject
      this.measuring = m;
      this.renderToolbar();
      this.renderLesions();
      return;
    }
    // The stored caliper (redrawn from the server's answer) replaces the proposal; its contours go with it.
    this.clearAutoProposal(m);
    // The method is the server's decision (it compares the calipers with the proposal itself).
    const stored = (this.read.lesions || []).find((l) => l.lesion_id === m.lesionId)
      ?.observations?.[this.currentTp.timepoint]?.measurement?.method;
    this.say(`${m.lesionId} measured (${stored === 'semiautomatic_edited' ? 'auto, edited' : stored === 'semiautomatic' ? 'auto' : 'manual'}).`);
    if (this.viewer.primaryTool === AUTO_TOOL) this.viewer.setPrimaryTool(TOOL.windowLevel);
    this.renderToolbar();
  },

  /** Drops the proposal: the reader measures by hand (the lesion stays armed). */
  rejectAuto() {
    const m = this.measuring;
    if (!m) return;
    this.clearAutoProposal(m);
    this.viewer.setPrimaryTool(m.nodal ? TOOL.bidirectional : TOOL.length);
    this.renderToolbar();
    this.say(`Proposal rejected: ${m.nodal ? `draw the long axis of ${m.lesionId}, then adjust the short axis` : `drag across the longest diameter of ${m.lesionId}`}.`);
  },

  /**
   * Redraws every stored caliper of the shown timepoints from the server's copy (image coordinates), on every
   * load: the images they are on are loaded first, since their geometry comes from the DICOM file.
   */
  async drawStored() {
    if (!this.viewer) return;
    const gen = (this.drawGen = (this.drawGen || 0) + 1);
    const todo = [];
    for (const l of this.read.lesions || []) {
      for (const [key, tp] of [['current', this.currentTp], ['baseline', this.leftTp || this.baselineTp]]) {
        const pane = this.viewer.panes[key];
        const obs = l.observations?.[tp.timepoint];
        if (!pane || !pane.imageIds.length) continue;
        const calipers = obs?.measurement ? [[obs.measurement, l.lesion_id]]
          : (obs?.fragments || []).map((f, k) => [f, `${l.lesion_id}${String.fromCharCode(97 + k)}`]); // T1a, T1b…
        for (const [meas, label] of calipers) {
          const k = pane.indexBySop.get(meas.sop_instance_uid);
          if (k !== undefined) todo.push({ pane, meas, label, id: l.lesion_id, imageId: pane.imageIds[k] });
        }
      }
    }
    await this.viewer.ensureLoaded(todo.map((x) => x.imageId));
    if (!this.viewer || gen !== this.drawGen) return; // left, or a newer redraw started
    this.viewer.removeAnnotationsByPrefix('stored-');
    const failed = [];
    for (const { pane, meas, label, id } of todo) {
      try {
        drawStoredMeasurement(pane, meas, label);
      } catch (err) {
        failed.push(`cannot draw ${id}: ${err.message}`);
      }
    }
    if (failed.length) this.say(failed.join('; '), 'warn');
    this.viewer.engine?.render();
    for (const p of Object.values(this.viewer.panes)) this.drawMarkers(p);
  },

  async jumpToLesion(lesion, key) {
    const tp = key === 'baseline' ? (this.leftTp || this.baselineTp).timepoint : this.currentTp.timepoint;
    const pane = this.viewer.panes[key];
    const sop = lesionSop(lesion, tp) || (tp === this.baselineTp.timepoint ? lesion.baseline?.sop_instance_uid : null);
    if (!pane || !sop) return;
    if (!(await pane.jumpToSop(sop))) this.say(`The slice of ${lesion.lesion_id} is not in the series shown.`, 'warn');
  },
};
