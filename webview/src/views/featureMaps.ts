// Feature maps: every channel of the chosen layer for the chosen image and epoch, drawn into one canvas through a perceptual colour map; per-channel or per-layer normalisation; click a channel to enlarge it.
import { runPaths, type ActivationHeader } from '../../../src/protocol/runFolder';
import type { DashboardState } from '../model/dashboardState';
import { colormap, cssColor, type ColormapName } from '../model/colormap';
import { activationValue, drawChannel, drawFeatureGrid, type Normalisation } from '../model/featureGrid';
import { formatNumber, formatShape } from '../model/format';
import { gridLayout, tileAt, type GridLayout } from '../model/gridLayout';
import { imagePixel, paintImageCanvas } from '../canvas';
import { clear, el, section } from '../dom';
import { parseColor } from '../theme';
import { runChanged, type DashboardContext, type RenderReason, type View } from './view';

interface Loaded {
  key: string;
  header: ActivationHeader;
  data: Uint8Array;
  layout: GridLayout;
  order: number[];
}

export class FeatureMapsView implements View {
  readonly root: HTMLElement;
  private readonly body: HTMLElement;
  private readonly layerSelect = el('select', { id: 'feature-layer-select', 'aria-label': 'Layer' });
  private readonly imageSelect = el('select', { id: 'feature-image-select', 'aria-label': 'Image' });
  private readonly normSelect = el('select', { id: 'feature-norm', 'aria-label': 'Normalisation' },
    el('option', { value: 'channel', text: 'per channel' }), el('option', { value: 'layer', text: 'per layer' }));
  private readonly mapSelect = el('select', { id: 'feature-colormap', 'aria-label': 'Colour map' },
    el('option', { value: 'viridis', text: 'viridis' }), el('option', { value: 'magma', text: 'magma' }), el('option', { value: 'gray', text: 'gray' }));
  private readonly orderSelect = el('select', { id: 'feature-order', 'aria-label': 'Channel order' },
    el('option', { value: 'index', text: 'channel order' }), el('option', { value: 'strongest', text: 'strongest first' }));
  private readonly info = el('div', { id: 'feature-info', class: 'muted caption' });
  private readonly grid = el('canvas', { id: 'feature-grid', class: 'pixelated feature-grid' });
  private readonly hoverLine = el('div', { id: 'feature-hover', class: 'muted caption' });
  private readonly enlargedCanvas = el('canvas', { id: 'feature-enlarged-canvas', class: 'pixelated' });
  private readonly enlargedCaption = el('div', { class: 'caption' });
  private readonly enlarged = el('div', { id: 'feature-enlarged', class: 'enlarged', hidden: true });
  private readonly scaleBar = el('div', { id: 'feature-scale', class: 'scale-bar' });
  private readonly notice = el('div', { id: 'feature-notice', class: 'notice', hidden: true });
  private loaded: Loaded | undefined;
  private availableWidth = 600;
  private token = 0;
  /** Time of the last grid draw (ms), for the benchmark. */
  lastDrawMs = 0;

  constructor(private readonly context: DashboardContext) {
    const s = section('feature-maps', 'Feature maps');
    this.root = s.root;
    this.body = s.body;
    s.tools.append(this.layerSelect, this.imageSelect, this.normSelect, this.mapSelect, this.orderSelect);
    const close = el('button', { id: 'feature-enlarged-close', class: 'icon-button', title: 'Close', 'aria-label': 'Close', text: '×' });
    close.addEventListener('click', () => this.context.setView({ enlargedChannel: null }));
    this.enlarged.append(el('div', { class: 'enlarged-header' }, this.enlargedCaption, close), this.enlargedCanvas);
    this.body.append(this.notice, this.info, this.scaleBar, el('div', { class: 'feature-area' }, el('div', { class: 'grid-wrap' }, this.grid, this.hoverLine), this.enlarged));
    this.layerSelect.addEventListener('change', () => this.context.setView({ selectedLayer: this.layerSelect.value, enlargedChannel: null }));
    this.imageSelect.addEventListener('change', () => this.context.setView({ selectedImage: this.imageSelect.value }));
    this.normSelect.addEventListener('change', () => this.context.setView({ normalisation: this.normSelect.value as Normalisation }));
    this.mapSelect.addEventListener('change', () => this.context.setView({ colormap: this.mapSelect.value as ColormapName }));
    this.orderSelect.addEventListener('change', () => this.context.setView({ channelOrder: this.orderSelect.value as 'index' | 'strongest' }));
    this.grid.addEventListener('mousemove', (e) => this.hover(e));
    this.grid.addEventListener('mouseleave', () => { this.hoverLine.textContent = ''; });
    this.grid.addEventListener('click', (e) => {
      const channel = this.channelAt(e);
      if (channel !== undefined) this.context.setView({ enlargedChannel: channel });
    });
    new ResizeObserver(() => requestAnimationFrame(() => {
      const w = Math.floor(this.grid.parentElement!.clientWidth);
      if (w > 0 && Math.abs(w - this.availableWidth) > 8) {
        this.availableWidth = w;
        if (this.loaded) void this.draw(this.context.state());
      }
    })).observe(this.grid.parentElement!);
  }

