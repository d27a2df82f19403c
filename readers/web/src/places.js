// Where each lesion is, on the subject screen: the "Place" action for non-target and new lesions (one click on the
// image stores a point: instance + image coordinates; the server computes the patient position in mm and renders
// a key image), labelled markers drawn over a pane when the slice a point is on is shown, the timepoint picker of
// the left pane (baseline by default, any earlier timepoint, or the nadir timepoint the server derives from the
// engine's sums), and the lesion navigator (every lesion × every timepoint where it has a stored slice: a click
// scrolls both panes there). Nothing RECIST-related is computed here.
import { h, clear } from './dom.js';
import { core } from './cornerstone.js';
import { worldToImagePoint } from './geometry.js';

const { Enums, metaData } = core;

/** The stored slice of a lesion at a timepoint: its caliper's, first fragment's or point's instance, or null. */
export function lesionSop(l, tp) {
  const o = l.observations?.[tp];
  return o?.measurement?.sop_instance_uid || o?.fragments?.[0]?.sop_instance_uid || o?.point?.sop_instance_uid || null;
}

export const placeMethods = {
  /** Lesions that are located by a point (targets are placed by their calipers). */
  placeable(l) {
    return !this.readOnly && (l.kind === 'non_target' || l.kind === 'new');
  },

  /** The "Place" button of a lesion row (non-targets and new lesions), or null. */
  placeButton(l, obs) {
    if (!this.placeable(l)) return null;
    const placed = !!obs?.point;
    return h('button', { type: 'button', class: 'place', dataset: { place: l.lesion_id },
      title: placed ? `Placed on image ${obs.point.sop_instance_uid.slice(-8)} — click to place again` : 'Click, then click the lesion on the image',
      onclick: (e) => { e.currentTarget.blur(); this.startPlacing(l); } }, placed ? 'Re-place' : 'Place');
  },

  /** Arms a one-click placement on the current timepoint's pane. */
  startPlacing(l) {
    const tp = this.currentTp.timepoint;
    if (!l.observations?.[tp]?.state) {
      this.say(`Set the state of ${l.lesion_id} at ${tp} first, then place it.`, 'warn');
      return;
    }
    this.cancelPlacing();
    const pane = this.viewer.panes.current;
    const el = pane.element;
    el.classList.add('placing');
    const onClick = async (e) => {
      e.preventDefault();
      e.stopPropagation();
      this.cancelPlacing();
      const canvas = el.querySelector('canvas') || el;
      const r = canvas.getBoundingClientRect();
      const imageId = pane.viewport.getCurrentImageId();
      const plane = metaData.get('imagePlaneModule', imageId);
      if (!plane?.imagePositionPatient) {
        this.say('This image has no patient geometry: the lesion cannot be placed on it.', 'error');
        return;
      }
      const world = pane.viewport.canvasToWorld([e.clientX - r.left, e.clientY - r.top]);
      const p = worldToImagePoint(plane, world);
      await this.putObservation(l.lesion_id, { point: { sop_instance_uid: pane.currentSop(), p } }, `${l.lesion_id} placed.`);
    };
    el.addEventListener('click', onClick, true);
    this.placing = { lesionId: l.lesion_id, off: () => { el.removeEventListener('click', onClick, true); el.classList.remove('placing'); } };
    this.say(`Click ${l.lesion_id} on the ${tp} image (Esc cancels).`);
    const esc = (e) => { if (e.key === 'Escape' && this.placing) { e.stopPropagation(); this.cancelPlacing(); this.say(''); } };
    window.addEventListener('keydown', esc, true);
    const off = this.placing.off;
    this.placing.off = () => { off(); window.removeEventListener('keydown', esc, true); };
  },

  cancelPlacing() {
    if (this.placing) this.placing.off();
    this.placing = null;
  },

  // ---- markers: a labelled cross over each pane for every point stored on the slice it shows

  /** Draws the markers of both panes now and after every render (slice change, zoom, pan). */
  watchMarkers() {
    for (const pane of Object.values(this.viewer.panes)) {
      if (pane.markerLayer) continue;
      pane.markerLayer = h('div', { class: 'markers', 'aria-hidden': 'true' });
      pane.element.appendChild(pane.markerLayer);
      pane.element.addEventListener(Enums.Events.IMAGE_RENDERED, () => this.drawMarkers(pane));
    }
    for (const pane of Object.values(this.viewer.panes)) this.drawMarkers(pane);
  },

  drawMarkers(pane) {
    if (!pane.markerLayer || !this.read) return;
    const tp = pane.label === 'current' ? this.currentTp.timepoint : this.leftTp?.timepoint;
    const sop = pane.currentSop();
    const marks = [];
    for (const l of this.read.lesions || []) {
      const pt = l.observations?.[tp]?.point;
      if (!pt || pt.sop_instance_uid !== sop || !pt.position_mm) continue;
      const [x, y] = pane.viewport.worldToCanvas(pt.position_mm);
      marks.push(h('div', { class: `marker marker-${l.kind}`, dataset: { lesion: l.lesion_id }, style: { left: `${x}px`, top: `${y}px` } },
        h('span', { class: 'cross' }, '+'), h('span', { class: 'label' }, l.lesion_id)));
    }
    clear(pane.markerLayer, marks);
  },

  /** Lesion ids of the markers shown on a pane now (tests and debugging). */
  markerLabels(key = 'current') {
    return [...(this.viewer.panes[key]?.markerLayer?.querySelectorAll('.marker') || [])].map((m) => m.dataset.lesion);
  },

  // ---- the left pane's timepoint: baseline, an earlier timepoint or the nadir

  /** Timepoints the left pane may show: every one before the current timepoint. */
  priorTps() {
    const tps = this.timepoints();
    const k = tps.findIndex((t) => t.timepoint === this.currentTp.timepoint);
    return tps.slice(0, Math.max(0, k));
  },

  nadirTp() {
    const name = this.tpInfo(this.currentTp.timepoint).nadir_timepoint;
    return name ? this.timepoints().find((t) => t.timepoint === name) || null : null;
  },

  /** The <select> in the left pane's heading. */
  leftPicker() {
    const nadir = this.nadirTp();
    const sel = h('select', { id: 'left-tp', title: 'Timepoint shown on the left' },
      this.priorTps().map((t) => h('option', { value: t.timepoint, selected: this.leftChoice === t.timepoint },
        `${t.timepoint} · ${t.date || ''}${t.timepoint === this.baselineTp.timepoint ? ' (baseline)' : ''}`)),
      h('option', { value: 'nadir', disabled: !nadir, selected: this.leftChoice === 'nadir' },
        nadir ? `nadir (${nadir.timepoint})` : 'nadir (no complete sum yet)'));
    sel.addEventListener('change', async () => { sel.blur(); await this.showLeft(sel.value); });
    return sel;
  },

  renderLeftPicker() {
    if (this.els.leftPicker) clear(this.els.leftPicker, this.leftPicker());
  },

  /** Shows choice ("nadir" or a timepoint label) in the left pane. */
  async showLeft(choice) {
    const tp = choice === 'nadir' ? this.nadirTp() : this.priorTps().find((t) => t.timepoint === choice);
    if (!tp || !this.viewer?.panes.baseline) return;
    this.leftChoice = choice;
    this.leftTp = tp;
    this.renderLeftPicker();
    await this.loadStudy('baseline', tp);
    await this.drawStored();
    this.drawMarkers(this.viewer.panes.baseline);
  },

  // ---- the lesion navigator

  renderNavigator() {
    if (!this.els.navigator) return;
    const tps = this.timepoints();
    const lesions = this.read.lesions || [];
    const rows = lesions.map((l) => h('tr', { dataset: { lesion: l.lesion_id } },
      h('td', {}, h('b', {}, l.lesion_id), ` ${l.organ || ''}`),
      tps.map((t) => {
        const sop = lesionSop(l, t.timepoint);
        return h('td', {}, sop ? h('button', { type: 'button', class: 'nav-go', dataset: { tp: t.timepoint },
          title: `${l.lesion_id} at ${t.timepoint}`, onclick: (e) => { e.currentTarget.blur(); this.navigateTo(l, t.timepoint); } }, t.timepoint)
          : h('span', { class: 'muted' }, '·'));
      })));
    clear(this.els.navigator,
      h('details', { open: true }, h('summary', {}, 'Lesion navigator'),
        lesions.length ? h('table', { class: 'grid nav-grid', id: 'lesion-nav' },
          h('thead', {}, h('tr', {}, h('th', {}, 'Lesion'), tps.map((t) => h('th', {}, t.timepoint)))), h('tbody', {}, rows))
          : h('p', { class: 'muted' }, 'No lesion yet.')));
  },

  /**
   * Scrolls both panes to the lesion's stored slices: the timepoint clicked is shown (on the left when it is not
   * the current one), and the other pane goes to the lesion's slice at its own timepoint when it has one.
   */
  async navigateTo(l, tp) {
    const panes = this.viewer.panes;
    if (tp !== this.currentTp.timepoint && panes.baseline && tp !== this.leftTp?.timepoint) await this.showLeft(tp);
    if (tp !== this.currentTp.timepoint && !panes.baseline) {
      this.go(`#/subject/${encodeURIComponent(this.subjectId)}/${encodeURIComponent(tp)}`);
      return;
    }
    const clickedKey = tp === this.currentTp.timepoint ? 'current' : 'baseline';
    const otherKey = clickedKey === 'current' ? 'baseline' : 'current';
    // Each pane goes to the lesion's own stored slice there: the link would otherwise pull one pane to the other's
    // position, which is not where the lesion was recorded when the patient lay differently.
    const linked = this.viewer.sync;
    this.viewer.sync = false;
    const jump = async (key, when) => {
      const pane = panes[key];
      const sop = when && pane ? lesionSop(l, when) : null;
      return sop ? pane.jumpToSop(sop) : false;
    };
    if (!(await jump(clickedKey, tp))) this.say(`The slice of ${l.lesion_id} at ${tp} is not in the series shown.`, 'warn');
    // The other pane: its own stored slice of the lesion (else it follows by position when the panes are linked).
    await jump(otherKey, otherKey === 'current' ? this.currentTp.timepoint : this.leftTp?.timepoint);
    await new Promise((r) => setTimeout(r, 50)); // the slice events of both jumps, before the link is back
    if (!this.viewer) return;
    this.viewer.sync = linked;
    for (const p of Object.values(panes)) this.drawMarkers(p);
  },
};

