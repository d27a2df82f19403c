// The subject view: baseline and current timepoint side by side (series browser with server thumbnails above
// each viewport), the tool bar, the lesion table for the current timepoint and the response panel.
// Every change goes to the server, which answers with the whole read including the engine's output; the view
// then redraws from that answer. Nothing RECIST-related is computed here: rules (≤5 targets, ≤2 per organ,
// sizes) come back as 422 messages or read warnings, millimetres and responses come from the server.
import * as api from './api.js';
import { h, clear, askText, fmt } from './dom.js';
import { Viewer, PRESETS } from './viewer.js';
import { TOOL } from './cornerstone.js';
import { annotationToMeasurement, drawStoredMeasurement } from './measure.js';

const ORGANS = ['liver', 'lung', 'lymph node', 'peritoneum', 'adrenal', 'bone', 'kidney', 'pancreas', 'spleen', 'pleura', 'other'];
const TARGET_STATES = [['too_small', 'too small to measure'], ['disappeared', 'disappeared'], ['not_evaluable', 'not evaluable']];
const NON_TARGET_STATES = [['present', 'present'], ['absent', 'absent'], ['unequivocal_progression', 'unequivocal progression'], ['not_evaluable', 'not evaluable']];
const NEW_STATES = [['equivocal', 'equivocal'], ['unequivocal', 'unequivocal']];
const KIND_LABEL = { target: 'target', non_target: 'non-target', new: 'new' };
// Roles that read and write their own read; the others (QA, admin) look at any read and change none.
const READER_ROLES = ['central', 'adjudicator', 'site'];

export class SubjectView {
  constructor(root, subjectId, timepoint, { user, go }) {
    this.root = root;
    this.subjectId = subjectId;
    this.requestedTp = timepoint;
    this.user = user;
    this.go = go;
    this.read = null;
    // The lesion being measured: {lesionId, fragments: null | [measurement, ...] (split), pending: null |
    // {pane, annotation} (a bidirectional caliper waiting for "Save caliper")}.
    this.measuring = null;
    this.seriesByStudy = new Map();
    this.readOnly = !READER_ROLES.includes(user?.role);
    // Which read a read-only user looks at: the site read first (it needs no reader name).
    this.which = this.readOnly ? { role: 'site', reader: '' } : null;
  }

  async start() {
    delete this.root.dataset.ready;
    clear(this.root, h('p', { class: 'loading' }, 'Loading subject…'));
    const [read, wl] = await Promise.all([api.getRead(this.subjectId, this.which), api.worklist()]);
    this.read = read;
    this.worklistEntry = (wl.subjects || []).find((s) => s.subject_id === this.subjectId) || null;
    const tps = this.timepoints();
    if (!tps.length) throw new Error(`subject ${this.subjectId} has no timepoint to read`);
    this.baselineTp = tps[0];
    this.currentTp = tps.find((t) => t.timepoint === this.requestedTp) || tps[tps.length - 1];
    this.isBaseline = this.currentTp.timepoint === this.baselineTp.timepoint;
    this.layout();
    this.viewer = new Viewer(
      { baseline: this.isBaseline ? null : this.els.baselineVp, current: this.els.currentVp },
      { onMeasured: (pane, a) => this.onMeasured(pane, a), onSlice: (pane) => this.onSlice(pane) },
    );
    await this.viewer.start();
    if (!this.viewer) return; // left while loading
    this.onKey = (e) => this.handleKey(e);
    window.addEventListener('keydown', this.onKey);
    // Handle for debugging in the console and for the browser tests (world ↔ canvas of the live viewports).
    window.rcy = { view: this, viewer: this.viewer };
    this.renderAll();
    const loads = [this.loadStudy('current', this.currentTp)];
    if (!this.isBaseline) loads.push(this.loadStudy('baseline', this.baselineTp));
    await Promise.all(loads);
    if (!this.viewer) return;
    this.drawStored();
    this.root.dataset.ready = '1';
  }

  destroy() {
    if (this.onKey) window.removeEventListener('keydown', this.onKey);
    if (this.viewer) this.viewer.destroy();
    this.viewer = null;
    delete this.root.dataset.ready;
    if (window.rcy && window.rcy.view === this) delete window.rcy;
  }

