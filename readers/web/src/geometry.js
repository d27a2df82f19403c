// Pure geometry helpers of the viewer (no Cornerstone, no DOM), so they can be reasoned about and tested alone.

/** Index of the position nearest to z in a list of slice positions (mm); -1 for an empty list or no z. */
export function nearestIndexByPosition(positions, z) {
  if (!positions || !positions.length || typeof z !== 'number' || !Number.isFinite(z)) return -1;
  let best = -1;
  let bestD = Infinity;
  for (let k = 0; k < positions.length; k++) {
    const d = Math.abs(positions[k] - z);
    if (d < bestD) {
      bestD = d;
      best = k;
    }
  }
  return best;
}

/**
 * World point (mm, patient coordinates) → continuous image coordinates [col, row] of one image, from its
 * DICOM geometry: imagePositionPatient (centre of the first pixel), row/column direction cosines and pixel
 * spacing. Pixel centres are at integer coordinates, the DICOM convention the server uses to compute mm.
 * rowCosines is the direction in which the column index grows (Cornerstone's naming, DICOM's first triplet
 * of Image Orientation (Patient)); columnPixelSpacing is the spacing between columns.
 */
export function worldToImagePoint(plane, world) {
  const o = plane.imagePositionPatient;
  const d = [world[0] - o[0], world[1] - o[1], world[2] - o[2]];
  const dot = (a, b) => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
  const colSpacing = plane.columnPixelSpacing || 1;
  const rowSpacing = plane.rowPixelSpacing || 1;
  return [dot(d, plane.rowCosines) / colSpacing, dot(d, plane.columnCosines) / rowSpacing];
}

/** Euclidean distance in mm between two image points, given [row spacing, column spacing] (Pixel Spacing). */
export function imageDistanceMm(p1, p2, pixelSpacing) {
  const [rowSp, colSp] = pixelSpacing;
  return Math.hypot((p2[0] - p1[0]) * colSp, (p2[1] - p1[1]) * rowSp);
}
