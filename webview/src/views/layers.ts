// Layers of the model in order (name, type, output shape, params, frozen) with a small activation summary; hovering a layer shows its statistics and its strongest channels, clicking opens it in the feature-map view.
import { runPaths, type LayerStats, type LayerSummary } from '../../../src/protocol/runFolder';
import type { DashboardState } from '../model/dashboardState';
import { metricsAt } from '../model/dashboardState';
import { colormap } from '../model/colormap';
import { drawChannel } from '../model/featureGrid';
import { formatCount, formatNumber, formatPercent, formatShape } from '../model/format';
import { paintImageCanvas } from '../canvas';
import { clear, el, placeTooltip, section } from '../dom';
import { runChanged, type DashboardContext, type RenderReason, type View } from './view';

const THUMBNAILS = 6;

export class LayersView implements View {
  readonly root: HTMLElement;
  private readonly list = el('div', { id: 'layers-list', class: 'layers-list', role: 'list' });
  private readonly tooltip = el('div', { id: 'layer-tooltip', class: 'tooltip layer-tooltip', role: 'tooltip', hidden: true });
  private readonly filter = el('input', { id: 'layers-filter', type: 'search', placeholder: 'filter layers', 'aria-label': 'Filter layers' });
  private rows = new Map<string, { row: HTMLElement; summary: HTMLElement; bar: HTMLElement }>();
  private hoverToken = 0;

  constructor(private readonly context: DashboardContext) {
    const s = section('layers', 'Layers');
    this.root = s.root;
    s.tools.append(this.filter);
    s.body.append(
      el('div', { class: 'layer-row layer-heading' }, el('span', { text: 'layer' }), el('span', { text: 'output' }), el('span', { text: 'params' }), el('span', { text: 'mean · zeros' })),
      this.list);
    document.body.append(this.tooltip);
    this.filter.addEventListener('input', () => {
      const q = this.filter.value.toLowerCase();
      for (const [name, r] of this.rows) r.row.hidden = !!q && !name.toLowerCase().includes(q);
    });
    this.list.addEventListener('mouseleave', () => { this.tooltip.hidden = true; this.hoverToken++; });
  }

