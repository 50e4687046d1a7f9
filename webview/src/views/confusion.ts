// The validation confusion matrix at the selected epoch: a row-normalised heat map (rows = ground truth) with pixel counts on hover.
import type { DashboardState } from '../model/dashboardState';
import { metricsAt } from '../model/dashboardState';
import { cellAt, describeCell, rowNormalise } from '../model/confusion';
import { colormap, luminance } from '../model/colormap';
import { formatPercent } from '../model/format';
import { hiDpiContext } from '../canvas';
import { el, placeTooltip, section } from '../dom';
import { runChanged, type DashboardContext, type RenderReason, type View } from './view';

const LABEL_WIDTH = 96;
const TOP = 8;

export class ConfusionView implements View {
  readonly root: HTMLElement;
  private readonly canvas = el('canvas', { id: 'confusion-matrix', class: 'confusion-canvas', role: 'img', 'aria-label': 'Confusion matrix' });
  private readonly tooltip = el('div', { id: 'confusion-tooltip', class: 'tooltip', role: 'tooltip', hidden: true });
  private readonly caption = el('div', { class: 'muted caption' });
  private geometry = { cell: 0, size: 0, left: 0, top: 0 };
  private availableWidth = 360;

  constructor(private readonly context: DashboardContext) {
    const s = section('confusion', 'Confusion matrix (validation)');
    this.root = s.root;
    s.body.append(this.caption, this.canvas);
    document.body.append(this.tooltip);
    this.canvas.addEventListener('mousemove', (e) => this.hover(e));
    this.canvas.addEventListener('mouseleave', () => { this.tooltip.hidden = true; });
    new ResizeObserver(() => requestAnimationFrame(() => {
      const w = Math.floor(s.body.clientWidth);
      if (w > 0 && Math.abs(w - this.availableWidth) > 2) { this.availableWidth = w; this.draw(this.context.state()); }
    })).observe(s.body);
  }

  render(state: DashboardState, previous: DashboardState | null, reason: RenderReason): void {
    this.root.hidden = !state.run;
    if (!state.run) return;
    const changed = runChanged(state, previous) || reason !== 'view' || previous?.view.selectedEpoch !== state.view.selectedEpoch
      || previous?.view.hiddenClasses.join() !== state.view.hiddenClasses.join() || previous?.run?.epochs !== state.run.epochs;
    if (changed) this.draw(state);
  }

  private draw(state: DashboardState): void {
    const run = state.run;
    const metrics = metricsAt(run, state.view.selectedEpoch);
    if (!run || !metrics) { this.caption.textContent = 'No epoch yet.'; this.canvas.hidden = true; return; }
    this.canvas.hidden = false;
    const matrix = metrics.confusion;
    const k = matrix.length;
    const theme = this.context.theme();
    const size = Math.min(520, Math.max(160, this.availableWidth - LABEL_WIDTH - 16));
    const cell = Math.max(4, Math.min(44, Math.floor(size / Math.max(1, k))));
    const gridSize = cell * k;
    const top = TOP;
    const left = LABEL_WIDTH;
    const font = getComputedStyle(document.body).fontFamily;
    const names = run.info.classes.map((c) => c.name);
    const labelFont = `${Math.min(12, Math.max(8, cell - 2))}px ${font}`;
    // Column names are drawn at 60°: leave room for the longest one.
    const measure = this.canvas.getContext('2d')!;
    measure.font = labelFont;
    const longest = Math.max(0, ...names.map((n) => measure.measureText(truncate(n, 12)).width));
    const bottomLabels = Math.ceil(14 + longest * Math.sin(Math.PI / 3));
    this.geometry = { cell, size: k, left, top };
    const ctx = hiDpiContext(this.canvas, left + gridSize + 8, top + gridSize + bottomLabels);
    ctx.clearRect(0, 0, left + gridSize + 8, top + gridSize + bottomLabels);
    const normalised = rowNormalise(matrix);
    const lut = colormap('viridis');
    const hidden = new Set(state.view.hiddenClasses);
    for (let r = 0; r < k; r++) for (let c = 0; c < k; c++) {
      const v = normalised[r][c];
      const i = Math.round(v * 255) * 3;
      ctx.globalAlpha = hidden.has(r) || hidden.has(c) ? 0.2 : 1;
      ctx.fillStyle = `rgb(${lut[i]},${lut[i + 1]},${lut[i + 2]})`;
      ctx.fillRect(left + c * cell, top + r * cell, cell - (cell > 6 ? 1 : 0), cell - (cell > 6 ? 1 : 0));
      if (cell >= 30) {
        ctx.fillStyle = luminance(lut[i], lut[i + 1], lut[i + 2]) > 0.35 ? '#000' : '#fff';
        ctx.font = `10px ${font}`;
        ctx.textAlign = 'center';
        ctx.textBaseline = 'middle';
        ctx.fillText(v >= 0.995 ? '100' : (v * 100).toFixed(v < 0.1 ? 1 : 0), left + c * cell + cell / 2, top + r * cell + cell / 2);
      }
    }
    ctx.globalAlpha = 1;
    ctx.fillStyle = theme.foreground;
    ctx.font = labelFont;
    ctx.textAlign = 'right';
    ctx.textBaseline = 'middle';
    for (let r = 0; r < k; r++) ctx.fillText(truncate(names[r] ?? String(r), 14), left - 6, top + r * cell + cell / 2);
    ctx.save();
    ctx.textAlign = 'right';
    for (let c = 0; c < k; c++) {
      ctx.save();
      ctx.translate(left + c * cell + cell / 2, top + gridSize + 6);
      ctx.rotate(-Math.PI / 3);
      ctx.fillText(truncate(names[c] ?? String(c), 12), 0, 0);
      ctx.restore();
    }
    ctx.restore();
    this.canvas.dataset.epoch = String(metrics.epoch);
    this.canvas.dataset.classes = String(k);
    this.caption.textContent = `Epoch ${metrics.epoch}. Rows: ground truth, columns: prediction; each row sums to 100 %. Hover a cell for pixel counts.`;
  }

  private hover(event: MouseEvent): void {
    const run = this.context.state().run;
    const metrics = metricsAt(run, this.context.state().view.selectedEpoch);
    if (!run || !metrics) return;
    const rect = this.canvas.getBoundingClientRect();
    const g = this.geometry;
    const hit = cellAt(event.clientX - rect.left, event.clientY - rect.top, g.left, g.top, g.cell, g.size);
    const cell = hit && describeCell(metrics.confusion, hit.truth, hit.predicted);
    if (!cell) { this.tooltip.hidden = true; return; }
    const name = (i: number) => run.info.classes[i]?.name ?? String(i);
    this.tooltip.replaceChildren(
      el('div', { class: 'readout-title', text: `${name(cell.truth)} → ${name(cell.predicted)}` }),
      el('div', { text: `${cell.count.toLocaleString('en-US')} pixels` }),
      el('div', { class: 'muted', text: `${formatPercent(cell.share)} of the "${name(cell.truth)}" pixels` }),
    );
    this.tooltip.dataset.truth = String(cell.truth);
    this.tooltip.dataset.predicted = String(cell.predicted);
    placeTooltip(this.tooltip, event.clientX, event.clientY);
  }
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
