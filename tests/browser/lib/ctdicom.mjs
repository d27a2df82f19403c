// Writes small synthetic CT instances (DICOM Part 10, explicit VR little endian, 16-bit signed) for the viewer
// smoke test: a body ellipse with one spherical lesion at a known centre and radius, so a caliper drawn in the
// browser can be checked against exact geometry. The project's phantom (recistry sample) is used by the
// end-to-end test; this writer exists so the UI can be tested without the archive.
import fs from 'node:fs';
import path from 'node:path';

const LONG_VRS = new Set(['OB', 'OW', 'OF', 'SQ', 'UT', 'UN']);

function element(group, elem, vr, value) {
  let data;
  if (Buffer.isBuffer(value)) data = value;
  else if (vr === 'US') {
    data = Buffer.alloc(2);
    data.writeUInt16LE(value);
  } else if (vr === 'UL') {
    data = Buffer.alloc(4);
    data.writeUInt32LE(value);
  } else {
    data = Buffer.from(String(value), 'latin1');
    if (data.length % 2) data = Buffer.concat([data, Buffer.from(vr === 'UI' ? '\0' : ' ')]);
  }
  const long = LONG_VRS.has(vr);
  const head = Buffer.alloc(long ? 12 : 8);
  head.writeUInt16LE(group, 0);
  head.writeUInt16LE(elem, 2);
  head.write(vr, 4, 'latin1');
  if (long) head.writeUInt32LE(data.length, 8);
  else head.writeUInt16LE(data.length, 6);
  return Buffer.concat([head, data]);
}

/**
 * opts: {file, studyUid, seriesUid, sopUid, forUid, instanceNumber, z, rows, cols, spacing, thickness,
 *        lesion: {x, y, z, r} (mm, patient coords), seriesNumber, studyDate}
 * The image plane is axial: IOP 1\0\0\0\1\0, IPP = (-cols*spacing/2, -rows*spacing/2, z).
 */
export function writeCtSlice(o) {
  const rows = o.rows;
  const cols = o.cols;
  const sp = o.spacing;
  const x0 = -(cols * sp) / 2;
  const y0 = -(rows * sp) / 2;
  const px = Buffer.alloc(rows * cols * 2);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const x = x0 + c * sp;
      const y = y0 + r * sp;
      let hu = -1000;
      if ((x / (cols * sp * 0.42)) ** 2 + (y / (rows * sp * 0.34)) ** 2 <= 1) hu = 60; // liver-like body
      const L = o.lesion;
      if (L) {
        const d2 = (x - L.x) ** 2 + (y - L.y) ** 2 + (o.z - L.z) ** 2;
        if (d2 <= L.r * L.r) hu = 10; // hypodense metastasis
      }
      px.writeInt16LE(hu + 1024, (r * cols + c) * 2); // stored = HU - intercept (-1024)
    }
  }
  const ds = [
    element(0x0008, 0x0016, 'UI', '1.2.840.10008.5.1.4.1.1.2'),
    element(0x0008, 0x0018, 'UI', o.sopUid),
    element(0x0008, 0x0020, 'DA', o.studyDate || '20260101'),
    element(0x0008, 0x0060, 'CS', 'CT'),
    element(0x0010, 0x0010, 'PN', 'ANON'),
    element(0x0010, 0x0020, 'LO', 'SUBJ'),
    element(0x0018, 0x0050, 'DS', String(o.thickness || 1)),
    element(0x0020, 0x000d, 'UI', o.studyUid),
    element(0x0020, 0x000e, 'UI', o.seriesUid),
    element(0x0020, 0x0011, 'IS', String(o.seriesNumber || 1)),
    element(0x0020, 0x0013, 'IS', String(o.instanceNumber)),
    element(0x0020, 0x0032, 'DS', `${x0}\\${y0}\\${o.z}`),
    element(0x0020, 0x0037, 'DS', '1\\0\\0\\0\\1\\0'),
    element(0x0020, 0x0052, 'UI', o.forUid),
    element(0x0028, 0x0002, 'US', 1),
    element(0x0028, 0x0004, 'CS', 'MONOCHROME2'),
    element(0x0028, 0x0010, 'US', rows),
    element(0x0028, 0x0011, 'US', cols),
    element(0x0028, 0x0030, 'DS', `${sp}\\${sp}`),
    element(0x0028, 0x0100, 'US', 16),
    element(0x0028, 0x0101, 'US', 16),
    element(0x0028, 0x0102, 'US', 15),
    element(0x0028, 0x0103, 'US', 0),
    element(0x0028, 0x1050, 'DS', '40'),
    element(0x0028, 0x1051, 'DS', '400'),
    element(0x0028, 0x1052, 'DS', '-1024'),
    element(0x0028, 0x1053, 'DS', '1'),
    element(0x7fe0, 0x0010, 'OW', px),
  ];
  const metaBody = Buffer.concat([
    element(0x0002, 0x0001, 'OB', Buffer.from([0, 1])),
    element(0x0002, 0x0002, 'UI', '1.2.840.10008.5.1.4.1.1.2'),
    element(0x0002, 0x0003, 'UI', o.sopUid),
    element(0x0002, 0x0010, 'UI', '1.2.840.10008.1.2.1'),
    element(0x0002, 0x0012, 'UI', '1.2.826.0.1.3680043.9.7777.1'),
  ]);
  const file = Buffer.concat([
    Buffer.alloc(128),
    Buffer.from('DICM', 'latin1'),
    element(0x0002, 0x0000, 'UL', metaBody.length),
    metaBody,
    ...ds,
  ]);
  fs.mkdirSync(path.dirname(o.file), { recursive: true });
  fs.writeFileSync(o.file, file);
}