  private build(state: DashboardState): void {
    clear(this.list);
    this.rows.clear();
    const run = state.run!;
    const watched = new Set(run.info.watch.layers);
    for (const layer of run.info.model.layers) {
      const summary = el('span', { class: 'layer-summary' });
      const bar = el('span', { class: 'zeros-fill' });
      const row = el('div', {
        class: 'layer-row', role: 'listitem', tabindex: 0, 'data-layer': layer.name, 'data-watched': String(watched.has(layer.name)),
        'data-frozen': String(!layer.trainable),
      },
      el('span', { class: 'layer-name' },
        el('span', { class: 'layer-title', text: layer.name }),
        el('span', { class: 'layer-class muted', text: ` ${layer.className}` }),
        !layer.trainable && el('span', { class: 'chip chip-frozen', title: 'frozen: not trained', text: 'frozen' }),
        watched.has(layer.name) && el('span', { class: 'chip chip-watched', title: 'activations saved each epoch', text: 'watched' })),
      el('span', { class: 'layer-shape', text: formatShape(layer.outputShape) }),
      el('span', { class: 'layer-params', text: formatCount(layer.params) }),
      el('span', { class: 'layer-stats' }, summary, el('span', { class: 'zeros-bar', title: '% zeros' }, bar)));
      row.addEventListener('mouseenter', (e) => void this.showTooltip(layer, e));
      row.addEventListener('mousemove', (e) => { if (!this.tooltip.hidden) placeTooltip(this.tooltip, e.clientX, e.clientY); });
      row.addEventListener('focus', () => { const r = row.getBoundingClientRect(); void this.showTooltip(layer, { clientX: r.right - 40, clientY: r.top } as MouseEvent); });
      row.addEventListener('blur', () => { this.tooltip.hidden = true; });
      row.addEventListener('click', () => this.open(layer.name));
      row.addEventListener('keydown', (e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); this.open(layer.name); } });
      this.list.append(row);
      this.rows.set(layer.name, { row, summary, bar });
    }
  }

  private open(layer: string): void {
    this.context.setView({ selectedLayer: layer, enlargedChannel: null });
    document.getElementById('feature-maps')?.scrollIntoView({ behavior: 'smooth', block: 'start' });
  }

  render(state: DashboardState, previous: DashboardState | null, _reason: RenderReason): void {
    this.root.hidden = !state.run;
    if (!state.run) return;
    if (runChanged(state, previous)) this.build(state);
    const metrics = metricsAt(state.run, state.view.selectedEpoch);
    for (const [name, r] of this.rows) {
      const stats = metrics?.layers[name];
      r.summary.textContent = stats ? `${formatNumber(stats.mean, 2)} · ${formatPercent(stats.zeros, 0)}` : '—';
      r.bar.style.width = `${Math.round((stats?.zeros ?? 0) * 100)}%`;
      r.bar.classList.toggle('high', (stats?.zeros ?? 0) > 0.9);
      r.row.classList.toggle('selected', name === state.view.selectedLayer);
    }
  }

  private async showTooltip(layer: LayerSummary, event: MouseEvent): Promise<void> {
    const token = ++this.hoverToken;
    const state = this.context.state();
    const run = state.run;
    if (!run) return;
    const epoch = state.view.selectedEpoch;
    const stats = metricsAt(run, epoch)?.layers[layer.name];
    const watched = run.info.watch.layers.includes(layer.name);
    const thumbs = el('div', { class: 'layer-thumbs' });
    this.tooltip.replaceChildren(
      el('div', { class: 'readout-title', text: layer.name }),
      el('div', { class: 'muted', text: `${layer.className} · output ${formatShape(layer.outputShape)} · ${formatCount(layer.params)} params · ${layer.trainable ? 'trainable' : 'frozen'}` }),
      stats ? statsTable(stats, epoch) : el('div', { class: 'muted', text: 'No statistics at this epoch.' }),
      thumbs,
    );
    this.tooltip.dataset.layer = layer.name;
    placeTooltip(this.tooltip, event.clientX, event.clientY);
    const image = state.view.selectedImage;
    const files = this.context.files();
    if (!watched || !image || epoch === null || !files) {
      thumbs.append(el('div', { class: 'muted', text: watched ? '' : 'Not watched: no saved activations (click to open, then watch it).' }));
      return;
    }
    thumbs.append(el('div', { class: 'muted', text: `strongest channels on ${image}:` }));
    try {
      const { header, data } = await files.activation(runPaths.activation(epoch, image, layer.name), runPaths.activationHeader(epoch, image, layer.name));
      if (token !== this.hoverToken) return;
      const lut = colormap(state.view.colormap);
      const [h, w] = header.shape;
      const strip = el('div', { class: 'thumb-strip' });
      for (const channel of header.strongest.slice(0, THUMBNAILS)) {
        const canvas = el('canvas', { class: 'layer-thumb pixelated', 'data-channel': channel, title: `channel ${channel}` });
        paintImageCanvas(canvas, w, h, (out) => drawChannel(data, header, channel, 'channel', lut, out));
        strip.append(el('figure', { class: 'thumb' }, canvas, el('figcaption', { text: `#${channel}` })));
      }
      thumbs.append(strip);
      placeTooltip(this.tooltip, event.clientX, event.clientY);
    } catch (error) {
      if (token === this.hoverToken) thumbs.append(el('div', { class: 'muted', text: `no activation file: ${(error as Error).message}` }));
    }
  }
}

function statsTable(stats: LayerStats, epoch: number | null): HTMLElement {
  const cells: [string, string][] = [
    ['mean', formatNumber(stats.mean)], ['std', formatNumber(stats.std)], ['min', formatNumber(stats.min)], ['max', formatNumber(stats.max)],
    ['zeros', formatPercent(stats.zeros)], ['saturated', formatPercent(stats.saturated)],
    ['grad norm', formatNumber(stats.gradNorm)], ['update/weight', formatNumber(stats.updateRatio)],
  ];
  return el('div', { class: 'stats-grid', 'data-epoch': String(epoch ?? '') },
    ...cells.flatMap(([k, v]) => [el('span', { class: 'muted', text: k }), el('span', { class: 'stat-value', 'data-stat': k, text: v })]));
}
