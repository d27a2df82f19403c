// The viewer's pure geometry (readers/web/src/geometry.js), run in node without a browser: the slice a linked
// viewport jumps to, and the world → image conversion used for calipers when the annotated image is not the one
// on screen, checked on oblique planes with non-square pixels (the phantom is axial with square pixels, so the
// end-to-end test cannot tell rows from columns or spacings apart).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { paths } from './lib/browser.mjs';

const geo = await import(pathToFileURL(path.join(paths.web, 'src/geometry.js')).href);

test('nearest slice by position: spacing differs, out of range, ties, empty', () => {
  const bl = [0, 5, 10, 15, 20];
  assert.equal(geo.nearestIndexByPosition(bl, 11.9), 2);
  assert.equal(geo.nearestIndexByPosition(bl, 13.1), 3);
  assert.equal(geo.nearestIndexByPosition(bl, -40), 0);
  assert.equal(geo.nearestIndexByPosition(bl, 400), 4);
  assert.equal(geo.nearestIndexByPosition(bl, 7.5), 1, 'a tie keeps the first (lower) slice');
  assert.equal(geo.nearestIndexByPosition([], 3), -1);
  assert.equal(geo.nearestIndexByPosition(bl, NaN), -1);
  assert.equal(geo.nearestIndexByPosition(bl, undefined), -1);
});

/** A DICOM image plane as Cornerstone's imagePlaneModule names it. */
function plane(angleDeg, tiltDeg, rowSp, colSp) {
  const a = (angleDeg * Math.PI) / 180;
  const t = (tiltDeg * Math.PI) / 180;
  // First IOP triplet (direction of increasing column) and second (increasing row), orthonormal.
  const rowCosines = [Math.cos(a), Math.sin(a), 0];
  const columnCosines = [-Math.sin(a) * Math.cos(t), Math.cos(a) * Math.cos(t), Math.sin(t)];
  return { imagePositionPatient: [-120.5, 33.25, 81], rowCosines, columnCosines, rowPixelSpacing: rowSp, columnPixelSpacing: colSp };
}

function toWorld(p, [col, row]) {
  return [0, 1, 2].map((k) => p.imagePositionPatient[k] + p.rowCosines[k] * col * p.columnPixelSpacing + p.columnCosines[k] * row * p.rowPixelSpacing);
}

test('world → image [col, row] on oblique planes with non-square pixels; pixel centres at integers', () => {
  for (const [angle, tilt, rowSp, colSp] of [[0, 0, 0.7, 0.7], [30, 0, 0.5, 0.8], [-65, 20, 1.2, 0.6], [90, -35, 0.9, 0.45]]) {
    const p = plane(angle, tilt, rowSp, colSp);
    assert.deepEqual(geo.worldToImagePoint(p, p.imagePositionPatient).map((v) => Math.abs(+v.toFixed(9))), [0, 0],
      'Image Position (Patient) is the centre of pixel (0,0)');
    for (const pt of [[10, 20], [255.5, 3.25], [0.5, 511], [300.125, 299.875]]) {
      const back = geo.worldToImagePoint(p, toWorld(p, pt));
      assert.ok(Math.abs(back[0] - pt[0]) < 1e-9 && Math.abs(back[1] - pt[1]) < 1e-9, `${angle}°/${tilt}°: ${pt} → ${back}`);
    }
    // Distance in mm from image points uses column spacing across columns and row spacing across rows.
    const d = geo.imageDistanceMm([10, 20], [13, 24], [rowSp, colSp]);
    assert.ok(Math.abs(d - Math.hypot(3 * colSp, 4 * rowSp)) < 1e-12);
    const w1 = toWorld(p, [10, 20]);
    const w2 = toWorld(p, [13, 24]);
    assert.ok(Math.abs(d - Math.hypot(w2[0] - w1[0], w2[1] - w1[1], w2[2] - w1[2])) < 1e-9, 'agrees with the distance in space');
  }
});
