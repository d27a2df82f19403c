// Turns a finished Cornerstone caliper (Length or Bidirectional annotation, world coordinates in mm) into the
// measurement the server stores: the instance UID and the end points in IMAGE coordinates [col, row] (float
// pixels, pixel centres at integers). The server computes millimetres from the instance's own Pixel Spacing;
// the number Cornerstone shows next to the caliper is never sent.
// Also the reverse: a stored measurement drawn back as an annotation when a read is reopened.
import { core, tools, TOOL } from './cornerstone.js';
import { worldToImagePoint } from './geometry.js';

const { utilities: csUtils, metaData } = core;

function planeOf(imageId) {
  const plane = metaData.get('imagePlaneModule', imageId);
  if (!plane || !plane.imagePositionPatient || !plane.rowCosines || !plane.columnCosines) {
    throw new Error('the image has no patient geometry (Image Position/Orientation): cannot store a caliper on it');
  }
  return plane;
}

/**
 * World → [col, row]. When the viewport shows the annotated image, Cornerstone's own image data transform is
 * used (the same one that placed the caliper); otherwise the image's DICOM geometry.
 */
function toImage(viewport, imageId, world) {
  if (viewport && viewport.getCurrentImageId && viewport.getCurrentImageId() === imageId) {
    const data = viewport.getImageData();
    if (data && data.imageData && typeof data.imageData.worldToIndex === 'function' && !core.getShouldUseCPURendering()) {
      const ijk = csUtils.transformWorldToIndexContinuous(data.imageData, world);
      return [ijk[0], ijk[1]];
    }
  }
  return worldToImagePoint(planeOf(imageId), world);
}

const round3 = (v) => Math.round(v * 1000) / 1000;
const pt = (p) => [round3(p[0]), round3(p[1])];

/** A point on a pane's canvas (CSS pixels) → [col, row] of the image it shows, or null when none is shown. */
export function canvasToImagePoint(pane, canvasPoint) {
  const vp = pane.viewport;
  const imageId = vp.getCurrentImageId();
  if (!imageId) return null;
  return pt(toImage(vp, imageId, vp.canvasToWorld(canvasPoint)));
}

/** {sop_instance_uid, p1, p2[, short_p1, short_p2]} for the server, from a finished annotation on a pane. */
export function annotationToMeasurement(pane, annotation) {
  const imageId = annotation.metadata.referencedImageId;
  const sop = pane.sopByImageId.get(imageId);
  if (!sop) throw new Error('the caliper is not on an image of this series');
  const pts = annotation.data.handles.points.map((w) => pt(toImage(pane.viewport, imageId, w)));
  if (annotation.metadata.toolName === TOOL.bidirectional) {
    if (pts.length < 4) throw new Error('the bidirectional caliper is incomplete');
    return { sop_instance_uid: sop, p1: pts[0], p2: pts[1], short_p1: pts[2], short_p2: pts[3] };
  }
  if (pts.length < 2) throw new Error('the caliper is incomplete');
  return { sop_instance_uid: sop, p1: pts[0], p2: pts[1] };
}

/** [col, row] → world (mm) on an image, from its DICOM geometry (pixel centres at integers). */
export function imageToWorld(imageId, p) {
  const plane = planeOf(imageId);
  const o = plane.imagePositionPatient;
  const r = plane.rowCosines;
  const c = plane.columnCosines;
  const cs = plane.columnPixelSpacing || 1;
  const rs = plane.rowPixelSpacing || 1;
  return [0, 1, 2].map((k) => o[k] + r[k] * p[0] * cs + c[k] * p[1] * rs);
}

/**
 * Draws a stored measurement on a pane (read-only view of what the server has), labelled with the lesion id.
 * Returns the annotation UID or null when the image is not in the pane's series.
 */
export function drawStoredMeasurement(pane, m, label) {
  const k = pane.indexBySop.get(m.sop_instance_uid);
  if (k === undefined) return null;
  const imageId = pane.imageIds[k];
  const uid = `stored-${pane.id}-${label}-${m.sop_instance_uid}`;
  const opts = { referencedImageId: imageId, annotationUID: uid, label };
  if (m.short_p1 && m.short_p2) {
    const axis = [
      [imageToWorld(imageId, m.p1), imageToWorld(imageId, m.p2)],
      [imageToWorld(imageId, m.short_p1), imageToWorld(imageId, m.short_p2)],
    ];
    tools.BidirectionalTool.hydrate(pane.id, axis, opts);
  } else {
    tools.LengthTool.hydrate(pane.id, [imageToWorld(imageId, m.p1), imageToWorld(imageId, m.p2)], opts);
  }
  const a = tools.annotation.state.getAnnotation(uid);
  if (a) {
    a.data.label = label;
    // What the server stored is not edited by dragging its handles: a new caliper replaces it ("Measure").
    tools.annotation.locking.setAnnotationLocked(uid, true);
  }
  return uid;
}
