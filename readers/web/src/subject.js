// The subject screen: baseline and current timepoint side by side (series browser above each viewport), the tool
// bar, the lesion table for the current timepoint and the response panel. Every change goes to the server, which
// answers with the whole read including the engine's output; the screen then redraws from that answer. Nothing
// RECIST-related is computed here: rules (≤5 targets, ≤2 per organ, sizes) come back as 422 messages or read
// warnings, millimetres and responses come from the server.
// One module per concern, mixed into SubjectView: timepoints.js (tabs, series browser, read picker, signing),
// measuring.js (tool bar, Measure, calipers), lesions.js (lesion table, state menu, add form), response.js
// (response panel, warnings); dialogs.js has the modal dialogs and api.js the HTTP client.
import * as api from './api.js';
import { h, clear } from './dom.js';
import { askText } from './dialogs.js';
import { Viewer } from './viewer.js';
import { TOOL, core } from './cornerstone.js';
import { timepointMethods } from './timepoints.js';
import { measuringMethods } from './measuring.js';
import { lesionMethods } from './lesions.js';
import { responseMethods } from './response.js';
import { placeMethods } from './places.js';
import { subjectHasPet } from './dose.js';

// Roles that read and write their own read; the others (QA, admin) look at any read and change none.
const READER_ROLES = ['central', 'adjudicator', 'site'];

export class SubjectView {
  constructor(root, subjectId, timepoint, { user, go, which }) {
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
    // A read named in the address (#/subject/{id}/{tp}?role=&reader=): QA starts there; an adjudicator looks at
    // a central read of a subject waiting for adjudication, read-only (the server decides whether they may).
    if (which && (this.readOnly || user?.role === 'adjudicator')) {
      this.which = which;
      if (user?.role === 'adjudicator') {
        this.readOnly = true;
        this.fixedRead = true;
      }
    }
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
    this.leftTp = tps[0]; // the left pane: baseline unless the reader picks an earlier timepoint or the nadir
    this.leftChoice = tps[0].timepoint;
    this.currentTp = tps.find((t) => t.timepoint === this.requestedTp) || tps[tps.length - 1];
    this.isBaseline = this.currentTp.timepoint === this.baselineTp.timepoint;
    this.savedView = this.loadView();
    this.layout();
    this.viewer = new Viewer(
      { baseline: this.isBaseline ? null : this.els.baselineVp, current: this.els.currentVp },
      { onMeasured: (pane, a) => this.onMeasured(pane, a), onSlice: (pane) => this.onSlice(pane), onView: () => this.saveView(),
        onPresetCleared: () => this.renderToolbar(), onAutoClick: (pane, q) => this.onAutoClick(pane, q) },
    );
    await this.viewer.start();
    if (!this.viewer) return; // left while loading
    this.onKey = (e) => this.handleKey(e);
    window.addEventListener('keydown', this.onKey);
    // Handle for debugging in the console and for the browser tests (world ↔ canvas of the live viewports).
    window.rcy = { view: this, viewer: this.viewer, core };
    this.restoring = true;
    this.renderAll();
    this.offerDose();
    const loads = [this.loadStudy('current', this.currentTp)];
    if (!this.isBaseline) loads.push(this.loadStudy('baseline', this.leftTp));
    await Promise.all(loads);
    if (!this.viewer) return;
    await this.restoreView();
    this.renderToolbar(); // the presets of the modality shown
    this.watchMarkers();
    await this.drawStored();
    if (!this.viewer) return;
    this.root.dataset.ready = '1';
  }

  /** A "Dose" tab when the subject has a PET (the 90Y dosimetry; roles the server refuses see its message). */
  async offerDose() {
    const uids = this.timepoints().map((t) => t.study_uid).filter(Boolean);
    const seriesOf = async (uid) => {
      if (!this.seriesByStudy.has(uid)) this.seriesByStudy.set(uid, await api.studySeries(uid));
      return this.seriesByStudy.get(uid);
    };
    if (this.user?.role === 'site' || !(await subjectHasPet(uids, seriesOf)) || !this.els) return;
    clear(this.els.doseLink, h('a', { href: `#/dose/${encodeURIComponent(this.subjectId)}`, id: 'dose-tab', class: 'dose-tab' }, 'Dose'));
  }

  destroy() {
    if (this.onKey) window.removeEventListener('keydown', this.onKey);
    this.closeStateMenu();
    this.cancelPlacing();
    if (this.viewer) this.viewer.destroy();
    this.viewer = null;
    delete this.root.dataset.ready;
    if (window.rcy && window.rcy.view === this) delete window.rcy;
  }

  // ---- the view kept per user, subject and timepoint (series, slice, preset) across reloads and tabs
  viewKey() {
    return `rcy-view:${this.user?.name || ''}:${this.subjectId}:${this.currentTp.timepoint}`;
  }

  loadView() {
    try {
      return JSON.parse(localStorage.getItem(this.viewKey()) || 'null');
    } catch {
      return null;
    }
  }

  saveView() {
    if (this.restoring || !this.viewer?.panes?.current) return;
    const p = this.viewer.panes.current;
    try {
      localStorage.setItem(this.viewKey(), JSON.stringify({ series: p.series?.series_uid || null, sop: p.currentSop(), preset: this.viewer.preset }));
    } catch { /* storage full or disabled: the view is simply not kept */ }
  }

