// The image viewer: one or two Cornerstone3D StackViewports (baseline | current timepoint) sharing one tool
// group: wheel scrolls the stack, the primary button runs the selected tool (window/level, pan, zoom, Length,
// Bidirectional), the middle button pans and the right button zooms. The two stacks are scrolled together by
// patient position: the slice of the other viewport nearest along the slice normal to this one's (studies of
// different dates have different slice counts, so slice indices never match).
import { core, tools, TOOL, initCornerstone } from './cornerstone.js';
import { wadoImageId } from './api.js';
import { nearestIndexByPosition } from './geometry.js';

const { RenderingEngine, Enums, eventTarget, utilities: csUtils } = core;

export const PRESETS = {
  abdomen: { label: 'Abdomen', ww: 400, wc: 40 },
  liver: { label: 'Liver', ww: 150, wc: 90 },
  lung: { label: 'Lung', ww: 1500, wc: -600 },
  bone: { label: 'Bone', ww: 2000, wc: 300 },
};

const PRIMARY_TOOLS = [TOOL.windowLevel, TOOL.pan, TOOL.zoom, TOOL.length, TOOL.bidirectional];
const ANNOTATION_TOOLS = [TOOL.length, TOOL.bidirectional];
let engineSeq = 0;

// Caliper labels: the lesion id (data.label, set on stored calipers) above Cornerstone's live length. The number
// on the image is feedback while dragging; the value recorded is the one the server computes.
const mm = (v) => (typeof v === 'number' && Number.isFinite(v) ? `${v.toFixed(1)} mm` : null);
const TOOL_CONFIG = {
  [TOOL.length]: {
    getTextLines: (data, targetId) => {
      const s = data.cachedStats?.[targetId];
      return [data.label, mm(s?.length)].filter(Boolean);
    },
  },
  [TOOL.bidirectional]: {
    getTextLines: (data, targetId) => {
      const s = data.cachedStats?.[targetId];
      return [data.label, s && mm(s.length) ? `L ${mm(s.length)}` : null, s && mm(s.width) ? `S ${mm(s.width)}` : null].filter(Boolean);
    },
  },
};

/** One viewport showing one series (an ordered list of instances with positions along the slice normal). */
class Pane {
  constructor(viewer, id, element, label) {
    this.viewer = viewer;
    this.id = id;
    this.element = element;
    this.label = label;
    this.series = null;
    this.imageIds = [];
    this.positions = []; // slice position along the normal (mm), per image index
    this.sopByImageId = new Map();
    this.indexBySop = new Map();
  }

  get viewport() {
    return this.viewer.engine.getViewport(this.id);
  }

  async showSeries(series, startIndex) {
    this.series = series;
    const instances = series.instances || [];
    this.imageIds = instances.map((i) => wadoImageId(i.url));
    this.sopByImageId = new Map(instances.map((inst, k) => [this.imageIds[k], inst.sop_instance_uid]));
    this.indexBySop = new Map(instances.map((inst, k) => [inst.sop_instance_uid, k]));
    this.positions = slicePositions(instances);
    const start = startIndex ?? Math.floor(instances.length / 2);
    await this.viewport.setStack(this.imageIds, Math.min(Math.max(0, start), Math.max(0, instances.length - 1)));
    if (this.viewer.voi) this.applyVoi(this.viewer.voi);
    this.viewport.render();
    // Load the slices around the current one in the background so wheel scrolling does not wait on the network.
    tools.utilities.stackContextPrefetch.enable(this.element);
    this.viewer.onPaneChanged(this);
  }

  currentIndex() {
    return this.imageIds.length ? this.viewport.getCurrentImageIdIndex() : -1;
  }

  currentSop() {
    const k = this.currentIndex();
    return k < 0 ? null : this.sopByImageId.get(this.imageIds[k]);
  }

  async jumpToIndex(k) {
    if (k < 0 || k >= this.imageIds.length || k === this.currentIndex()) return;
    await this.viewport.setImageIdIndex(k);
  }

  async jumpToSop(sop) {
    const k = this.indexBySop.get(sop);
    if (k === undefined) return false;
    await this.jumpToIndex(k);
    return true;
  }

  applyVoi({ ww, wc }) {
    if (!this.imageIds.length) return;
    this.viewport.setProperties({ voiRange: csUtils.windowLevel.toLowHighRange(ww, wc) });
    this.viewport.render();
  }
}