  /**
   * Keyboard: ↑/↓ or PageUp/PageDown one/ten slices of the current timepoint (the baseline follows when linked),
   * 1–4 the presets (abdomen, liver, lung, bone), L Length, B Bidirectional, W window/level, R reset, Esc cancels a
   * measurement. Ignored while typing in a form field or a dialog is open.
   */
  handleKey(e) {
    const t = e.target;
    if (e.ctrlKey || e.metaKey || e.altKey || document.querySelector('.modal-overlay')) return;
    if (t && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.tagName === 'SELECT')) return;
    const presets = Object.keys(PRESETS);
    const tools = { l: TOOL.length, b: TOOL.bidirectional, w: TOOL.windowLevel };
    let done = true;
    if (e.key === 'ArrowUp') this.viewer.scrollBy(-1);
    else if (e.key === 'ArrowDown') this.viewer.scrollBy(1);
    else if (e.key === 'PageUp') this.viewer.scrollBy(-10);
    else if (e.key === 'PageDown') this.viewer.scrollBy(10);
    else if (/^[1-4]$/.test(e.key)) this.viewer.setPreset(presets[Number(e.key) - 1]);
    else if (tools[e.key.toLowerCase()]) {
      this.viewer.setPrimaryTool(tools[e.key.toLowerCase()]);
      this.renderToolbar();
    } else if (e.key.toLowerCase() === 'r') this.viewer.reset();
    else if (e.key === 'Escape' && this.measuring) this.cancelMeasuring();
    else done = false;
    if (done) e.preventDefault();
  }

  /** Timepoints of this subject: the read's list merged with the worklist's (which has QC and status). */
  timepoints() {
    const byTp = new Map();
    for (const t of this.worklistEntry?.timepoints || []) byTp.set(t.timepoint, { ...t });
    for (const t of this.read.timepoints || []) byTp.set(t.timepoint, { ...(byTp.get(t.timepoint) || {}), ...t });
    return [...byTp.values()].sort((a, b) => String(a.date).localeCompare(String(b.date)));
  }

  tpInfo(tp) {
    return (this.read.timepoints || []).find((t) => t.timepoint === tp) || {};
  }

  layout() {
    // name: [class, id, tag]
    const parts = {
      baselineVp: ['viewport', 'vp-baseline'], currentVp: ['viewport', 'vp-current'],
      baselineStrip: ['series-strip', 'series-baseline'], currentStrip: ['series-strip', 'series-current'],
      baselineInfo: ['pane-info', 'info-baseline'], currentInfo: ['pane-info', 'info-current'],
      toolbar: ['toolbar', 'toolbar'], tabs: ['tp-tabs', 'tp-tabs', 'nav'], message: ['message', 'message'],
      warnings: ['warnings', 'warnings'], lesions: ['lesions', 'lesions'], addForm: ['add-lesion', 'add-lesion'],
      response: ['response', 'response'], sign: ['sign', 'sign'], picker: ['read-picker', 'read-picker'],
    };
    this.els = Object.fromEntries(Object.entries(parts).map(([name, [cls, id, tag]]) => [name, h(tag || 'div', { class: cls, id })]));
    this.els.message.setAttribute('role', 'status');
    const e = this.els;
    const pane = (key, title, tp) =>
      h('section', { class: `pane pane-${key}` },
        h('div', { class: 'pane-head' }, h('strong', {}, title), ` ${tp.timepoint} · ${tp.date || ''}`, e[`${key}Info`]),
        e[`${key}Strip`], e[`${key}Vp`]);
    clear(this.root,
      h('div', { class: 'subject-view' },
        h('div', { class: 'subject-head' },
          h('a', { href: '#/worklist' }, '← Worklist'), h('h2', {}, `Subject ${this.subjectId}`), e.tabs),
        e.toolbar,
        h('div', { class: 'subject-body' },
          h('div', { class: `panes ${this.isBaseline ? 'single' : 'double'}` },
            this.isBaseline ? null : pane('baseline', 'Baseline', this.baselineTp),
            pane('current', this.isBaseline ? 'Baseline' : 'Current', this.currentTp)),
          h('aside', { class: 'side' }, e.picker, e.message, e.warnings, e.response, e.lesions, e.addForm, e.sign))));
  }

  renderAll() {
    this.renderPicker();
    this.renderTabs();
    this.renderToolbar();
    this.renderWarnings();
    this.renderResponse();
    this.renderLesions();
    this.renderAddForm();
    this.renderSign();
  }

  /** Read-only users choose whose read they look at; nothing here can change it. */
  renderPicker() {
    if (!this.readOnly) return;
    const role = h('select', { id: 'pick-role' }, ['site', 'central', 'adjudicator'].map((r) =>
      h('option', { value: r, selected: this.which.role === r }, r)));
    const reader = h('input', { id: 'pick-reader', placeholder: 'reader name', value: this.which.reader || '' });
    const form = h('form', { class: 'picker-form' },
      h('span', { class: 'muted' }, `Read-only (${this.user.role}). Read of:`), role, reader,
      h('button', { type: 'submit', id: 'pick-show' }, 'Show'));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      this.which = { role: role.value, reader: role.value === 'site' ? '' : reader.value.trim() };
      await this.change(() => api.getRead(this.subjectId, this.which), `Showing the ${this.which.role} read${this.which.reader ? ' of ' + this.which.reader : ''}.`);
    });
    clear(this.els.picker, form);
  }

  renderTabs() {
    clear(this.els.tabs, this.timepoints().map((t) =>
      h('a', {
        href: `#/subject/${encodeURIComponent(this.subjectId)}/${encodeURIComponent(t.timepoint)}`,
        class: t.timepoint === this.currentTp.timepoint ? 'active' : '',
      }, t.timepoint, this.tpInfo(t.timepoint).signed ? ' ✓' : '')));
  }

  renderToolbar() {
    const tool = (name, label, key) =>
      h('button', {
        type: 'button', class: this.viewer.primaryTool === name ? 'tool active' : 'tool', title: `${label} (${key})`,
        dataset: { tool: name }, onclick: () => { this.viewer.setPrimaryTool(name); this.renderToolbar(); },
      }, label);
    clear(this.els.toolbar,
      h('div', { class: 'group' }, tool(TOOL.windowLevel, 'W/L', 'drag'), tool(TOOL.pan, 'Pan', 'middle'),
        tool(TOOL.zoom, 'Zoom', 'right'), tool(TOOL.length, 'Length', 'longest diameter'),
        tool(TOOL.bidirectional, 'Bidirectional', 'node short axis')),
      h('div', { class: 'group' }, Object.entries(PRESETS).map(([k, p]) =>
        h('button', { type: 'button', class: 'preset', dataset: { preset: k }, title: `W${p.ww} / L${p.wc}`,
          onclick: () => this.viewer.setPreset(k) }, p.label))),
      h('button', { type: 'button', id: 'reset-view', title: 'Whole image, no zoom or pan', onclick: () => this.viewer.reset() }, 'Reset'),
      this.isBaseline ? null : h('label', { class: 'sync' },
        h('input', { type: 'checkbox', id: 'sync', checked: this.viewer.sync,
          onchange: (e) => { this.viewer.sync = e.target.checked; } }), ' Link scrolling (by position)'),
      this.measuring ? h('div', { class: 'measuring', id: 'measuring' },
        `Measuring ${this.measuring.lesionId}` + (this.measuring.fragments ? ` (split: ${this.measuring.fragments.length} fragment(s))` : ''),
        this.measuring.pending ? h('button', { type: 'button', class: 'primary', id: 'save-caliper',
          onclick: () => this.storeCaliper(this.measuring.pending.pane, this.measuring.pending.annotation) }, 'Save caliper') : null,
        this.measuring.fragments ? h('button', { type: 'button', id: 'save-fragments', disabled: this.measuring.fragments.length < 2,
          onclick: () => this.saveFragments() }, 'Save fragments') : null,
        h('button', { type: 'button', id: 'cancel-measure', onclick: () => this.cancelMeasuring() }, 'Cancel'))
        : null);
  }

  async loadStudy(key, tp) {
    const strip = this.els[`${key}Strip`];
    if (!tp.study_uid) {
      clear(strip, h('span', { class: 'muted' }, 'No study for this timepoint.'));
      return;
    }
    let data = this.seriesByStudy.get(tp.study_uid);
    if (!data) {
      data = await api.studySeries(tp.study_uid);
      this.seriesByStudy.set(tp.study_uid, data);
    }
    const series = (data.series || []).filter((s) => (s.instances || []).length);
    const pane = this.viewer.panes[key];
    const thumbs = series.map((s) =>
      h('button', {
        type: 'button', class: 'thumb', title: s.description || '', dataset: { series: s.series_uid },
        onclick: async () => { await pane.showSeries(s); this.markStrip(key); this.drawStored(); },
      },
      h('img', { src: s.thumbnail_url || `/api/series/${encodeURIComponent(s.series_uid)}/thumbnail.png`, alt: '', loading: 'lazy', width: 64, height: 64 }),
      h('span', {}, `#${s.series_number ?? '?'} ${s.modality || ''} · ${s.instances.length} im`),
      s.slice_thickness_mm ? h('span', { class: s.slice_thickness_mm > 5 ? 'thick' : 'muted' }, `${s.slice_thickness_mm} mm`) : null));
    clear(strip, thumbs.length ? thumbs : h('span', { class: 'muted' }, 'No images.'));
    if (!series.length) return;
    // The series with the most slices is the diagnostic one in a CT study (scouts and dose reports are short).
    const main = series.reduce((a, b) => (b.instances.length > a.instances.length ? b : a));
    await pane.showSeries(main);
    this.markStrip(key);
  }

  markStrip(key) {
    const uid = this.viewer.panes[key].series?.series_uid;
    for (const b of this.els[`${key}Strip`].querySelectorAll('.thumb')) b.classList.toggle('active', b.dataset.series === uid);
  }

  onSlice(pane) {
    const k = pane.currentIndex();
    const info = this.els[`${pane.label}Info`];
    const el = this.els[`${pane.label}Vp`];
    if (k < 0) return;
    const sop = pane.currentSop();
    el.dataset.index = String(k);
    el.dataset.sop = sop || '';
    const pos = pane.positions[k];
    info.textContent = `  image ${k + 1}/${pane.imageIds.length} · ${Number.isFinite(pos) ? pos.toFixed(1) + ' mm' : ''}`;
  }

  say(text, kind = 'info') {
    clear(this.els.message, text ? h('p', { class: kind }, text) : null);
    this.els.message.dataset.kind = kind;
  }

  /** Runs a server change; on success shows the new read, on failure the server's message. */
  async change(fn, okText) {
    try {
      const read = await fn();
      if (read && read.lesions) this.read = read;
      else this.read = await api.getRead(this.subjectId, this.which);
      this.say(okText || '', 'info');
      this.renderAll();
      this.drawStored();
      return true;
    } catch (err) {
      if (err instanceof api.ApiError && err.status === 401) {
        window.dispatchEvent(new CustomEvent('rcy-session-expired'));
        return false;
      }
      this.say(err.message, 'error');
      this.renderLesions(); // put the state menus back to what is stored
      return false;
    }
  }

  /** The reason the server requires when the current timepoint is already signed; undefined when not needed. */
  async reasonIfSigned(tp) {
    if (!this.tpInfo(tp).signed) return undefined;
    const r = await askText(`Timepoint ${tp} is signed. Why are you changing it?`, 'Reason (kept in the audit log)');
    if (r === null) throw new Error('change cancelled: a signed timepoint needs a reason');
    return r;
  }

  async putObservation(lesionId, body, okText) {
    const tp = this.currentTp.timepoint;
    let reason;
    try {
      reason = await this.reasonIfSigned(tp);
    } catch (err) {
      this.say(err.message, 'error');
      this.renderLesions(); // put the state menu back to what is stored
      return false;
    }
    return this.change(() => api.putObservation(this.subjectId, tp, lesionId, reason ? { ...body, reason } : body), okText);
  }

  async onMeasured(pane, annotation) {
    const m = this.measuring;
    if (this.readOnly) {
      this.say('Read-only: calipers drawn here are not stored.', 'warn');
      return;
    }
    if (!m) {
      this.say('This caliper is not stored: click “Measure” on a lesion row first.', 'warn');
      return;
    }
    if (pane.label !== 'current') {
      this.viewer.removeAnnotation(annotation);
      this.say(`Measure on the ${this.currentTp.timepoint} images (right), not on the baseline.`, 'error');
      return;
    }
    annotation.data.label = m.lesionId;
    if (annotation.metadata.toolName === TOOL.bidirectional && !m.fragments) {
      // A node's short axis usually needs adjusting after the long axis is drawn: stored on "Save caliper".
      if (m.pending) this.viewer.removeAnnotation(m.pending.annotation);
      m.pending = { pane, annotation };
      this.renderToolbar();
      this.say(`Adjust the short axis of ${m.lesionId} if needed, then “Save caliper”.`);
      return;
    }
    await this.storeCaliper(pane, annotation);
  }

  async storeCaliper(pane, annotation) {
    const m = this.measuring;
    let meas;
    try {
      meas = annotationToMeasurement(pane, annotation);
    } catch (err) {
      this.viewer.removeAnnotation(annotation);
      this.say(err.message, 'error');
      return;
    }
    if (m.fragments) {
      m.fragments.push(meas);
      this.renderToolbar();
      return;
    }
    this.measuring = null;
    const ok = await this.putObservation(m.lesionId, { measurement: meas }, `${m.lesionId} measured.`);
    // The stored caliper (redrawn from the server's answer) replaces the one just drawn.
    this.viewer.removeAnnotation(annotation);
    if (!ok) this.renderToolbar();
  }

  async saveFragments() {
    const m = this.measuring;
    if (!m || !m.fragments || m.fragments.length < 2) return;
    this.measuring = null;
    this.viewer.clearAnnotations();
    await this.putObservation(m.lesionId, { fragments: m.fragments }, `${m.lesionId}: ${m.fragments.length} fragments stored.`);
  }

  cancelMeasuring() {
    if (this.measuring?.pending) this.viewer.removeAnnotation(this.measuring.pending.annotation);
    this.measuring = null;
    this.drawStored();
    this.renderToolbar();
    this.renderLesions();
    this.say('');
  }

  startMeasuring(lesion, fragments) {
    if (this.measuring?.pending) this.viewer.removeAnnotation(this.measuring.pending.annotation);
    this.measuring = { lesionId: lesion.lesion_id, fragments: fragments ? [] : null, pending: null };
    // A node's recorded size is its short axis: the bidirectional caliper gives both axes.
    this.viewer.setPrimaryTool(lesion.nodal ? TOOL.bidirectional : TOOL.length);
    this.renderToolbar();
    this.renderLesions();
    this.say(lesion.nodal
      ? `Draw the long axis of ${lesion.lesion_id}, then adjust the short axis; the short axis is recorded.`
      : `Drag across the longest diameter of ${lesion.lesion_id}.`);
  }

  /** Redraws every stored caliper of the shown timepoints (the server's copy, not what was dragged). */
  drawStored() {
    if (!this.viewer) return;
    this.viewer.removeAnnotationsByPrefix('stored-');
    for (const l of this.read.lesions || []) {
      for (const [key, tp] of [['current', this.currentTp], ['baseline', this.baselineTp]]) {
        const pane = this.viewer.panes[key];
        const obs = l.observations?.[tp.timepoint];
        if (!pane || !pane.imageIds.length) continue;
        const calipers = obs?.measurement ? [[obs.measurement, l.lesion_id]]
          : (obs?.fragments || []).map((f, k) => [f, `${l.lesion_id}${String.fromCharCode(97 + k)}`]); // T1a, T1b…
        for (const [meas, label] of calipers) {
          try {
            drawStoredMeasurement(pane, meas, label);
          } catch (err) {
            this.say(`cannot draw ${l.lesion_id}: ${err.message}`, 'warn');
          }
        }
      }
    }
  }

  async jumpToLesion(lesion, key) {
    const tp = key === 'baseline' ? this.baselineTp.timepoint : this.currentTp.timepoint;
    const pane = this.viewer.panes[key];
    const sop = lesion.observations?.[tp]?.measurement?.sop_instance_uid
      || (key === 'baseline' ? lesion.baseline?.sop_instance_uid : null);
    if (!pane || !sop) return;
    if (!(await pane.jumpToSop(sop))) this.say(`The slice of ${lesion.lesion_id} is not in the series shown.`, 'warn');
  }

  renderWarnings() {
    const qc = this.currentTp.qc || [];
    const warns = this.read.warnings || [];
    const items = [
      ...qc.map((q) => h('li', { class: `qc-${q.severity}` }, `QC ${q.code}: ${q.message}`)),
      ...warns.map((w) => h('li', {}, typeof w === 'string' ? w : w.message || JSON.stringify(w))),
      this.read.engine_error ? h('li', { class: 'error' }, `Engine: ${this.read.engine_error}`) : null,
    ].filter(Boolean);
    clear(this.els.warnings, items.length ? h('ul', {}, items) : null);
  }

  renderResponse() {
    const eng = this.read.engine;
    const el = this.els.response;
    if (!eng) {
      clear(el, h('h3', {}, 'Response'), h('p', { class: 'muted' }, 'No response yet (the engine has no complete assessment).'));
      return;
    }
    const tps = eng.timepoints || [];
    const cur = tps.find((t) => t.timepoint === this.currentTp.timepoint);
    const kv = (k, v, id) => h('div', { class: 'kv' }, h('span', {}, k), h('b', { id }, v));
    clear(el,
      h('h3', {}, `Response at ${this.currentTp.timepoint}`),
      cur ? h('div', { class: 'kvs', id: 'response-current' },
        kv('SOD', fmt.mm(cur.sum_mm), 'resp-sod'),
        kv('Nadir', fmt.mm(cur.nadir_mm), 'resp-nadir'),
        kv('Change from baseline', fmt.pct(cur.change_from_baseline_pct), 'resp-chg-bl'),
        kv('Change from nadir', fmt.pct(cur.change_from_nadir_pct), 'resp-chg-nadir'),
        kv('Target', fmt.resp(cur.target_response), 'resp-target'),
        kv('Non-target', fmt.resp(cur.non_target_response), 'resp-nontarget'),
        kv('New lesions', cur.new_lesions ? 'yes' : 'no', 'resp-new'),
        kv('Overall', fmt.resp(cur.overall_response), 'resp-overall'))
        : h('p', { class: 'muted' }, 'This timepoint is not in the engine output yet.'),
      kv('Best overall response so far', fmt.resp(eng.best_overall_response), 'resp-bor'),
      h('table', { class: 'grid small', id: 'response-table' },
        h('thead', {}, h('tr', {}, ['TP', 'SOD', 'Δ BL', 'Δ nadir', 'T', 'NT', 'Overall'].map((t) => h('th', {}, t)))),
        h('tbody', {}, tps.map((t) => h('tr', { class: t.timepoint === this.currentTp.timepoint ? 'active' : '' },
          h('td', {}, t.timepoint), h('td', {}, fmt.mm(t.sum_mm)), h('td', {}, fmt.pct(t.change_from_baseline_pct)),
          h('td', {}, fmt.pct(t.change_from_nadir_pct)), h('td', {}, fmt.resp(t.target_response)),
          h('td', {}, fmt.resp(t.non_target_response)), h('td', {}, fmt.resp(t.overall_response)))))));
  }

  renderLesions() {
    const tp = this.currentTp.timepoint;
    const bl = this.baselineTp.timepoint;
    const lesions = this.read.lesions || [];
    const rows = lesions.map((l) => {
      const obs = l.observations?.[tp] || {};
      const blObs = l.observations?.[bl] || {};
      return h('tr', { dataset: { lesion: l.lesion_id, kind: l.kind }, class: this.measuring?.lesionId === l.lesion_id ? 'measuring' : '' },
        h('td', {}, h('b', {}, l.lesion_id)),
        h('td', {}, KIND_LABEL[l.kind] || l.kind),
        h('td', {}, l.organ, l.nodal ? ' (node)' : ''),
        this.isBaseline ? null : h('td', { class: 'num' }, fmt.mm(blObs.diameter_mm)),
        h('td', { class: 'num value' }, this.valueText(obs)),
        h('td', { class: 'actions' }, this.lesionActions(l, obs)));
    });
    clear(this.els.lesions,
      h('h3', {}, `Lesions at ${tp}`, this.readOnly ? h('span', { class: 'muted', id: 'read-shown' }, ` — ${this.read.role || ''} read${this.read.reader && this.read.role !== 'site' ? ' of ' + this.read.reader : ''}`) : null),
      lesions.length
        ? h('table', { class: 'grid', id: 'lesion-table' },
            h('thead', {}, h('tr', {}, ['ID', 'Kind', 'Organ', this.isBaseline ? null : 'Baseline', tp, ''].filter((t) => t !== null).map((t) => h('th', {}, t)))),
            h('tbody', {}, rows))
        : h('p', { class: 'muted' }, this.isBaseline ? 'No lesion yet: add targets and non-targets below.' : 'No baseline lesions.'));
  }

  valueText(obs) {
    if (obs.diameter_mm !== null && obs.diameter_mm !== undefined) return fmt.mm(obs.diameter_mm);
    if (obs.fragments_mm) return `split ${obs.fragments_mm.map((v) => Number(v).toFixed(1)).join(' + ')} mm`;
    if (obs.merged_into) return `merged into ${obs.merged_into}`;
    if (obs.state) return obs.state.replace(/_/g, ' ');
    return '—';
  }

  lesionActions(l, obs) {
    const isNewHere = l.kind === 'new';
    const out = [];
    const ro = this.readOnly;
    const blSop = l.observations?.[this.baselineTp.timepoint]?.measurement?.sop_instance_uid || l.baseline?.sop_instance_uid;
    if (!this.isBaseline && l.kind !== 'new' && blSop) {
      out.push(h('button', { type: 'button', class: 'small goto-bl', title: 'Show its baseline slice', onclick: () => this.jumpToLesion(l, 'baseline') }, 'BL slice'));
    }
    if (obs.measurement) {
      out.push(h('button', { type: 'button', class: 'small goto', title: 'Show the measured slice', onclick: () => this.jumpToLesion(l, 'current') }, 'Go'));
      if (obs.measurement.key_image_url) {
        out.push(h('a', { class: 'key-image', href: obs.measurement.key_image_url, target: '_blank', rel: 'noopener',
          title: 'Key image rendered by the server with the stored caliper' }, 'key image'));
      }
    }
    if (ro) return out;
    if (l.kind === 'target' || (l.kind === 'non_target' && this.isBaseline)) {
      out.push(h('button', { type: 'button', class: 'small measure', onclick: () => this.startMeasuring(l, false) }, 'Measure'));
    }
    let states = [];
    if (l.kind === 'target' && !this.isBaseline) states = TARGET_STATES;
    else if (l.kind === 'non_target') states = NON_TARGET_STATES;
    else if (isNewHere) states = NEW_STATES;
    const extra = [];
    if (l.kind === 'target' && !this.isBaseline) {
      extra.push(['__split', 'split (measure fragments)…']);
      const others = (this.read.lesions || []).filter((o) => o.kind === 'target' && o.lesion_id !== l.lesion_id);
      for (const o of others) extra.push([`__merge:${o.lesion_id}`, `merged into ${o.lesion_id}`]);
    }
    if (states.length || extra.length) {
      const sel = h('select', { class: 'state', 'aria-label': `state of ${l.lesion_id}` },
        h('option', { value: '' }, 'set state…'),
        [...states, ...extra].map(([v, label]) => h('option', { value: v, selected: obs.state === v }, label)));
      sel.addEventListener('change', () => {
        const v = sel.value;
        if (!v) return;
        if (v === '__split') this.startMeasuring(l, true);
        else if (v.startsWith('__merge:')) this.putObservation(l.lesion_id, { merged_into: v.slice(8) }, `${l.lesion_id} merged.`);
        else this.putObservation(l.lesion_id, { state: v }, `${l.lesion_id}: ${v.replace(/_/g, ' ')}.`);
      });
      out.push(sel);
    }
    out.push(h('button', { type: 'button', class: 'small danger', title: 'Delete this lesion', onclick: () => this.deleteLesion(l) }, '✕'));
    return out;
  }

  async deleteLesion(l) {
    const signed = (this.read.timepoints || []).some((t) => t.signed);
    let reason = null;
    if (signed) {
      reason = await askText(`Delete ${l.lesion_id}: a timepoint is signed. Why?`, 'Reason (kept in the audit log)');
      if (reason === null) return;
    }
    await this.change(() => api.deleteLesion(this.subjectId, l.lesion_id, reason), `${l.lesion_id} deleted.`);
  }

  renderAddForm() {
    if (this.readOnly) return;
    const kinds = this.isBaseline ? [['target', 'Target'], ['non_target', 'Non-target']] : [['new', 'New lesion']];
    const kind = h('select', { id: 'new-kind' }, kinds.map(([v, t]) => h('option', { value: v }, t)));
    const organ = h('select', { id: 'new-organ' }, ORGANS.map((o) => h('option', { value: o }, o)));
    const nodal = h('input', { type: 'checkbox', id: 'new-nodal' });
    // A new lesion is progression only when unequivocal: the reader says which when adding it.
    const newState = this.isBaseline ? null : h('select', { id: 'new-state', required: true },
      h('option', { value: '' }, 'equivocal or unequivocal?'), NEW_STATES.map(([v, t]) => h('option', { value: v }, t)));
    organ.addEventListener('change', () => { nodal.checked = organ.value === 'lymph node'; });
    const form = h('form', { class: 'add-form' },
      h('h3', {}, this.isBaseline ? 'Add a baseline lesion' : 'Add a new lesion'),
      kind, organ, h('label', {}, nodal, ' nodal'), newState,
      h('button', { class: 'primary', type: 'submit', id: 'add-lesion-btn' }, 'Add'));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const body = { kind: kind.value, organ: organ.value, nodal: nodal.checked, timepoint: this.currentTp.timepoint };
      // Non-targets start present; a new lesion carries the reader's call from the start (one change, one audit row).
      if (body.kind === 'non_target') body.state = 'present';
      if (body.kind === 'new') {
        if (!newState.value) {
          this.say('Say whether the new lesion is equivocal or unequivocal.', 'error');
          return;
        }
        body.state = newState.value;
      }
      let created = null;
      const ok = await this.change(async () => {
        created = await api.addLesion(this.subjectId, body);
        return api.getRead(this.subjectId);
      }, 'Lesion added.');
      if (!ok || !created) return;
      this.say(`${created.lesion_id} added${body.state ? ` (${body.state})` : ''}.`);
      const l = (this.read.lesions || []).find((x) => x.lesion_id === created.lesion_id);
      if (l && l.kind === 'target') this.startMeasuring(l, false);
    });
    clear(this.els.addForm, form);
  }

  renderSign() {
    const tp = this.currentTp.timepoint;
    const info = this.tpInfo(tp);
    if (this.readOnly) {
      clear(this.els.sign, info.signed ? h('p', { class: 'signed', id: 'signed-note' }, `${tp} signed by ${info.signed_by || '?'} at ${info.signed_at || '?'}`) : null);
      return;
    }
    if (info.signed) {
      clear(this.els.sign,
        h('p', { class: 'signed', id: 'signed-note' }, `${tp} signed by ${info.signed_by || '?'} at ${info.signed_at || '?'}`),
        h('button', { type: 'button', id: 'unsign', onclick: async () => {
          const reason = await askText(`Reopen ${tp}: why?`, 'Reason (kept in the audit log)');
          if (reason !== null) await this.change(() => api.unsignTimepoint(this.subjectId, tp, reason), `${tp} reopened.`);
        } }, 'Reopen'));
    } else {
      clear(this.els.sign,
        h('button', { type: 'button', class: 'primary', id: 'sign-btn', onclick: () =>
          this.change(() => api.signTimepoint(this.subjectId, tp), `${tp} signed.`) }, `Sign ${tp}`));
    }
  }
}
