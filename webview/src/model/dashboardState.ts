// The dashboard's state: the run as the host last described it, live progress, and the view state the page keeps across reloads (getState/setState). Pure reducer, DOM-free.
import type { Finding } from '../../../src/protocol/runEvents';
import type { EpochMetrics, RunInfo } from '../../../src/protocol/runFolder';
import type { DashboardRun, HostToWebview } from '../../../src/protocol/webview';
import { assertNever } from '../../../src/protocol/rpc';
import type { ColormapName } from './colormap';
import type { Normalisation } from './featureGrid';

/** What the page remembers about how the user looks at the run (never run data). */
export interface ViewState {
  runDir: string | null;
  /** Epoch shown by maps, confusion matrix and feature maps; null = none yet. */
  selectedEpoch: number | null;
  followLatest: boolean;
  /** Watch image whose feature maps and layer thumbnails are shown. */
  selectedImage: string | null;
  selectedLayer: string | null;
  hiddenClasses: number[];
  overlayOpacity: number;
  normalisation: Normalisation;
  colormap: ColormapName;
  channelOrder: 'index' | 'strongest';
  enlargedChannel: number | null;
}

export interface BatchProgressView {
  epoch: number;
  batch: number;
  batchesPerEpoch: number;
  loss: number;
  imagesPerSec: number;
}

export interface DashboardState {
  run: DashboardRun | null;
  progress: BatchProgressView | null;
  view: ViewState;
}

export const DEFAULT_VIEW: ViewState = {
  runDir: null, selectedEpoch: null, followLatest: true, selectedImage: null, selectedLayer: null, hiddenClasses: [],
  overlayOpacity: 0.5, normalisation: 'channel', colormap: 'viridis', channelOrder: 'index', enlargedChannel: null,
};

/** A restored view state, with anything missing or malformed replaced by defaults. */
export function restoreView(saved: unknown): ViewState {
  const s = (saved && typeof saved === 'object' ? saved : {}) as Partial<ViewState>;
  const pick = <K extends keyof ViewState>(key: K, ok: (v: unknown) => boolean): ViewState[K] => (ok(s[key]) ? (s[key] as ViewState[K]) : DEFAULT_VIEW[key]);
  const isNumOrNull = (v: unknown) => v === null || typeof v === 'number';
  const isStrOrNull = (v: unknown) => v === null || typeof v === 'string';
  return {
    runDir: pick('runDir', isStrOrNull),
    selectedEpoch: pick('selectedEpoch', isNumOrNull),
    followLatest: pick('followLatest', (v) => typeof v === 'boolean'),
    selectedImage: pick('selectedImage', isStrOrNull),
    selectedLayer: pick('selectedLayer', isStrOrNull),
    hiddenClasses: pick('hiddenClasses', (v) => Array.isArray(v) && v.every((x) => typeof x === 'number')),
    overlayOpacity: pick('overlayOpacity', (v) => typeof v === 'number' && v >= 0 && v <= 1),
    normalisation: pick('normalisation', (v) => v === 'channel' || v === 'layer'),
    colormap: pick('colormap', (v) => v === 'viridis' || v === 'magma' || v === 'gray'),
    channelOrder: pick('channelOrder', (v) => v === 'index' || v === 'strongest'),
    enlargedChannel: pick('enlargedChannel', isNumOrNull),
  };
}

export function latestEpoch(run: DashboardRun | null): number | null {
  return run && run.epochs.length ? run.epochs[run.epochs.length - 1].epoch : null;
}

export function metricsAt(run: DashboardRun | null, epoch: number | null): EpochMetrics | undefined {
  if (!run || epoch === null) return undefined;
  return run.epochs.find((e) => e.epoch === epoch);
}

/** Makes the view consistent with the run: a valid epoch, image and layer. */
export function reconcileView(view: ViewState, run: DashboardRun | null): ViewState {
  if (!run) return view;
  const latest = latestEpoch(run);
  const epochs = run.epochs.map((e) => e.epoch);
  let selectedEpoch = view.selectedEpoch;
  if (view.followLatest || selectedEpoch === null || !epochs.includes(selectedEpoch)) {
    selectedEpoch = view.followLatest || selectedEpoch === null ? latest : nearest(epochs, selectedEpoch);
  }
  const images = run.info.watch.images.map((i) => i.id);
  const layers = run.info.watch.layers;
  const sameRun = view.runDir === (run.runDir ?? view.runDir);
  return {
    ...view,
    runDir: run.runDir ?? view.runDir,
    selectedEpoch,
    selectedImage: view.selectedImage && images.includes(view.selectedImage) ? view.selectedImage : images[0] ?? null,
    selectedLayer: view.selectedLayer && run.info.model.layers.some((l) => l.name === view.selectedLayer) ? view.selectedLayer : layers[0] ?? null,
    hiddenClasses: sameRun ? view.hiddenClasses.filter((c) => run.info.classes.some((k) => k.id === c)) : [],
  };
}

function nearest(values: number[], target: number): number | null {
  let best: number | null = null;
  for (const v of values) if (best === null || Math.abs(v - target) < Math.abs(best - target)) best = v;
  return best;
}

/** Applies a host message. Returns a new state; the run object is copied only where it changes. */
export function reduce(state: DashboardState, message: HostToWebview): DashboardState {
  switch (message.type) {
    case 'run/state':
      return { run: message.run, progress: null, view: reconcileView(state.view, message.run) };
    case 'epoch/added': {
      if (!state.run) return state;
      const epochs = state.run.epochs.filter((e) => e.epoch !== message.metrics.epoch);
      epochs.push(message.metrics);
      epochs.sort((a, b) => a.epoch - b.epoch);
      const info: RunInfo = { ...state.run.info, epochsDone: Math.max(state.run.info.epochsDone, message.metrics.epoch) };
      const run = { ...state.run, info, epochs };
      return { ...state, run, view: reconcileView(state.view, run) };
    }
    case 'batch/progress':
      return { ...state, progress: { epoch: message.epoch, batch: message.batch, batchesPerEpoch: message.batchesPerEpoch, loss: message.loss, imagesPerSec: message.imagesPerSec } };
    case 'finding/added': {
      if (!state.run) return state;
      const findings: Finding[] = [...state.run.findings, message.finding];
      return { ...state, run: { ...state.run, findings } };
    }
    case 'run/status': {
      if (!state.run) return state;
      const live = message.status === 'running' || message.status === 'paused';
      return { ...state, run: { ...state.run, live, info: { ...state.run.info, status: message.status } }, progress: live ? state.progress : null };
    }
    case 'view/selectEpoch':
      return { ...state, view: reconcileView({ ...state.view, selectedEpoch: message.epoch, followLatest: false }, state.run) };
    case 'view/selectLayer':
      return { ...state, view: { ...state.view, selectedLayer: message.layer, enlargedChannel: null } };
    default:
      return assertNever(message, 'host message');
  }
}

/** Applies a change the user made in the page (moving the slider turns "follow latest" off unless it lands on the latest epoch). */
export function selectEpoch(state: DashboardState, epoch: number): DashboardState {
  const latest = latestEpoch(state.run);
  return { ...state, view: reconcileView({ ...state.view, selectedEpoch: epoch, followLatest: epoch === latest && state.view.followLatest }, state.run) };
}
