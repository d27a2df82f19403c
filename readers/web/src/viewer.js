// The image viewer: one or two Cornerstone3D StackViewports (baseline | current timepoint) sharing one tool
// group: wheel scrolls the stack, the primary button runs the selected tool (window/level, pan, zoom, Length,
// Bidirectional, or Auto: a click handed to onAutoClick; each pane has a ContourLayer for its contours), the middle button pans and the right button zooms. The two stacks are scrolled together by
// patient position: the slice of the other viewport nearest along the slice normal to this one's (studies of
// different dates have different slice counts, so slice indices never match).
import { core, tools, TOOL, initCornerstone, endInteractions } from './cornerstone.js';
import { wadoImageId } from './api.js';
import { nearestIndexByPosition } from './geometry.js';
import { h, fmt } from './dom.js';
import { ContourLayer } from './contours.js';

const { RenderingEngine, Enums, eventTarget, utilities: csUtils, metaData, imageLoader } = core;

// Window presets by modality. CT presets are Hounsfield units and mean nothing on MR, whose signal scale is
// arbitrary: there the image's own window (WindowCenter/Width of the file) or an automatic window from the
// slice's histogram (1st–99th percentile).
export const CT_PRESETS = {
  abdomen: { label: 'Abdomen', ww: 400, wc: 40 },
  liver: { label: 'Liver', ww: 150, wc: 90 },
  lung: { label: 'Lung', ww: 1500, wc: -600 },
  bone: { label: 'Bone', ww: 2000, wc: 300 },
};
export const IMAGE_PRESETS = {
  image: { label: 'Image window', own: true },
  auto: { label: 'Auto window', auto: true },
};
/** The presets offered for a modality (CT: HU presets; anything else: the image's own or an automatic window). */
export function presetsFor(modality) {
  return modality === 'CT' ? CT_PRESETS : IMAGE_PRESETS;
}
export const PRESETS = { ...CT_PRESETS, ...IMAGE_PRESETS };