/** Position of each instance along its slice normal; the server orders instances along it. */
function slicePositions(instances) {
  if (!instances.length) return [];
  const p0 = instances[0].position_mm || [0, 0, 0];
  const pN = instances[instances.length - 1].position_mm || p0;
  const d = [pN[0] - p0[0], pN[1] - p0[1], pN[2] - p0[2]];
  const len = Math.hypot(d[0], d[1], d[2]);
  // Single slice or unknown geometry: fall back to z, which is the normal of axial CT.
  const n = len > 0 ? d.map((v) => v / len) : [0, 0, 1];
  const sign = n[2] < 0 ? -1 : 1; // keep "position" comparable across studies: grows towards the head
  return instances.map((i) => {
    const p = i.position_mm || [0, 0, 0];
    return sign * (p[0] * n[0] + p[1] * n[1] + p[2] * n[2]);
  });
}

export class Viewer {
  /**
   * elements: {baseline: HTMLElement|null, current: HTMLElement}. onMeasured(pane, annotation) is called
   * when a Length or Bidirectional annotation is finished; onSlice(pane) after each slice change.
   */
  constructor(elements, { onMeasured, onSlice } = {}) {
    this.elements = elements;
    this.onMeasured = onMeasured || (() => {});
    this.onSlice = onSlice || (() => {});
    this.sync = true;
    this.voi = null;
    this.pending = new Map(); // pane -> slice index it is being moved to by the synchroniser
    this.primaryTool = TOOL.windowLevel;
    this.listeners = [];
  }

  async start() {
    await initCornerstone();
    if (this.destroyed) return;
    const n = ++engineSeq;
    this.engine = new RenderingEngine(`rcy-engine-${n}`);
    this.panes = {};
    const inputs = [];
    for (const [key, el] of Object.entries(this.elements)) {
      if (!el) continue;
      const id = `rcy-${key}-${n}`;
      this.panes[key] = new Pane(this, id, el, key);
      inputs.push({ viewportId: id, type: Enums.ViewportType.STACK, element: el, defaultOptions: { background: [0, 0, 0] } });
      el.addEventListener('contextmenu', (e) => e.preventDefault());
    }
    this.engine.setViewports(inputs);

    this.toolGroupId = `rcy-tools-${n}`;
    const tg = tools.ToolGroupManager.createToolGroup(this.toolGroupId);
    for (const name of Object.values(TOOL)) tg.addTool(name, TOOL_CONFIG[name]);
    for (const p of Object.values(this.panes)) tg.addViewport(p.id, this.engine.id);
    this.toolGroup = tg;
    const MB = tools.Enums.MouseBindings;
    tg.setToolActive(TOOL.scroll, { bindings: [{ mouseButton: MB.Wheel }] });
    tg.setToolActive(TOOL.pan, { bindings: [{ mouseButton: MB.Auxiliary }] });
    tg.setToolActive(TOOL.zoom, { bindings: [{ mouseButton: MB.Secondary }] });
    this.setPrimaryTool(TOOL.windowLevel);

    const onNewImage = (evt) => {
      const pane = Object.values(this.panes).find((p) => p.element === evt.currentTarget || p.element === evt.target);
      if (pane) this.onPaneChanged(pane);
    };
    for (const p of Object.values(this.panes)) {
      p.element.addEventListener(Enums.Events.STACK_NEW_IMAGE, onNewImage);
      this.listeners.push([p.element, Enums.Events.STACK_NEW_IMAGE, onNewImage]);
    }
    const onCompleted = (evt) => {
      const annotation = evt.detail?.annotation;
      if (!annotation || !ANNOTATION_TOOLS.includes(annotation.metadata?.toolName)) return;
      const pane = this.paneForImageId(annotation.metadata.referencedImageId);
      if (pane) this.onMeasured(pane, annotation);
    };
    eventTarget.addEventListener(tools.Enums.Events.ANNOTATION_COMPLETED, onCompleted);
    this.listeners.push([eventTarget, tools.Enums.Events.ANNOTATION_COMPLETED, onCompleted]);
    this.resizeObserver = new ResizeObserver(() => this.engine && this.engine.resize(true, true));
    for (const p of Object.values(this.panes)) this.resizeObserver.observe(p.element);
  }

  paneForImageId(imageId) {
    return Object.values(this.panes).find((p) => p.sopByImageId.has(imageId)) || null;
  }

