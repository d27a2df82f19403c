// Timepoint navigation of the subject screen: the timepoint tabs, the series browser above each viewport, the
// read picker of read-only users, and signing / reopening the timepoint.
import * as api from './api.js';
import { h, clear } from './dom.js';
import { askText, askPassword } from './dialogs.js';

export const timepointMethods = {
  /**
   * Read-only users choose whose read they look at, among the reads the subject has (the server lists them,
   * with their status per timepoint); nothing here can change a read.
   */
  async renderPicker() {
    if (!this.readOnly) return;
    if (this.fixedRead) {
      clear(this.els.picker, h('p', { class: 'muted', id: 'pick-fixed' },
        `Read-only: the ${this.read?.role || this.which.role} read of ${this.read?.reader || this.which.reader}. `,
        h('a', { href: `#/adjudicate/${encodeURIComponent(this.subjectId)}` }, 'Back to the side-by-side')));
      return;
    }
    let reads = [];
    try {
      reads = (await api.readers(this.subjectId)).reads || [];
    } catch (err) {
      this.say(err.message, 'error');
    }
    const key = (r) => `${r.role}:${r.reader}`;
    const label = (r) => `${r.role}${r.role === 'site' ? '' : ` (${r.reader})`} — ${Object.entries(r.timepoints || {})
      .map(([tp, st]) => `${tp} ${st.replace(/_/g, ' ')}`).join(', ')}`;
    if (!reads.length) {
      clear(this.els.picker, h('p', { class: 'muted', id: 'pick-none' }, `Read-only (${this.user.role}). No read of ${this.subjectId} yet.`));
      return;
    }
    const current = this.which && reads.find((r) => r.role === this.which.role && (r.role === 'site' || r.reader === this.which.reader));
    const pick = h('select', { id: 'pick-read' }, reads.map((r) =>
      h('option', { value: key(r), selected: current === r }, label(r))));
    pick.addEventListener('change', () => pick.blur());
    const form = h('form', { class: 'picker-form' },
      h('span', { class: 'muted' }, `Read-only (${this.user.role}). Read of:`), pick,
      h('button', { type: 'submit', id: 'pick-show' }, 'Show'));
    const show = async (r) => {
      this.which = { role: r.role, reader: r.role === 'site' ? '' : r.reader };
      await this.change(() => api.getRead(this.subjectId, this.which), `Showing the ${r.role} read${r.role === 'site' ? '' : ' of ' + r.reader}.`);
    };
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const r = reads.find((x) => key(x) === pick.value);
      if (r) await show(r);
    });
    clear(this.els.picker, form);
    // Opening a subject shows a read that exists (the first listed) rather than an empty site read.
    if (!current && !this.pickedOnce) {
      this.pickedOnce = true;
      await show(reads[0]);
    }
  },

  renderTabs() {
    clear(this.els.tabs, this.timepoints().map((t) =>
      h('a', {
        href: `#/subject/${encodeURIComponent(this.subjectId)}/${encodeURIComponent(t.timepoint)}` +
          (this.fixedRead ? `?role=${encodeURIComponent(this.which.role)}&reader=${encodeURIComponent(this.which.reader)}` : ''),
        class: t.timepoint === this.currentTp.timepoint ? 'active' : '',
      }, t.timepoint, this.tpInfo(t.timepoint).signed ? ' ✓' : '')));
  },

  /** The series browser of one pane; shows the diagnostic series (or the one kept for this timepoint). */
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
        onclick: async (e) => { e.currentTarget.blur(); await pane.showSeries(s); this.markStrip(key); await this.drawStored(); },
      },
      h('img', { src: s.thumbnail_url || `/api/series/${encodeURIComponent(s.series_uid)}/thumbnail.png`, alt: '', loading: 'lazy', width: 48, height: 48 }),
      h('span', {}, `#${s.series_number ?? '?'} ${s.modality || ''} · ${s.instances.length} im`),
      s.slice_thickness_mm ? h('span', { class: s.slice_thickness_mm > 5 ? 'thick' : 'muted' }, `${s.slice_thickness_mm} mm`) : null));
    clear(strip, thumbs.length ? thumbs : h('span', { class: 'muted' }, 'No images.'));
    if (!series.length) return;
    // The series kept for this view, else the one with the most slices (the diagnostic one in a CT study: scouts
    // and dose reports are short).
    const kept = key === 'current' && this.savedView?.series ? series.find((s) => s.series_uid === this.savedView.series) : null;
    const main = kept || series.reduce((a, b) => (b.instances.length > a.instances.length ? b : a));
    await pane.showSeries(main);
    this.markStrip(key);
  },

  markStrip(key) {
    const uid = this.viewer.panes[key].series?.series_uid;
    for (const b of this.els[`${key}Strip`].querySelectorAll('.thumb')) b.classList.toggle('active', b.dataset.series === uid);
  },

  /** "BL signed by alice at 2026-11-29T19:02:11Z — I confirm these measurements and responses". */
  signedNote(tp, info) {
    const meaning = info.signed_meaning ? ` — ${info.signed_meaning}` : '';
    return h('p', { class: 'signed', id: 'signed-note' }, `${tp} signed by ${info.signed_by || '?'} at ${info.signed_at || '?'}${meaning}`);
  },

  /** Sign (or reopen) as an electronic signature: the password in the UI's own dialog; the button stays
   * disabled while the request is in flight, and a 409 "already signed" just shows the signed read. */
  async signWithPassword(btn, tp, reopen) {
    btn.disabled = true;
    try {
      let reason;
      if (reopen) {
        reason = await askText(`Reopen ${tp}: why?`, 'Reason (kept in the audit log)');
        if (reason === null) return;
      }
      const meaning = this.read.sign_meaning || 'I confirm these measurements and responses';
      const password = await askPassword(reopen ? `Reopen ${tp}: your signature` : `Sign ${tp}`,
        reopen ? `I reopen ${tp}: ${reason}` : meaning, reopen ? 'Reopen' : 'Sign');
      if (password === null) return;
      await this.change(async () => {
        try {
          return reopen ? await api.unsignTimepoint(this.subjectId, tp, reason, password)
            : await api.signTimepoint(this.subjectId, tp, password);
        } catch (err) {
          // Already signed (a second click, another tab): not an error for the reader — show the signed read.
          if (!reopen && err instanceof api.ApiError && err.status === 409 && /already signed/.test(err.message)) return null;
          throw err;
        }
      }, reopen ? `${tp} reopened.` : `${tp} signed.`);
    } finally {
      btn.disabled = false;
    }
  },

  renderSign() {
    const tp = this.currentTp.timepoint;
    const info = this.tpInfo(tp);
    if (this.readOnly) {
      clear(this.els.sign, info.signed ? this.signedNote(tp, info) : null);
      return;
    }
    if (info.signed) {
      clear(this.els.sign,
        this.signedNote(tp, info),
        h('button', { type: 'button', id: 'unsign', onclick: (e) => {
          e.currentTarget.blur();
          return this.signWithPassword(e.currentTarget, tp, true);
        } }, 'Reopen'));
    } else {
      clear(this.els.sign,
        h('button', { type: 'button', class: 'primary', id: 'sign-btn', onclick: (e) => {
          e.currentTarget.blur();
          return this.signWithPassword(e.currentTarget, tp, false);
        } }, `Sign ${tp}`));
    }
  },
};
