// HTTP client for the reader workstation API (contract: docs/api.md, agreed in reader-api.md).
// One place that knows URLs, the CSRF header and the error shape, so views only see data or an ApiError
// carrying the server's own message (422 RECIST rule violations, 409 "reason required", ...), which the UI
// shows verbatim: the server is the authority on rules and millimetres, never this file.

export class ApiError extends Error {
  constructor(status, message, body) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.body = body;
  }
}

let csrfToken = null;

export function setCsrfToken(token) {
  csrfToken = token || null;
}

const enc = encodeURIComponent;

async function request(method, path, body) {
  const headers = { Accept: 'application/json' };
  const init = { method, headers, credentials: 'same-origin' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  if (method !== 'GET' && csrfToken) headers['X-CSRF-Token'] = csrfToken;
  let res;
  try {
    res = await fetch(path, init);
  } catch (e) {
    throw new ApiError(0, `cannot reach the server (${e.message})`, null);
  }
  if (res.status === 204) return null;
  const text = await res.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!res.ok) {
    const msg = (data && data.error) || `${method} ${path}: HTTP ${res.status}`;
    throw new ApiError(res.status, msg, data);
  }
  return data;
}

export async function login(name, password) {
  const r = await request('POST', '/api/login', { name, password });
  setCsrfToken(r.csrf_token);
  return r.user;
}

export async function logout() {
  try {
    await request('POST', '/api/logout', {});
  } finally {
    setCsrfToken(null);
  }
}

/** The current session's user, or null when not logged in. */
export async function me() {
  try {
    const r = await request('GET', '/api/me');
    setCsrfToken(r.csrf_token);
    return r.user;
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return null;
    throw e;
  }
}

export const worklist = () => request('GET', '/api/worklist');
/** Reader assignments (admin only): all of them; or replace one subject's readers. */
export const getAssignments = () => request('GET', '/api/assignments');
export const putAssignments = (subjectId, readers) => request('PUT', '/api/assignments', { subject_id: subjectId, readers });
/** One page of the audit log (QA/admin), newest first: filters {subject, reader, action, from, to, before, limit}. */
export const audit = (filter) => {
  const q = new URLSearchParams(Object.entries(filter || {}).filter(([, v]) => v !== '' && v !== null && v !== undefined));
  const s = q.toString();
  return request('GET', `/api/audit${s ? '?' + s : ''}`);
};
/** Round-robin assignment of every unassigned subject (admin): readers in turn, per_subject 1 or 2 (R1, R2). */
export const roundRobin = (readers, perSubject) =>
  request('POST', '/api/assignments/round-robin', { readers, per_subject: perSubject });
/** Independent central review: settings, the adjudication queue, a subject's side-by-side, the decision. */
export const reviewSettings = () => request('GET', '/api/review/settings');
export const adjudicationQueue = () => request('GET', '/api/adjudication');
export const getAdjudication = (subjectId) => request('GET', `/api/adjudication/${enc(subjectId)}`);
/** body: {outcome: "r1"|"r2"|"own", reason, password} — an electronic signature. */
export const adjudicate = (subjectId, body) => request('POST', `/api/adjudication/${enc(subjectId)}`, body);
export const studySeries = (studyUid) => request('GET', `/api/studies/${enc(studyUid)}/series`);
/** The caller's own read; QA/admin name the read to look at with {role, reader}. */
export const getRead = (subjectId, which) => {
  const q = which && which.role ? `?role=${enc(which.role)}` + (which.reader ? `&reader=${enc(which.reader)}` : '') : '';
  return request('GET', `/api/reads/${enc(subjectId)}${q}`);
};

/** The reads of a subject with their status per timepoint (QA/admin: all of them; a reader: their own). */
export const readers = (subjectId) => request('GET', `/api/reads/${enc(subjectId)}/readers`);
/** A subject's registry data (QA/admin) and an admin's change to them (with a reason). */
export const getRegistry = (subjectId) => request('GET', `/api/registry/${enc(subjectId)}`);
export const putRegistry = (subjectId, body) => request('PUT', `/api/registry/${enc(subjectId)}`, body);

/** QA/admin: concordance of the archive's signed reads (pair 'site:central' | 'r1:r2') and reader QC. */
export const concordance = (pair) => request('GET', `/api/concordance?pair=${enc(pair)}`);
export const readerQc = () => request('GET', '/api/reader-qc');
/** QA/admin: registry endpoints of one reader ('site' | 'central'), by 'indication' or 'none', and each subject's plot data. */
export const endpoints = (reader, by) => request('GET', `/api/endpoints?reader=${enc(reader)}&by=${enc(by || 'none')}`);
export const endpointSubjects = (reader) => request('GET', `/api/endpoints/subjects?reader=${enc(reader)}`);

/** One click → the proposal of a semi-automatic measurement (contours, calipers, volume); nothing is stored. */
export const segment = (subject, timepoint, sopInstanceUid, point) =>
  request('POST', '/api/segment', { subject, timepoint, sop_instance_uid: sopInstanceUid, point });

/** A baseline target proposed on a follow-up: POST /api/segment's answer plus "propagated_from". */
export const propagate = (subject, timepoint, lesionId) =>
  request('POST', '/api/segment/propagate', { subject, timepoint, lesion_id: lesionId });

/** The subject's 90Y dosimetry as the server computed it (the run's JSON, the grid geometry, the CT's SOP UIDs);
 * the grids themselves are GET /api/dose/{subject}/volume (Float32, Gy) and /ct (Int16, HU). */
/* The TARE cohort analyses (QA, admin): the document of `recistry dose-response --json`. */
export const doseResponse = (query) => request('GET', `/api/dose-response${query ? `?${new URLSearchParams(query)}` : ''}`);
export const getDose = (subjectId) => request('GET', `/api/dose/${enc(subjectId)}`);

/** The contours of a stored segmentation (DICOM SEG) of a measurement. */
export const getSegmentation = (uid) => request('GET', `/api/segmentations/${enc(uid)}`);

export const addLesion = (subjectId, lesion) =>
  request('POST', `/api/reads/${enc(subjectId)}/lesions`, lesion);

/** body: {measurement}|{state}|{fragments}|{merged_into}, plus reason when the timepoint is signed. */
export const putObservation = (subjectId, timepoint, lesionId, body) =>
  request('PUT', `/api/reads/${enc(subjectId)}/timepoints/${enc(timepoint)}/lesions/${enc(lesionId)}`, body);

export const deleteLesion = (subjectId, lesionId, reason) =>
  request(
    'DELETE',
    `/api/reads/${enc(subjectId)}/lesions/${enc(lesionId)}` + (reason ? `?reason=${enc(reason)}` : ''),
  );

/** An electronic signature: the user's password (and a reason where one is needed). */
export const signTimepoint = (subjectId, timepoint, password, reason) =>
  request('POST', `/api/reads/${enc(subjectId)}/timepoints/${enc(timepoint)}/sign`, reason ? { password, reason } : { password });

export const unsignTimepoint = (subjectId, timepoint, reason, password) =>
  request('POST', `/api/reads/${enc(subjectId)}/timepoints/${enc(timepoint)}/unsign`, { reason, password });

export function wadoImageId(url) {
  return 'wadouri:' + new URL(url, window.location.href).href;
}
