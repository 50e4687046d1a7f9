// Watch images: input, ground truth, argmax, overlay, error and confidence maps per image at the selected epoch; class toggles, overlay opacity, and a pixel readout with top-3 probabilities.
import { runPaths, type ClassInfo } from '../../../src/protocol/runFolder';
import type { DashboardState } from '../model/dashboardState';
import { metricsAt } from '../model/dashboardState';
import { colormap } from '../model/colormap';
import { formatPercent } from '../model/format';
import {
  classColorTable, paintConfidence, paintErrors, paintLabels, paintOverlay, paintRgb, topClasses, type LabelPaintOptions,
} from '../model/labelPaint';
import { toRgb, toSingle } from '../model/png';
import { imagePixel, paintImageCanvas } from '../canvas';
import { clear, el, placeTooltip, section } from '../dom';
import { parseColor } from '../theme';
import { runChanged, type DashboardContext, type RenderReason, type View } from './view';

export const MAP_KINDS = ['input', 'gt', 'argmax', 'overlay', 'error', 'confidence'] as const;
export type MapKind = (typeof MAP_KINDS)[number];
const MAP_TITLES: Record<MapKind, string> = {
  input: 'input', gt: 'ground truth', argmax: 'prediction (argmax)', overlay: 'overlay', error: 'errors', confidence: 'confidence',
};

interface ImageRow {
  id: string;
  root: HTMLElement;
  score: HTMLElement;
  canvases: Record<MapKind, HTMLCanvasElement>;
}

/** What is drawn for one image at one epoch (kept for the pixel readout). */
interface DrawnImage {
  epoch: number;
  width: number;
  rgb: Uint8Array;
  groundTruth: Uint8Array;
  argmax: Uint8Array;
  confidence: Uint8Array;
}

export class WatchImagesView implements View {
  readonly root: HTMLElement;
  private readonly body: HTMLElement;
  private readonly toggles = el('div', { id: 'class-toggles', class: 'class-toggles', role: 'group', 'aria-label': 'Show or hide classes' });
  private readonly opacity = el('input', { id: 'overlay-opacity', type: 'range', min: 0, max: 100, step: 1, 'aria-label': 'Overlay opacity' });
  private readonly readout = el('div', { id: 'pixel-readout', class: 'tooltip', role: 'tooltip', hidden: true });
  private rows: ImageRow[] = [];
  private drawn = new Map<string, DrawnImage>();
  private renderToken = 0;

  constructor(private readonly context: DashboardContext) {
    const s = section('watch-images', 'Watch images');
    this.root = s.root;
    this.body = s.body;
    s.tools.append(el('label', { class: 'inline-control' }, 'overlay ', this.opacity), this.toggles);
    this.opacity.addEventListener('input', () => this.context.setView({ overlayOpacity: Number(this.opacity.value) / 100 }));
    document.body.append(this.readout);
  }

  private build(state: DashboardState): void {
    clear(this.body);
    this.rows = [];
    this.drawn.clear();
    const run = state.run;
    if (!run) return;
    const legend = el('div', { class: 'map-legend muted' },
      el('span', { class: 'swatch swatch-void' }), ' void (ignored)  ',
      el('span', { class: 'swatch swatch-wrong' }), ' wrong  ',
      el('span', { class: 'swatch swatch-right' }), ' right (dimmed input)  ',
      el('span', { class: 'swatch swatch-confidence' }), ' confidence 0 → 1');
    const headings = el('div', { class: 'watch-row watch-headings' }, el('div', { class: 'watch-label' }),
      ...MAP_KINDS.map((k) => el('div', { class: 'map-title', text: MAP_TITLES[k] })));
    this.body.append(legend, headings);
    for (const image of run.info.watch.images) {
      const canvases = {} as Record<MapKind, HTMLCanvasElement>;
      const cells = MAP_KINDS.map((kind) => {
        const canvas = el('canvas', { class: 'map-canvas', 'data-map': kind, 'data-image-id': image.id, title: `${MAP_TITLES[kind]} — ${image.id}` });
        canvases[kind] = canvas;
        canvas.addEventListener('mousemove', (e) => void this.hover(image.id, canvas, e));
        canvas.addEventListener('mouseleave', () => { this.readout.hidden = true; });
        return el('figure', { class: 'map-cell' }, canvas);
      });
      const score = el('div', { class: 'watch-score muted' });
      const root = el('div', { class: 'watch-row watch-image', 'data-image-id': image.id, 'data-epoch': '' },
        el('div', { class: 'watch-label' }, el('div', { class: 'watch-id', text: image.id }), score), ...cells);
      this.body.append(root);
      this.rows.push({ id: image.id, root, score, canvases });
    }
    if (!run.info.watch.images.length) this.body.append(el('p', { class: 'muted', text: 'This run watches no images (watch.images in segscope.json).' }));
  }