  setPrimaryTool(name) {
    if (!PRIMARY_TOOLS.includes(name)) throw new Error(`unknown tool ${name}`);
    const MB = tools.Enums.MouseBindings;
    const tg = this.toolGroup;
    for (const t of PRIMARY_TOOLS) {
      if (t === name) continue;
      // Annotation tools stay passive so finished calipers remain visible and their handles can be moved.
      if (ANNOTATION_TOOLS.includes(t)) tg.setToolPassive(t);
      else if (t === TOOL.windowLevel) tg.setToolPassive(t);
    }
    // Pan and zoom keep their middle/right bindings when they are not the primary tool.
    tg.setToolActive(TOOL.pan, { bindings: [{ mouseButton: MB.Auxiliary }, ...(name === TOOL.pan ? [{ mouseButton: MB.Primary }] : [])] });
    tg.setToolActive(TOOL.zoom, { bindings: [{ mouseButton: MB.Secondary }, ...(name === TOOL.zoom ? [{ mouseButton: MB.Primary }] : [])] });
    if (name !== TOOL.pan && name !== TOOL.zoom) tg.setToolActive(name, { bindings: [{ mouseButton: MB.Primary }] });
    this.primaryTool = name;
  }

  setPreset(key) {
    const p = PRESETS[key];
    if (!p) throw new Error(`unknown preset ${key}`);
    this.voi = { ww: p.ww, wc: p.wc };
    for (const pane of Object.values(this.panes)) pane.applyVoi(this.voi);
  }

  /** Keeps the other pane at the nearest patient position (along the slice normal) to this pane's slice. */
  async onPaneChanged(pane) {
    this.onSlice(pane);
    // A slice change we caused ourselves is not echoed back (that could walk both stacks when spacings differ).
    if (this.pending.get(pane) === pane.currentIndex()) {
      this.pending.delete(pane);
      return;
    }
    if (!this.sync) return;
    const other = Object.values(this.panes).find((p) => p !== pane);
    if (!other || !other.imageIds.length || !pane.imageIds.length) return;
    const target = nearestIndexByPosition(other.positions, pane.positions[pane.currentIndex()]);
    if (target < 0 || target === other.currentIndex()) return;
    this.pending.set(other, target);
    await other.jumpToIndex(target);
  }

  removeAnnotation(annotation) {
    tools.annotation.state.removeAnnotation(annotation.annotationUID);
    this.engine.render();
  }

  /** Scrolls a pane (default: the current timepoint's) by delta slices, clamped to the stack. */
  async scrollBy(delta, key = 'current') {
    const pane = this.panes[key] || Object.values(this.panes)[0];
    if (!pane || !pane.imageIds.length) return;
    const k = Math.min(Math.max(0, pane.currentIndex() + delta), pane.imageIds.length - 1);
    await pane.jumpToIndex(k);
  }

  /** Back to the whole image: camera (zoom, pan) and the window of the preset in use or the file's own. */
  reset() {
    for (const pane of Object.values(this.panes)) {
      if (!pane.imageIds.length) continue;
      pane.viewport.resetCamera();
      pane.viewport.resetProperties();
      if (this.voi) pane.applyVoi(this.voi);
      pane.viewport.render();
    }
  }

  /** Labels of the stored calipers drawn now (what the reader sees on the images). */
  storedLabels() {
    return tools.annotation.state.getAllAnnotations()
      .filter((a) => a.annotationUID?.startsWith('stored-'))
      .map((a) => a.data?.label);
  }

  /** Removes the annotations whose UID starts with prefix (e.g. the redrawn stored calipers). */
  removeAnnotationsByPrefix(prefix) {
    for (const a of tools.annotation.state.getAllAnnotations()) {
      if (a.annotationUID && a.annotationUID.startsWith(prefix)) tools.annotation.state.removeAnnotation(a.annotationUID);
    }
    if (this.engine) this.engine.render();
  }

  clearAnnotations() {
    tools.annotation.state.removeAllAnnotations();
    if (this.engine) this.engine.render();
  }

  destroy() {
    this.destroyed = true;
    for (const [t, name, fn] of this.listeners) t.removeEventListener(name, fn);
    for (const p of Object.values(this.panes || {})) {
      if (p.imageIds.length) tools.utilities.stackContextPrefetch.disable(p.element);
    }
    this.listeners = [];
    if (this.resizeObserver) this.resizeObserver.disconnect();
    tools.annotation.state.removeAllAnnotations();
    if (this.toolGroupId) tools.ToolGroupManager.destroyToolGroup(this.toolGroupId);
    if (this.engine) this.engine.destroy();
    this.engine = null;
  }
}
