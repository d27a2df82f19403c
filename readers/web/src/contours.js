// Contours of a semi-automatic proposal drawn over a pane: an SVG layer above the Cornerstone canvas, redrawn
// on every render of the viewport (slice change, zoom, pan, resize), so it follows the image. Each contour is
// in IMAGE coordinates ([col, row], pixel centres at integers) on one instance; only the contours of the
// instance shown are drawn, through the instance's DICOM geometry and the viewport's own world → canvas.
// Not interactive (pointer-events: none): the reader edits the proposal's calipers, not its outline.
import { imageToWorld } from './measure.js';

const SVG = 'http://www.w3.org/2000/svg';

export class ContourLayer {
  constructor(pane) {
    this.pane = pane;
    this.contours = new Map(); // imageId -> [[[col,row], ...], ...]
    this.svg = document.createElementNS(SVG, 'svg');
    this.svg.setAttribute('class', 'contour-layer');
    this.svg.setAttribute('aria-hidden', 'true');
    Object.assign(this.svg.style, { position: 'absolute', left: '0', top: '0', pointerEvents: 'none', overflow: 'hidden', zIndex: '5' });
    pane.element.appendChild(this.svg);
  }

  /**
   * contours: [{sop_instance_uid, points: [[col, row], ...]}]; label names the lesion; kind 'proposal' (a
   * proposal being decided) or 'stored' (the outline of a stored measurement's segmentation).
   */
  set(contours, label, kind = 'proposal') {
    this.contours.clear();
    this.label = label;
    this.kind = kind;
    this.svg.dataset.kind = kind;
    for (const c of contours || []) {
      const k = this.pane.indexBySop.get(c.sop_instance_uid);
      if (k === undefined || !c.points?.length) continue;
      const id = this.pane.imageIds[k];
      if (!this.contours.has(id)) this.contours.set(id, []);
      this.contours.get(id).push(c.points);
    }
    this.draw();
  }

  clear() {
    this.contours.clear();
    this.label = null;
    this.kind = null;
    delete this.svg.dataset.kind;
    this.draw();
  }

  /** Number of contour polygons drawn on the slice shown (the browser tests read it). */
  get shown() {
    return this.svg.querySelectorAll('polygon').length;
  }

  draw() {
    while (this.svg.firstChild) this.svg.removeChild(this.svg.firstChild);
    const vp = this.pane.viewport;
    const id = vp?.getCurrentImageId?.();
    const list = id ? this.contours.get(id) : null;
    this.svg.dataset.count = String(list?.length || 0);
    if (!list) return;
    // The canvas's box inside the pane element: the layer covers exactly it (canvas coordinates are CSS px).
    const canvas = vp.canvas;
    const er = this.pane.element.getBoundingClientRect();
    const cr = canvas.getBoundingClientRect();
    Object.assign(this.svg.style, { left: `${cr.left - er.left}px`, top: `${cr.top - er.top}px`, width: `${cr.width}px`, height: `${cr.height}px` });
    this.svg.setAttribute('viewBox', `0 0 ${cr.width} ${cr.height}`);
    for (const points of list) {
      let pts;
      try {
        pts = points.map((p) => vp.worldToCanvas(imageToWorld(id, p)));
      } catch {
        return; // the image's geometry is not loaded yet: drawn on its next render
      }
      const poly = document.createElementNS(SVG, 'polygon');
      poly.setAttribute('points', pts.map((q) => `${q[0].toFixed(1)},${q[1].toFixed(1)}`).join(' '));
      poly.setAttribute('class', this.kind === 'stored' ? 'contour stored' : 'contour');
      if (this.label) poly.dataset.lesion = this.label;
      this.svg.appendChild(poly);
    }
  }

  destroy() {
    this.svg.remove();
  }
}