  private fillSelects(state: DashboardState): void {
    const run = state.run!;
    clear(this.layerSelect);
    for (const layer of run.info.watch.layers) {
      const summary = run.info.model.layers.find((l) => l.name === layer);
      this.layerSelect.append(el('option', { value: layer, text: summary ? `${layer} (${formatShape(summary.outputShape)})` : layer }));
    }
    clear(this.imageSelect);
    for (const image of run.info.watch.images) this.imageSelect.append(el('option', { value: image.id, text: image.id }));
  }

  async render(state: DashboardState, previous: DashboardState | null, reason: RenderReason): Promise<void> {
    this.root.hidden = !state.run;
    if (!state.run) return;
    if (runChanged(state, previous)) { this.fillSelects(state); this.loaded = undefined; }
    const v = state.view, pv = previous?.view;
    if (v.selectedLayer && state.run.info.watch.layers.includes(v.selectedLayer)) this.layerSelect.value = v.selectedLayer;
    if (v.selectedImage) this.imageSelect.value = v.selectedImage;
    this.normSelect.value = v.normalisation;
    this.mapSelect.value = v.colormap;
    this.orderSelect.value = v.channelOrder;
    const changed = !pv || reason === 'theme' || runChanged(state, previous) || pv.selectedLayer !== v.selectedLayer || pv.selectedImage !== v.selectedImage
      || pv.selectedEpoch !== v.selectedEpoch || pv.normalisation !== v.normalisation || pv.colormap !== v.colormap || pv.channelOrder !== v.channelOrder
      || previous?.run?.epochs.length !== state.run.epochs.length;
    if (changed) await this.draw(state);
    else if (pv.enlargedChannel !== v.enlargedChannel) this.drawEnlarged(state);
  }

