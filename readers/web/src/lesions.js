// The lesion table of the subject screen (one row per lesion: size at baseline and now, jump / measure / state
// actions) and the form that adds a lesion. A state is chosen from a menu of buttons, never from a <select>: a
// select changes its value on ↑/↓ while focused, and a scrolling key must never store anything. Replacing a
// measurement (by a state, a split or a merge) asks first and says what will be lost.
import * as api from './api.js';
import { h, clear, fmt } from './dom.js';
import { askText, confirmDialog } from './dialogs.js';

const ORGANS = ['liver', 'lung', 'lymph node', 'peritoneum', 'adrenal', 'bone', 'kidney', 'pancreas', 'spleen', 'pleura', 'other'];
const TARGET_STATES = [['too_small', 'too small to measure'], ['disappeared', 'disappeared'], ['not_evaluable', 'not evaluable']];
const NON_TARGET_STATES = [['present', 'present'], ['absent', 'absent'], ['unequivocal_progression', 'unequivocal progression'], ['not_evaluable', 'not evaluable']];
export const NEW_STATES = [['equivocal', 'equivocal'], ['unequivocal', 'unequivocal']];
const KIND_LABEL = { target: 'target', non_target: 'non-target', new: 'new' };

export const lesionMethods = {
  renderLesions() {
    this.closeStateMenu();
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
        h('td', { class: 'num value' }, this.valueText(obs), this.methodTag(obs)),
        h('td', { class: 'actions' }, this.lesionActions(l, obs)));
    });
    clear(this.els.lesions,
      h('h3', {}, `Lesions at ${tp}`, this.readOnly ? h('span', { class: 'muted', id: 'read-shown' }, ` — ${this.read.role || ''} read${this.read.reader && this.read.role !== 'site' ? ' of ' + this.read.reader : ''}`) : null),
      lesions.length
        ? h('table', { class: 'grid', id: 'lesion-table' },
            h('thead', {}, h('tr', {}, ['ID', 'Kind', 'Organ', this.isBaseline ? null : 'BL', tp, ''].filter((t) => t !== null).map((t) => h('th', {}, t)))),
            h('tbody', {}, rows))
        : h('p', { class: 'muted' }, this.isBaseline ? 'No lesion yet: add targets and non-targets below.' : 'No baseline lesions.'));
  },

  valueText(obs) {
    if (obs.diameter_mm !== null && obs.diameter_mm !== undefined) return fmt.mm(obs.diameter_mm);
    if (obs.fragments_mm) return `split ${obs.fragments_mm.map((v) => Number(v).toFixed(1)).join(' + ')} mm`;
    if (obs.merged_into) return `merged into ${obs.merged_into}`;
    if (obs.state) return obs.state.replace(/_/g, ' ');
    return '—';
  },

  /** "auto" / "auto, edited" and the volume of a semi-automatic measurement; nothing for a manual one. */
  methodTag(obs) {
    const m = obs.measurement;
    if (!m || !m.method || m.method === 'manual') return null;
    const edited = m.method === 'semiautomatic_edited';
    const vol = m.segmentation?.volume_ml;
    return h('div', { class: 'method' },
      h('span', { class: edited ? 'method-tag edited' : 'method-tag', dataset: { method: m.method },
        title: edited ? 'Semi-automatic, calipers moved by the reader before accepting' : 'Semi-automatic, accepted as proposed' },
      edited ? 'auto, edited' : 'auto'),
      typeof vol === 'number' ? h('span', { class: 'volume', title: 'Volume of the segmentation (server)' }, `${vol.toFixed(1)} mL`) : null);
  },

  lesionActions(l, obs) {
    const out = [];
    const blur = (fn) => (e) => { e.currentTarget.blur(); fn(); };
    const blSop = l.observations?.[this.baselineTp.timepoint]?.measurement?.sop_instance_uid || l.baseline?.sop_instance_uid;
    if (!this.isBaseline && l.kind !== 'new' && blSop) {
      out.push(h('button', { type: 'button', class: 'small goto-bl', title: 'Show its baseline slice', onclick: blur(() => this.jumpToLesion(l, 'baseline')) }, 'BL slice'));
    }
    if (obs.measurement) {
      out.push(h('button', { type: 'button', class: 'small goto', title: 'Show the measured slice', onclick: blur(() => this.jumpToLesion(l, 'current')) }, 'Go'));
      const segUid = obs.measurement.segmentation?.seg_sop_instance_uid;
      if (segUid) {
        const on = this.outline?.lesionId === l.lesion_id && this.outline?.uid === segUid;
        out.push(h('button', { type: 'button', class: on ? 'small outline on' : 'small outline', 'aria-pressed': on ? 'true' : 'false',
          title: on ? 'Hide the outline of its stored segmentation' : 'Draw the outline of its stored segmentation (DICOM SEG) on the images',
          onclick: blur(() => this.toggleOutline(l, segUid)) }, 'outline'));
      }
      if (obs.measurement.key_image_url) {
        out.push(h('a', { class: 'key-image', href: obs.measurement.key_image_url, target: '_blank', rel: 'noopener',
          title: 'Key image rendered by the server with the stored caliper' }, 'key'));
      }
    } else if (obs.point) {
      out.push(h('button', { type: 'button', class: 'small goto', title: 'Show the slice it was placed on', onclick: blur(() => this.jumpToLesion(l, 'current')) }, 'Go'));
      out.push(h('a', { class: 'key-image', href: obs.point.key_image_url, target: '_blank', rel: 'noopener',
        title: 'Key image rendered by the server with the lesion marked' }, 'key'));
    }
    if (this.readOnly) return out;
    if (l.kind === 'target' || (l.kind === 'non_target' && this.isBaseline)) {
      out.push(h('button', { type: 'button', class: 'small measure', onclick: blur(() => this.startMeasuring(l, false)) }, 'Measure'));
    }
    // A follow-up target not measured yet whose baseline is: the server proposes it from its baseline position.
    if (l.kind === 'target' && !this.isBaseline && !obs.measurement && this.canPropagate(l)) {
      out.push(h('button', { type: 'button', class: 'small propose', title: 'Segment it where it lay at baseline and propose its calipers (Accept or Reject)',
        onclick: blur(() => this.proposeFromBaseline(l)) }, 'Propose from BL'));
    }
    out.push(this.placeButton(l, obs));
    const choices = this.stateChoices(l);
    if (choices.length) {
      out.push(h('button', { type: 'button', class: 'small state', 'aria-haspopup': 'menu', 'aria-label': `state of ${l.lesion_id}`,
        onclick: (e) => this.openStateMenu(e.currentTarget, l, obs, choices) }, 'state…'));
    }
    out.push(h('button', { type: 'button', class: 'small danger', title: 'Delete this lesion', onclick: blur(() => this.deleteLesion(l)) }, '✕'));
    return out;
  },

  /**
   * [[value, label]] of the states this lesion can take here (targets at follow-up: also split and merge). The
   * states are the server's (`allowed_states` of the lesion at this timepoint, from its one state rule): a menu
   * never offers what the server would refuse (at baseline a non-target is only present).
   */
  stateChoices(l) {
    const labels = Object.fromEntries([...TARGET_STATES, ...NON_TARGET_STATES, ...NEW_STATES]);
    const allowed = l.allowed_states?.[this.currentTp.timepoint] || [];
    const states = allowed.map((v) => [v, labels[v] || v.replace(/_/g, ' ')]);
    const extra = [];
    if (l.kind === 'target' && !this.isBaseline) {
      extra.push(['__split', 'split (measure fragments)…']);
      for (const o of (this.read.lesions || []).filter((x) => x.kind === 'target' && x.lesion_id !== l.lesion_id)) {
        extra.push([`__merge:${o.lesion_id}`, `merged into ${o.lesion_id}`]);
      }
    }
    return [...states, ...extra];
  },

  /** A menu of buttons under the row's "state…" button; Esc or a click elsewhere closes it, changing nothing. */
  openStateMenu(anchor, l, obs, choices) {
    const wasOpen = this.stateMenu?.lesionId === l.lesion_id;
    this.closeStateMenu();
    anchor.blur();
    if (wasOpen) return;
    const menu = h('div', { class: 'state-menu', role: 'menu', dataset: { lesion: l.lesion_id } },
      choices.map(([v, label]) => h('button', { type: 'button', role: 'menuitem', dataset: { value: v },
        class: obs.state === v ? 'current' : '',
        onclick: () => { this.closeStateMenu(); this.chooseState(l, obs, v, label); } }, label)));
    const r = anchor.getBoundingClientRect();
    menu.style.top = `${Math.round(r.bottom + 2)}px`;
    menu.style.left = `${Math.round(Math.max(4, Math.min(r.left, window.innerWidth - 230)))}px`;
    document.body.appendChild(menu);
    // Each menu's listeners close that menu only. The mousedown listener is added on the next tick (the click
    // that opened the menu must not close it); a menu closed before that tick (an Escape right after the click)
    // never adds it — a leaked listener would close the next menu on the mousedown that chooses its item.
    const state = { lesionId: l.lesion_id, closed: false };
    const away = (e) => { if (!menu.contains(e.target) && this.stateMenu === state) this.closeStateMenu(); };
    const keys = (e) => {
      if (e.key === 'Escape' && this.stateMenu === state) {
        e.preventDefault();
        e.stopPropagation();
        this.closeStateMenu();
      }
    };
    setTimeout(() => { if (!state.closed) document.addEventListener('mousedown', away, true); });
    window.addEventListener('keydown', keys, true);
    state.close = () => {
      state.closed = true;
      menu.remove();
      document.removeEventListener('mousedown', away, true);
      window.removeEventListener('keydown', keys, true);
    };
    this.stateMenu = state;
  },

  closeStateMenu() {
    if (this.stateMenu) this.stateMenu.close();
    this.stateMenu = null;
  },

  /** Applies a chosen state; when it replaces a measurement, only after the reader confirms. */
  async chooseState(l, obs, v, label) {
    const had = obs.diameter_mm !== null && obs.diameter_mm !== undefined ? `${l.lesion_id} ${fmt.mm(obs.diameter_mm)}`
      : obs.fragments_mm ? `${l.lesion_id} ${this.valueText(obs)}` : null;
    if (had && obs.state !== v) {
      const ok = await confirmDialog(`Replace the measurement of ${l.lesion_id}?`,
        `${had} will be replaced by '${label.replace(/…$/, '')}'.`, 'Replace');
      if (!ok) {
        this.say(`${l.lesion_id} unchanged.`);
        return;
      }
    }
    if (v === '__split') this.startMeasuring(l, true);
    else if (v.startsWith('__merge:')) await this.putObservation(l.lesion_id, { merged_into: v.slice(8) }, `${l.lesion_id} merged.`);
    else await this.putObservation(l.lesion_id, { state: v }, `${l.lesion_id}: ${v.replace(/_/g, ' ')}.`);
  },

  async deleteLesion(l) {
    const signed = (this.read.timepoints || []).some((t) => t.signed);
    const measured = Object.entries(l.observations || {}).filter(([, o]) => o && o.diameter_mm != null)
      .map(([tp, o]) => `${tp} ${fmt.mm(o.diameter_mm)}`);
    if (!(await confirmDialog(`Delete ${l.lesion_id}?`,
      `${l.lesion_id} and everything recorded for it${measured.length ? ` (${measured.join(', ')})` : ''} will be deleted.`, 'Delete'))) return;
    let reason = null;
    if (signed) {
      reason = await askText(`Delete ${l.lesion_id}: a timepoint is signed. Why?`, 'Reason (kept in the audit log)');
      if (reason === null) return;
    }
    await this.change(() => api.deleteLesion(this.subjectId, l.lesion_id, reason), `${l.lesion_id} deleted.`);
  },

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
    // These selects only fill in the form (nothing is stored before "Add"); they give the focus back after a
    // choice so that ↑/↓ scroll the images again instead of changing the choice.
    for (const el of [kind, organ, nodal, newState]) el?.addEventListener('change', () => el.blur());
    const form = h('form', { class: 'add-form' },
      h('h3', {}, this.isBaseline ? 'Add a baseline lesion' : 'Add a new lesion'),
      kind, organ, h('label', {}, nodal, ' nodal'), newState,
      h('button', { class: 'primary', type: 'submit', id: 'add-lesion-btn' }, 'Add'));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      document.activeElement?.blur?.();
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
  },
};