/** The one-click tool (semi-automatic measurement): not a Cornerstone tool; a click on a pane is handed to onAutoClick. */
export const AUTO_TOOL = 'RcyAuto';
const PRIMARY_TOOLS = [TOOL.windowLevel, TOOL.pan, TOOL.zoom, TOOL.length, TOOL.bidirectional, AUTO_TOOL];
/** A press and release closer than this (CSS px) is a click, not a drag. */
const CLICK_SLOP_PX = 4;
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
    // Radiology order (as OHIF and Cornerstone's sortImageIdsAndGetSpacing): image 1 is the most superior slice,
    // so wheel down / ↓ (next image) moves towards the feet. The server lists instances by increasing z.
    const pos = slicePositions(series.instances || []);
    const order = (series.instances || []).map((inst, k) => [inst, pos[k], k]).sort((a, b) => b[1] - a[1] || a[2] - b[2]);
    const instances = order.map((x) => x[0]);
    this.instances = instances;
    this.imageIds = instances.map((i) => wadoImageId(i.url));
    this.sopByImageId = new Map(instances.map((inst, k) => [this.imageIds[k], inst.sop_instance_uid]));
    this.indexBySop = new Map(instances.map((inst, k) => [inst.sop_instance_uid, k]));
    this.positions = slicePositions(instances);
    const start = startIndex ?? Math.floor(instances.length / 2);
    await this.viewport.setStack(this.imageIds, Math.min(Math.max(0, start), Math.max(0, instances.length - 1)));
    this.applyPreset(this.viewer.preset);
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

  get modality() {
    return this.series?.modality || '';
  }

  /** Applies a preset key (null: the image's own window); a preset not offered for this modality is ignored. */
  applyPreset(key) {
    if (!this.imageIds.length || !key) return;
    const p = presetsFor(this.modality)[key];
    if (!p) return;
    if (p.own) {
      this.viewport.resetProperties();
    } else if (p.auto) {
      const range = autoWindow(this.viewport.getCornerstoneImage?.()?.getPixelData?.());
      if (range) this.viewport.setProperties({ voiRange: range });
    } else {
      this.viewport.setProperties({ voiRange: csUtils.windowLevel.toLowHighRange(p.ww, p.wc) });
    }
    this.viewport.render();
  }

  /** Text overlays on the image: window, orientation letters, a scale bar in mm, slice number and position. */
  makeOverlay() {
    const o = {};
    for (const k of ['wl', 'slice', 'top', 'bottom', 'left', 'right', 'scale']) o[k] = h('div', { class: `ov ov-${k}` });
    this.overlay = o;
    this.element.appendChild(h('div', { class: 'overlay', 'aria-hidden': 'true' }, Object.values(o)));
  }

  /** "image k/N · z −123.5 mm" (k from the top: image 1 is the most superior). */
  sliceText() {
    const k = this.currentIndex();
    if (k < 0) return '';
    const z = this.currentZ();
    return `image ${k + 1}/${this.imageIds.length}` + (z === null ? '' : ` · z ${fmt.signed(z, 1)} mm`);
  }

  updateOverlay() {
    const o = this.overlay;
    if (!o || !this.imageIds.length) return;
    const vp = this.viewport;
    const range = vp.getProperties?.()?.voiRange;
    if (range) {
      const { windowWidth, windowCenter } = csUtils.windowLevel.toWindowLevel(range.lower, range.upper);
      o.wl.textContent = `W ${Math.round(windowWidth)} L ${Math.round(windowCenter)}`;
    }
    o.slice.textContent = this.sliceText();
    const plane = metaData.get('imagePlaneModule', vp.getCurrentImageId());
    if (plane?.rowCosines && plane?.columnCosines) {
      const r = plane.rowCosines;
      const c = plane.columnCosines;
      o.right.textContent = orientationLetters(r);
      o.left.textContent = orientationLetters(r.map((v) => -v));
      o.bottom.textContent = orientationLetters(c);
      o.top.textContent = orientationLetters(c.map((v) => -v));
    }
    // Scale bar: millimetres per screen pixel along the canvas's horizontal, a round length ≤ a quarter width.
    const w = vp.canvas?.clientWidth || this.element.clientWidth;
    const a = vp.canvasToWorld([0, 10]);
    const b = vp.canvasToWorld([100, 10]);
    const mmPerPx = Math.hypot(b[0] - a[0], b[1] - a[1], b[2] - a[2]) / 100;
    if (mmPerPx > 0 && w > 0) {
      const len = [1, 2, 5, 10, 20, 50, 100, 200, 500].filter((v) => v / mmPerPx <= w / 4).pop() || 1;
      o.scale.textContent = `${len} mm`;
      o.scale.style.width = `${Math.round(len / mmPerPx)}px`;
    }
  }

  /** The patient z (mm) of the slice shown (DICOM Image Position), or null. */
  currentZ() {
    const k = this.currentIndex();
    const p = k < 0 ? null : this.instances?.[k]?.position_mm;
    return p && Number.isFinite(p[2]) ? p[2] : null;
  }
}

/** Patient-direction letters of a direction cosine vector (LPS: +x left, +y posterior, +z superior), strongest first. */
function orientationLetters(v) {
  const axes = [['L', 'R'], ['P', 'A'], ['S', 'I']];
  return [0, 1, 2].filter((k) => Math.abs(v[k]) > 0.25).sort((a, b) => Math.abs(v[b]) - Math.abs(v[a]))
    .map((k) => axes[k][v[k] > 0 ? 0 : 1]).join('');
}

