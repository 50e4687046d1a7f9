// The dashboard header: run name and status, live batch progress, and the epoch timeline (slider, step buttons, follow latest).
import type { DashboardState } from '../model/dashboardState';
import { latestEpoch, metricsAt } from '../model/dashboardState';
import { formatCount, formatNumber, formatPercent } from '../model/format';
import { el } from '../dom';
import type { DashboardContext, View } from './view';

export class HeaderView implements View {
  readonly root: HTMLElement;
  private readonly title = el('h1', { id: 'run-title', text: 'SegScope' });
  private readonly status = el('span', { id: 'run-status', class: 'status-pill', 'data-status': 'none' });
  private readonly meta = el('div', { id: 'run-meta', class: 'muted' });
  private readonly progressBar = el('progress', { id: 'batch-progress', max: 1, value: 0 });
  private readonly progressText = el('span', { id: 'batch-progress-text', class: 'muted' });
  private readonly slider = el('input', { id: 'epoch-slider', type: 'range', min: 1, max: 1, step: 1, value: 1, 'aria-label': 'Epoch' });
  private readonly epochLabel = el('span', { id: 'epoch-label', class: 'epoch-label' });
  private readonly follow = el('input', { id: 'follow-latest', type: 'checkbox' });
  private readonly previous = el('button', { id: 'epoch-prev', class: 'icon-button', title: 'Previous epoch', 'aria-label': 'Previous epoch', text: '‹' });
  private readonly next = el('button', { id: 'epoch-next', class: 'icon-button', title: 'Next epoch', 'aria-label': 'Next epoch', text: '›' });
  private readonly progressRow = el('div', { class: 'progress-row', id: 'progress-row' }, this.progressBar, this.progressText);

  constructor(private readonly context: DashboardContext) {
    const followLabel = el('label', { class: 'check', title: 'Jump to each new epoch as it arrives' }, this.follow, ' follow latest');
    this.root = el('div', { id: 'run-header', class: 'run-header' },
      el('div', { class: 'title-row' }, this.title, this.status, this.meta),
      this.progressRow,
      el('div', { id: 'timeline', class: 'timeline' }, el('span', { class: 'muted', text: 'Epoch' }), this.previous, this.slider, this.next, this.epochLabel, followLabel),
    );
    this.slider.addEventListener('input', () => this.context.selectEpoch(this.epochAt(Number(this.slider.value))));
    this.previous.addEventListener('click', () => this.step(-1));
    this.next.addEventListener('click', () => this.step(1));
    this.follow.addEventListener('change', () => this.context.setView({ followLatest: this.follow.checked }));
  }

  private epochs(): number[] {
    return this.context.state().run?.epochs.map((e) => e.epoch) ?? [];
  }

  /** The slider moves over positions 1..N (epochs may not start at 1 after a resume). */
  private epochAt(position: number): number {
    const epochs = this.epochs();
    return epochs[Math.max(0, Math.min(epochs.length - 1, position - 1))];
  }

  private step(delta: number): void {
    const epochs = this.epochs();
    const current = epochs.indexOf(this.context.state().view.selectedEpoch ?? -1);
    const target = epochs[Math.max(0, Math.min(epochs.length - 1, current + delta))];
    if (target !== undefined) this.context.selectEpoch(target);
  }

  render(state: DashboardState): void {
    const run = state.run;
    this.root.hidden = !run;
    if (!run) return;
    const info = run.info;
    this.title.textContent = info.name;
    this.status.textContent = info.status;
    this.status.dataset.status = info.status;
    const total = info.config.train?.epochs;
    this.meta.textContent = `${info.model.name} · ${formatCount(info.model.params)} params · ${info.classes.length} classes · ${info.inputSize}² · ${info.backend.name}${total ? ` · ${info.epochsDone}/${total} epochs` : ''}`;
    const p = state.progress;
    this.progressRow.hidden = !run.live || !p;
    if (p) {
      this.progressBar.max = Math.max(1, p.batchesPerEpoch);
      this.progressBar.value = p.batch;
      this.progressText.textContent = `epoch ${p.epoch} · batch ${p.batch}/${p.batchesPerEpoch} · loss ${formatNumber(p.loss)} · ${formatNumber(p.imagesPerSec, 1)} img/s`;
    }
    const epochs = run.epochs.map((e) => e.epoch);
    const selected = state.view.selectedEpoch;
    this.slider.max = String(Math.max(1, epochs.length));
    this.slider.disabled = epochs.length < 2;
    const position = selected === null ? 1 : epochs.indexOf(selected) + 1;
    if (this.slider.value !== String(position)) this.slider.value = String(position);
    this.slider.dataset.epoch = String(selected ?? '');
    this.previous.disabled = position <= 1;
    this.next.disabled = position >= epochs.length;
    this.follow.checked = state.view.followLatest;
    const m = metricsAt(run, selected);
    const latest = latestEpoch(run);
    this.epochLabel.textContent = m ? `${m.epoch} of ${latest}${total ? ` (${total} planned)` : ''} · val mIoU ${formatPercent(m.val.miou)} · pixel acc. ${formatPercent(m.val.pixelAccuracy)}` : 'no epoch finished yet';
  }
}