  async restoreView() {
    const v = this.savedView;
    try {
      if (v?.preset && this.presets()[v.preset]) this.viewer.setPreset(v.preset);
      if (v?.sop && this.viewer.panes.current.series?.series_uid === v.series) await this.viewer.panes.current.jumpToSop(v.sop);
    } finally {
      this.restoring = false;
    }
  }

  /**
   * Keyboard: ↑/↓ or PageUp/PageDown one/ten slices of the current timepoint (↓ towards the feet; the baseline
   * follows when linked), 1–4 the presets of the modality shown, L Length, B Bidirectional, W window/level,
   * A Auto (one click on the lesion, while measuring), R reset, Esc cancels a measurement (and a proposal). Ignored while typing in a form field, or while a dialog or menu is open.
   */
  handleKey(e) {
    const t = e.target;
    if (e.ctrlKey || e.metaKey || e.altKey || document.querySelector('.modal-overlay') || this.stateMenu) return;
    if (t && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.tagName === 'SELECT')) return;
    const presets = Object.keys(this.presets());
    const tools = { l: TOOL.length, b: TOOL.bidirectional, w: TOOL.windowLevel };
    let done = true;
    if (e.key === 'ArrowUp') this.viewer.scrollBy(-1);
    else if (e.key === 'ArrowDown') this.viewer.scrollBy(1);
    else if (e.key === 'PageUp') this.viewer.scrollBy(-10);
    else if (e.key === 'PageDown') this.viewer.scrollBy(10);
    else if (/^[1-9]$/.test(e.key)) {
      const k = presets[Number(e.key) - 1];
      if (k) {
        this.viewer.setPreset(k);
        this.renderToolbar();
      }
    } else if (tools[e.key.toLowerCase()]) {
      this.viewer.setPrimaryTool(tools[e.key.toLowerCase()]);
      this.renderToolbar();
    } else if (e.key.toLowerCase() === 'a' && this.measuring) this.selectAuto();
    else if (e.key.toLowerCase() === 'r') this.viewer.reset();
    else if (e.key === 'Escape' && this.measuring) this.cancelMeasuring();
    else if (e.key === 'Escape' && this.placing) this.cancelPlacing();
    else done = false;
    if (done) {
      e.preventDefault();
      // A button keeps the focus after a click; the keys are the viewer's, so take it off (Space/Enter on a
      // focused button would click it again).
      if (t && t.tagName === 'BUTTON') t.blur();
    }
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
      leftPicker: ['left-picker', 'left-picker', 'span'], navigator: ['navigator', 'navigator'],
      doseLink: ['dose-link', 'dose-link', 'span'],
    };
    this.els = Object.fromEntries(Object.entries(parts).map(([name, [cls, id, tag]]) => [name, h(tag || 'div', { class: cls, id })]));
    this.els.message.setAttribute('role', 'status');
    const e = this.els;
    const pane = (key, title, tp) =>
      h('section', { class: `pane pane-${key}` },
        key === 'baseline'
          ? h('div', { class: 'pane-head' }, h('strong', {}, title), ' ', e.leftPicker, e[`${key}Info`])
          : h('div', { class: 'pane-head' }, h('strong', {}, title), ` ${tp.timepoint} · ${tp.date || ''}`, e[`${key}Info`]),
        e[`${key}Strip`], e[`${key}Vp`]);
    clear(this.root,
      h('div', { class: 'subject-view' },
        h('div', { class: 'subject-head' },
          h('a', { href: '#/worklist' }, '← Worklist'), h('h2', {}, `Subject ${this.subjectId}`), e.tabs, e.doseLink),
        e.toolbar,
        h('div', { class: 'subject-body' },
          h('div', { class: `panes ${this.isBaseline ? 'single' : 'double'}` },
            this.isBaseline ? null : pane('baseline', 'Prior', this.leftTp),
            pane('current', this.isBaseline ? 'Baseline' : 'Current', this.currentTp)),
          // The sign area stays at the bottom of the side panel, visible whatever the panel's scroll.
          h('aside', { class: 'side' },
            h('div', { class: 'side-scroll' }, e.picker, e.message, e.warnings, e.response, e.lesions, e.addForm, e.navigator), e.sign))));
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
    this.renderLeftPicker();
    this.renderNavigator();
  }

  onSlice(pane) {
    const k = pane.currentIndex();
    const info = this.els[`${pane.label}Info`];
    const el = this.els[`${pane.label}Vp`];
    if (k < 0) return;
    el.dataset.index = String(k);
    el.dataset.sop = pane.currentSop() || '';
    info.textContent = `  ${pane.sliceText()}`;
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
      await this.drawStored();
      return true;
    } catch (err) {
      if (err instanceof api.ApiError && err.status === 401) {
        window.dispatchEvent(new CustomEvent('rcy-session-expired'));
        return false;
      }
      this.say(err.message, 'error');
      this.renderLesions();
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
      this.renderLesions();
      return false;
    }
    return this.change(() => api.putObservation(this.subjectId, tp, lesionId, reason ? { ...body, reason } : body), okText);
  }
}

Object.assign(SubjectView.prototype, timepointMethods, measuringMethods, lesionMethods, responseMethods, placeMethods);