  private async draw(state: DashboardState): Promise<void> {
    const token = ++this.token;
    const run = state.run!;
    const { selectedLayer: layer, selectedImage: image, selectedEpoch: epoch } = state.view;
    const files = this.context.files();
    this.notice.hidden = true;
    if (!layer || !image || epoch === null || !files) { this.info.textContent = 'No activations yet.'; this.grid.hidden = true; return; }
    if (!run.info.watch.layers.includes(layer)) {
      this.grid.hidden = true;
      this.enlarged.hidden = true;
      this.info.textContent = '';
      const button = el('button', { id: 'watch-layer-button', class: 'button', text: `Watch "${layer}" from the next run` });
      button.addEventListener('click', () => this.context.post({ type: 'watch/addLayer', layer }));
      this.notice.replaceChildren(el('span', { text: `"${layer}" is not a watched layer of this run, so its activations were not saved. ` }), button);
      this.notice.hidden = false;
      return;
    }
    let activation: { header: ActivationHeader; data: Uint8Array };
    try {
      activation = await files.activation(runPaths.activation(epoch, image, layer), runPaths.activationHeader(epoch, image, layer));
    } catch (error) {
      if (token !== this.token) return;
      this.grid.hidden = true;
      this.info.textContent = `No activation saved for ${layer} on ${image} at epoch ${epoch} (${(error as Error).message}).`;
      return;
    }
    if (token !== this.token) return;
    const started = performance.now();
    const { header, data } = activation;
    const [h, w, channels] = header.shape;
    const layout = gridLayout(channels, w, h, this.availableWidth, { minTile: channels > 64 ? 20 : 32, maxTile: 128, gap: 1 });
    const order = state.view.channelOrder === 'strongest' && header.strongest.length === channels ? header.strongest : Array.from({ length: channels }, (_, i) => i);
    const lut = colormap(state.view.colormap);
    const background = parseColor(getComputedStyle(this.root).backgroundColor, parseColor(this.context.theme().background));
    paintImageCanvas(this.grid, layout.width, layout.height, (out) => drawFeatureGrid(data, header, out, { layout, mode: state.view.normalisation, lut, background, order }));
    this.grid.style.width = `${Math.round(layout.width * layout.scale)}px`;
    this.grid.style.height = `${Math.round(layout.height * layout.scale)}px`;
    this.grid.hidden = false;
    this.lastDrawMs = performance.now() - started;
    this.loaded = { key: `${epoch}/${image}/${layer}`, header, data, layout, order };
    Object.assign(this.grid.dataset, { layer, image, epoch: String(epoch), channels: String(channels), drawMs: this.lastDrawMs.toFixed(2) });
    let lo = Infinity, hi = -Infinity;
    for (let c = 0; c < channels; c++) { lo = Math.min(lo, header.min[c]); hi = Math.max(hi, header.max[c]); }
    this.info.textContent = `${layer} · ${formatShape(header.shape)} · ${channels} channels · ${image} · epoch ${epoch} · values ${formatNumber(lo)} … ${formatNumber(hi)} · ${state.view.normalisation === 'channel' ? 'each channel scaled to its own min…max' : 'one scale for the whole layer'} · drawn in ${this.lastDrawMs.toFixed(1)} ms`;
    this.drawScale(lut);
    this.drawEnlarged(state);
  }

  private drawScale(lut: Uint8Array): void {
    const stops = [0, 0.25, 0.5, 0.75, 1].map((t) => `${cssColor(lut, t)} ${t * 100}%`).join(', ');
    this.scaleBar.style.background = `linear-gradient(to right, ${stops})`;
  }

  private channelAt(event: MouseEvent): number | undefined {
    if (!this.loaded) return undefined;
    const p = imagePixel(this.grid, event);
    if (!p) return undefined;
    const tile = tileAt(this.loaded.layout, p.x, p.y);
    return tile < 0 ? undefined : this.loaded.order[tile];
  }

  private hover(event: MouseEvent): void {
    const loaded = this.loaded;
    const p = imagePixel(this.grid, event);
    if (!loaded || !p) return;
    const tile = tileAt(loaded.layout, p.x, p.y);
    if (tile < 0) { this.hoverLine.textContent = ''; return; }
    const channel = loaded.order[tile];
    const x = p.x % (loaded.layout.tileWidth + loaded.layout.gap), y = p.y % (loaded.layout.tileHeight + loaded.layout.gap);
    const value = activationValue(loaded.data, loaded.header, channel, x, y);
    this.hoverLine.textContent = `channel ${channel} · (${x}, ${y}) = ${formatNumber(value)} · channel range ${formatNumber(loaded.header.min[channel])} … ${formatNumber(loaded.header.max[channel])} · click to enlarge`;
  }

  private drawEnlarged(state: DashboardState): void {
    const channel = state.view.enlargedChannel;
    const loaded = this.loaded;
    if (channel === null || !loaded || channel >= loaded.header.shape[2]) { this.enlarged.hidden = true; return; }
    const [h, w] = loaded.header.shape;
    paintImageCanvas(this.enlargedCanvas, w, h, (out) => drawChannel(loaded.data, loaded.header, channel, state.view.normalisation, colormap(state.view.colormap), out));
    const size = Math.min(320, Math.max(160, w * 4));
    this.enlargedCanvas.style.width = `${size}px`;
    this.enlargedCanvas.style.height = `${Math.round((size * h) / w)}px`;
    this.enlargedCanvas.dataset.channel = String(channel);
    this.enlargedCaption.textContent = `channel ${channel} · ${formatNumber(loaded.header.min[channel])} … ${formatNumber(loaded.header.max[channel])}`;
    this.enlarged.hidden = false;
  }
}