/** 1st–99th percentile of the pixel values (a histogram-based window), or null when there are no pixels. */
function autoWindow(pixels) {
  if (!pixels || !pixels.length) return null;
  const step = Math.max(1, Math.floor(pixels.length / 65536));
  const sample = [];
  for (let i = 0; i < pixels.length; i += step) sample.push(pixels[i]);
  sample.sort((a, b) => a - b);
  const lower = sample[Math.floor(sample.length * 0.01)];
  const upper = sample[Math.min(sample.length - 1, Math.floor(sample.length * 0.99))];
  return upper > lower ? { lower, upper } : { lower, upper: lower + 1 };
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
  constructor(elements, { onMeasured, onSlice, onView, onPresetCleared, onAutoClick } = {}) {
    this.elements = elements;
    this.onAutoClick = onAutoClick || (() => {}); // (pane, [x, y] canvas CSS px) with the Auto tool
    this.onMeasured = onMeasured || (() => {});
    this.onSlice = onSlice || (() => {});
    this.onView = onView || (() => {}); // preset or slice changed (the view state is kept per subject + timepoint)
    this.onPresetCleared = onPresetCleared || (() => {}); // the window was changed by hand
    this.sync = true;
    this.preset = null; // key of the preset in use (CT_PRESETS / IMAGE_PRESETS); null: the image's own window
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
    for (const p of Object.values(this.panes)) {
      p.makeOverlay();
      p.contours = new ContourLayer(p);
    }

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
    const onRendered = (evt) => {
      const pane = Object.values(this.panes).find((p) => p.element === evt.currentTarget);
      if (pane) {
        pane.updateOverlay();
        pane.contours?.draw();
      }
    };
    for (const p of Object.values(this.panes)) {
      p.element.addEventListener(Enums.Events.IMAGE_RENDERED, onRendered);
      this.listeners.push([p.element, Enums.Events.IMAGE_RENDERED, onRendered]);
    }
    // Baseline and follow-up are compared at the same zoom, pan and window: what the reader changes on one pane
    // is copied to the other while "Link panes" is ticked (the slice follows by position, onPaneChanged).
    // A window changed by hand (W/L drag) is no longer the preset: the preset is cleared so the tool bar and the
    // kept view say so.
    const paneOf = (evt) => Object.values(this.panes).find((p) => p.element === evt.currentTarget);
    const onCamera = (evt) => {
      const pane = paneOf(evt);
      if (!pane || this.linking || !this.sync) return;
      this.copyToOthers(pane, (src, dst) => {
        dst.viewport.setZoom(src.viewport.getZoom());
        dst.viewport.setPan(src.viewport.getPan());
      });
    };
    const onVoi = (evt) => {
      const pane = paneOf(evt);
      // Only a window changed by hand (a W/L drag) is copied and clears the preset; presets set both panes
      // themselves, and a series or image load setting its own window is not the reader's doing.
      if (!pane || this.linking || !this.windowing) return;
      if (this.preset) {
        this.preset = null;
        this.onView();
        this.onPresetCleared();
      }
      if (!this.sync) return;
      const range = pane.viewport.getProperties()?.voiRange;
      if (range) this.copyToOthers(pane, (src, dst) => dst.viewport.setProperties({ voiRange: { ...range } }));
    };
    // A primary-button drag with the W/L tool is the reader windowing by hand.
    const onDown = (evt) => { if (evt.button === 0 && this.primaryTool === TOOL.windowLevel) this.windowing = true; };
    const onUp = () => { this.windowing = false; };
    // The Auto tool: a primary-button click (not a drag) on a pane, in canvas coordinates.
    let press = null;
    const canvasPoint = (pane, evt) => {
      const r = pane.viewport.canvas.getBoundingClientRect();
      return [evt.clientX - r.left, evt.clientY - r.top];
    };
    const onAutoDown = (evt) => {
      const pane = paneOf(evt);
      press = pane && evt.button === 0 && this.primaryTool === AUTO_TOOL ? { pane, x: evt.clientX, y: evt.clientY } : null;
    };
    const onAutoUp = (evt) => {
      const p = press;
      press = null;
      if (!p || evt.button !== 0 || this.primaryTool !== AUTO_TOOL) return;
      if (Math.hypot(evt.clientX - p.x, evt.clientY - p.y) > CLICK_SLOP_PX || !p.pane.imageIds.length) return;
      this.onAutoClick(p.pane, canvasPoint(p.pane, evt));
    };
    window.addEventListener('mouseup', onUp, true);
    this.listeners.push([window, 'mouseup', onUp, true]);
    for (const p of Object.values(this.panes)) {
      for (const [name, fn] of [[Enums.Events.CAMERA_MODIFIED, onCamera], [Enums.Events.VOI_MODIFIED, onVoi]]) {
        p.element.addEventListener(name, fn);
        this.listeners.push([p.element, name, fn]);
      }
      p.element.addEventListener('mousedown', onDown, true);
      this.listeners.push([p.element, 'mousedown', onDown, true]);
      p.element.addEventListener('mousedown', onAutoDown, true);
      this.listeners.push([p.element, 'mousedown', onAutoDown, true]);
      p.element.addEventListener('mouseup', onAutoUp, true);
      this.listeners.push([p.element, 'mouseup', onAutoUp, true]);
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

  /** Links (or unlinks) the panes: slice by position, zoom, pan and window. */
  setLinked(on) {
    this.sync = !!on;
  }

  /** Runs copy(src, dst) for every other pane showing images, without echoing the events it causes. */
  copyToOthers(src, copy) {
    this.linking = true;
    try {
      for (const dst of Object.values(this.panes)) {
        if (dst === src || !dst.imageIds.length || !src.imageIds.length) continue;
        copy(src, dst);
        dst.viewport.render();
      }
    } finally {
      this.linking = false;
    }
  }

  /** Loads images (and so their DICOM geometry) before anything is drawn on them from stored coordinates. */
  async ensureLoaded(imageIds) {
    await Promise.all([...new Set(imageIds)].map((id) => (metaData.get('imagePlaneModule', id)?.imagePositionPatient
      ? null : imageLoader.loadAndCacheImage(id).catch(() => null))));
  }

  paneForImageId(imageId) {
    return Object.values(this.panes).find((p) => p.sopByImageId.has(imageId)) || null;
  }

  setPrimaryTool(name) {
    if (!PRIMARY_TOOLS.includes(name)) throw new Error(`unknown tool ${name}`);
    const MB = tools.Enums.MouseBindings;
    const tg = this.toolGroup;
    for (const t of PRIMARY_TOOLS) {
      if (t === name || t === AUTO_TOOL) continue;
      // Annotation tools stay passive so finished calipers remain visible and their handles can be moved.
      if (ANNOTATION_TOOLS.includes(t)) tg.setToolPassive(t);
      else if (t === TOOL.windowLevel) tg.setToolPassive(t);
    }
    // Pan and zoom keep their middle/right bindings when they are not the primary tool.
    tg.setToolActive(TOOL.pan, { bindings: [{ mouseButton: MB.Auxiliary }, ...(name === TOOL.pan ? [{ mouseButton: MB.Primary }] : [])] });
    tg.setToolActive(TOOL.zoom, { bindings: [{ mouseButton: MB.Secondary }, ...(name === TOOL.zoom ? [{ mouseButton: MB.Primary }] : [])] });
    if (name !== TOOL.pan && name !== TOOL.zoom && name !== AUTO_TOOL) tg.setToolActive(name, { bindings: [{ mouseButton: MB.Primary }] });
    this.primaryTool = name;
  }

  setPreset(key) {
    if (!PRESETS[key]) throw new Error(`unknown preset ${key}`);
    this.preset = key;
    for (const pane of Object.values(this.panes)) pane.applyPreset(key);
    this.onView();
  }

  /** Keeps the other pane at the nearest patient position (along the slice normal) to this pane's slice. */
  async onPaneChanged(pane) {
    this.onSlice(pane);
    this.onView();
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
      pane.applyPreset(this.preset);
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

  /** Removes every caliper that is not a drawn copy of a stored one (a caliper being drawn, fragments). */
  removeUnstored() {
    for (const a of tools.annotation.state.getAllAnnotations()) {
      if (!a.annotationUID?.startsWith('stored-')) tools.annotation.state.removeAnnotation(a.annotationUID);
    }
    if (this.engine) this.engine.render();
  }

  clearAnnotations() {
    tools.annotation.state.removeAllAnnotations();
    if (this.engine) this.engine.render();
  }

  destroy() {
    this.destroyed = true;
    endInteractions(Object.values(this.panes || {}).map((p) => p.element));
    for (const [t, name, fn, capture] of this.listeners) t.removeEventListener(name, fn, !!capture);
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
