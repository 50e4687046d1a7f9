// Charts over epochs with uPlot: train/val loss, mIoU and pixel accuracy, and per-class IoU; themed from VS Code's colours, with a marker at the selected epoch (click a chart to select an epoch).
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { DashboardState } from '../model/dashboardState';
import { classIouChart, lossChart, qualityChart, type ChartData } from '../model/chartData';
import { readableOn } from '../model/colormap';
import { el, section } from '../dom';
import { parseColor, type ThemeColors } from '../theme';
import { runChanged, type DashboardContext, type RenderReason, type View } from './view';

interface ChartSlot {
  id: string;
  title: string;
  data: (state: DashboardState) => ChartData;
  percent: boolean;
  host: HTMLElement;
  plot?: uPlot;
  seriesCount?: number;
}

export class ChartsView implements View {
  readonly root: HTMLElement;
  private readonly slots: ChartSlot[];
  private width = 360;

  constructor(private readonly context: DashboardContext) {
    const s = section('charts', 'Training curves');
    this.root = s.root;
    const slot = (id: string, title: string, percent: boolean, data: ChartSlot['data']): ChartSlot =>
      ({ id, title, percent, data, host: el('div', { id, class: 'chart', 'data-chart': id }) });
    this.slots = [
      slot('chart-loss', 'Loss', false, (st) => lossChart(st.run!.epochs)),
      slot('chart-miou', 'mIoU and pixel accuracy', true, (st) => qualityChart(st.run!.epochs)),
      slot('chart-class-iou', 'Validation IoU per class', true, (st) => classIouChart(st.run!.epochs, st.run!.info.classes.map((c) => c.name))),
    ];
    const grid = el('div', { class: 'chart-grid' }, ...this.slots.map((c) => el('div', { class: 'chart-card' }, el('h3', { text: c.title }), c.host)));
    s.body.append(grid);
    new ResizeObserver(() => requestAnimationFrame(() => {
      const w = Math.max(220, Math.floor(this.slots[0].host.clientWidth));
      if (Math.abs(w - this.width) > 2) {
        this.width = w;
        for (const c of this.slots) c.plot?.setSize({ width: w, height: 200 });
      }
    })).observe(this.slots[0].host);
  }

  render(state: DashboardState, previous: DashboardState | null, reason: RenderReason): void {
    this.root.hidden = !state.run;
    if (!state.run) return;
    const rebuild = runChanged(state, previous) || reason === 'theme' || previous?.view.hiddenClasses.join() !== state.view.hiddenClasses.join();
    const dataChanged = rebuild || previous?.run?.epochs !== state.run.epochs;
    const epochChanged = previous?.view.selectedEpoch !== state.view.selectedEpoch;
    for (const slot of this.slots) {
      const data = slot.data(state);
      const columns = [data.epochs, ...data.series.map((s) => s.values)] as uPlot.AlignedData;
      if (rebuild || !slot.plot || slot.seriesCount !== data.series.length) this.create(slot, data, columns, state);
      else if (dataChanged) slot.plot.setData(columns);
      else if (epochChanged) slot.plot.redraw(false, false);
      slot.host.dataset.points = String(data.epochs.length);
    }
  }

  private create(slot: ChartSlot, data: ChartData, columns: uPlot.AlignedData, state: DashboardState): void {
    slot.plot?.destroy();
    const theme = this.context.theme();
    const colors = slot.id === 'chart-class-iou' ? this.classColors(state, theme) : theme.series;
    const hidden = new Set(state.view.hiddenClasses);
    const axis = (percent: boolean): uPlot.Axis => ({
      stroke: theme.muted, grid: { stroke: theme.grid, width: 1 }, ticks: { stroke: theme.grid, width: 1 },
      font: `11px ${getComputedStyle(document.body).fontFamily}`,
      values: percent ? (_u, values) => values.map((v) => `${Math.round(v * 100)}%`) : undefined,
    });
    const options: uPlot.Options = {
      width: this.width, height: 200,
      scales: { x: { time: false }, y: slot.percent ? { range: [0, 1] } : { auto: true } },
      axes: [{ ...axis(false), values: (_u, values) => values.map((v) => (Number.isInteger(v) ? String(v) : '')) }, axis(slot.percent)],
      legend: { show: true, live: true },
      cursor: { drag: { x: false, y: false }, points: { size: 6 } },
      series: [
        { label: 'epoch' },
        ...data.series.map((s, i): uPlot.Series => ({
          label: s.label, stroke: colors[i % colors.length], width: 1.5, spanGaps: false,
          show: slot.id === 'chart-class-iou' ? !hidden.has(i) : true,
          dash: slot.id !== 'chart-class-iou' && s.label.startsWith('train') ? [4, 3] : undefined,
          points: { show: data.epochs.length < 40, size: 4 },
          value: (_u, v) => (v === null || v === undefined ? '—' : slot.percent ? `${(v * 100).toFixed(1)}%` : v.toFixed(4)),
        })),
      ],
      hooks: { draw: [(u) => this.drawEpochMarker(u, theme)] },
    };
    slot.plot = new uPlot(options, columns, slot.host);
    slot.seriesCount = data.series.length;
    slot.plot.over.addEventListener('click', () => {
      const idx = slot.plot?.cursor.idx;
      if (idx !== null && idx !== undefined) this.context.selectEpoch(data.epochs[idx]);
    });
  }

  /** Class colours, lightened (dark themes) or darkened (light themes) where they would vanish against the background. */
  private classColors(state: DashboardState, theme: ThemeColors): string[] {
    const bg = parseColor(getComputedStyle(this.root).backgroundColor, parseColor(theme.background));
    return state.run!.info.classes.map((c) => `rgb(${readableOn(c.color, bg).join(',')})`);
  }

  private drawEpochMarker(u: uPlot, theme: ThemeColors): void {
    const epoch = this.context.state().view.selectedEpoch;
    if (epoch === null) return;
    const x = Math.round(u.valToPos(epoch, 'x', true));
    const ctx = u.ctx;
    ctx.save();
    ctx.strokeStyle = theme.accent;
    ctx.lineWidth = Math.max(1, devicePixelRatio);
    ctx.setLineDash([3 * devicePixelRatio, 3 * devicePixelRatio]);
    ctx.beginPath();
    ctx.moveTo(x, u.bbox.top);
    ctx.lineTo(x, u.bbox.top + u.bbox.height);
    ctx.stroke();
    ctx.restore();
  }
}