  private buildToggles(state: DashboardState): void {
    clear(this.toggles);
    for (const c of state.run?.info.classes ?? []) {
      const button = el('button', { class: 'class-toggle', 'data-class-id': c.id, title: `Show or hide "${c.name}" everywhere` },
        el('span', { class: 'swatch' }), c.name);
      (button.firstChild as HTMLElement).style.background = `rgb(${c.color.join(',')})`;
      button.addEventListener('click', () => {
        const hidden = new Set(this.context.state().view.hiddenClasses);
        if (hidden.has(c.id)) hidden.delete(c.id); else hidden.add(c.id);
        this.context.setView({ hiddenClasses: [...hidden].sort((a, b) => a - b) });
      });
      this.toggles.append(button);
    }
  }

  async render(state: DashboardState, previous: DashboardState | null, reason: RenderReason): Promise<void> {
    this.root.hidden = !state.run;
    if (!state.run) return;
    if (runChanged(state, previous)) { this.build(state); this.buildToggles(state); }
    const hidden = new Set(state.view.hiddenClasses);
    for (const button of this.toggles.querySelectorAll<HTMLButtonElement>('.class-toggle')) {
      const off = hidden.has(Number(button.dataset.classId));
      button.setAttribute('aria-pressed', String(!off));
      button.classList.toggle('off', off);
    }
    this.opacity.value = String(Math.round(state.view.overlayOpacity * 100));
    const v = state.view, pv = previous?.view;
    const needsPaint = runChanged(state, previous) || reason === 'theme' || !pv || pv.selectedEpoch !== v.selectedEpoch
      || pv.overlayOpacity !== v.overlayOpacity || pv.hiddenClasses.join() !== v.hiddenClasses.join()
      || previous?.run?.epochs.length !== state.run.epochs.length;
    if (needsPaint) await this.paintAll(state);
  }

  private async paintAll(state: DashboardState): Promise<void> {
    const token = ++this.renderToken;
    const files = this.context.files();
    const run = state.run!;
    const epoch = state.view.selectedEpoch;
    if (!files) return;
    const metrics = metricsAt(run, epoch);
    const table = classColorTable(run.info.classes);
    const hidden: boolean[] = [];
    for (const c of state.view.hiddenClasses) hidden[c] = true;
    const options: Omit<LabelPaintOptions, 'width'> = {
      ignoreLabel: run.info.ignoreLabel, table, hidden, hiddenColor: parseColor(this.context.theme().background),
    };
    const confidenceLut = colormap('magma');
    await Promise.all(this.rows.map(async (row) => {
      const info = run.info.watch.images.find((i) => i.id === row.id)!;
      const [input, gt] = await Promise.all([files.png(info.input), files.png(info.groundTruth)]);
      if (token !== this.renderToken) return;
      const rgb = toRgb(input);
      const groundTruth = toSingle(gt);
      const { width, height } = input;
      const o = { ...options, width };
      paintImageCanvas(row.canvases.input, width, height, (d) => paintRgb(rgb, d));
      paintImageCanvas(row.canvases.gt, width, height, (d) => paintLabels(groundTruth, d, o));
      if (epoch === null) return;
      const [argmaxPng, errorPng, confidencePng] = await Promise.all([
        files.png(runPaths.argmax(epoch, row.id)), files.png(runPaths.error(epoch, row.id)), files.png(runPaths.confidence(epoch, row.id)),
      ]);
      if (token !== this.renderToken) return;
      const argmax = toSingle(argmaxPng), errors = toSingle(errorPng), confidence = toSingle(confidencePng);
      paintImageCanvas(row.canvases.argmax, width, height, (d) => paintLabels(argmax, d, o));
      paintImageCanvas(row.canvases.overlay, width, height, (d) => paintOverlay(rgb, argmax, state.view.overlayOpacity, d, o));
      paintImageCanvas(row.canvases.error, width, height, (d) => paintErrors(errors, rgb, groundTruth, d, o));
      paintImageCanvas(row.canvases.confidence, width, height, (d) => paintConfidence(confidence, confidenceLut, d));
      this.drawn.set(row.id, { epoch, width, rgb, groundTruth, argmax, confidence });
      const score = metrics?.watch[row.id];
      row.score.textContent = score ? `mIoU ${formatPercent(score.miou)} · acc. ${formatPercent(score.pixelAccuracy)}` : '';
      row.root.dataset.epoch = String(epoch);
      row.root.dataset.loaded = 'true';
    }).map((p) => p.catch((error) => this.context.reportError(error))));
  }

  private className(classes: ClassInfo[], ignoreLabel: number, value: number): string {
    if (value === ignoreLabel) return 'void';
    return classes.find((c) => c.id === value)?.name ?? `label ${value}`;
  }

  private async hover(imageId: string, canvas: HTMLCanvasElement, event: MouseEvent): Promise<void> {
    const run = this.context.state().run;
    const drawn = this.drawn.get(imageId);
    const pixel = imagePixel(canvas, event);
    if (!run || !drawn || !pixel) { this.readout.hidden = true; return; }
    const i = pixel.y * drawn.width + pixel.x;
    const classes = run.info.classes;
    const gt = this.className(classes, run.info.ignoreLabel, drawn.groundTruth[i]);
    const predicted = this.className(classes, run.info.ignoreLabel, drawn.argmax[i]);
    const lines = [
      el('div', { class: 'readout-title', text: `${imageId} · (${pixel.x}, ${pixel.y}) · epoch ${drawn.epoch}` }),
      el('div', { 'data-field': 'gt' }, el('span', { class: 'muted', text: 'ground truth ' }), gt),
      el('div', { 'data-field': 'predicted', class: gt !== predicted && gt !== 'void' ? 'wrong' : '' }, el('span', { class: 'muted', text: 'predicted ' }), predicted),
    ];
    const top = el('div', { 'data-field': 'top3', class: 'top3' }, el('span', { class: 'muted', text: 'loading probabilities…' }));
    this.readout.replaceChildren(...lines, top);
    placeTooltip(this.readout, event.clientX, event.clientY);
    const files = this.context.files();
    if (!files) return;
    try {
      const probs = await files.bytes(runPaths.probabilities(drawn.epoch, imageId));
      if (this.readout.hidden) return;
      const best = topClasses(probs, i, classes.length, 3);
      top.replaceChildren(...best.map((b) => el('div', { class: 'top3-row' },
        el('span', { class: 'top3-name', text: this.className(classes, -1, b.classId) }),
        el('span', { class: 'top3-bar' }, (() => { const f = el('span', { class: 'top3-fill' }); f.style.width = `${Math.round(b.probability * 100)}%`; return f; })()),
        el('span', { class: 'top3-value', text: formatPercent(b.probability) }))));
    } catch (error) {
      top.replaceChildren(el('span', { class: 'muted', text: `no probabilities: ${(error as Error).message}` }));
    }
  }
}
