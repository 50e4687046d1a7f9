// Dashboard page entry: says ui/ready, applies host messages to the state, keeps the view state with setState, and renders the views; reports epoch-arrival → drawn timings.
import type { HostToWebview } from '../../src/protocol/webview';
import { DEFAULT_VIEW, reduce, restoreView, selectEpoch, type DashboardState, type ViewState } from './model/dashboardState';
import { el } from './dom';
import { RunFiles } from './runFiles';
import { onThemeChange, themeColors, type ThemeColors } from './theme';
import { loadViewState, postToHost, saveViewState } from './vscodeApi';
import { ChartsView } from './views/charts';
import { ConfusionView } from './views/confusion';
import { FeatureMapsView } from './views/featureMaps';
import { HeaderView } from './views/header';
import { HealthView } from './views/health';
import { LayersView } from './views/layers';
import type { DashboardContext, RenderReason, View } from './views/view';
import { WatchImagesView } from './views/watchImages';

class Dashboard implements DashboardContext {
  private current: DashboardState;
  private runFiles: RunFiles | null = null;
  private themeCache: ThemeColors | null = null;
  private readonly views: View[];
  private readonly featureMaps: FeatureMapsView;
  private readonly empty = el('div', { id: 'empty-state', class: 'empty-state' },
    el('h1', { text: 'SegScope' }),
    el('p', { text: 'No run to show yet. Run "SegScope: Start Training" or "SegScope: Open Run…" from the Command Palette.' }));
  private renderChain: Promise<void> = Promise.resolve();

  constructor(root: HTMLElement) {
    this.current = { run: null, progress: null, view: restoreView(loadViewState() ?? DEFAULT_VIEW) };
    const header = new HeaderView(this);
    const watch = new WatchImagesView(this);
    const charts = new ChartsView(this);
    const confusion = new ConfusionView(this);
    const health = new HealthView(this);
    const layers = new LayersView(this);
    this.featureMaps = new FeatureMapsView(this);
    this.views = [header, watch, charts, confusion, health, layers, this.featureMaps];
    root.append(this.empty, header.root, el('main', { class: 'dashboard' },
      watch.root,
      el('div', { class: 'two-columns layers-and-features' }, layers.root, this.featureMaps.root),
      charts.root,
      el('div', { class: 'two-columns' }, confusion.root, health.root)));
    onThemeChange(() => { this.themeCache = null; this.render(this.current, 'theme'); });
    window.addEventListener('message', (event: MessageEvent<HostToWebview>) => this.receive(event.data));
    window.addEventListener('error', (e) => {
      // Chromium reports a benign "ResizeObserver loop" error when an observer's callback changes layout; it is not a failure.
      if (/ResizeObserver loop/.test(String(e.message))) return;
      this.reportError(e.error ?? e.message);
    });
    window.addEventListener('unhandledrejection', (e) => this.reportError(e.reason));
    this.render(null, 'state');
    postToHost({ type: 'ui/ready' });
  }

  state(): DashboardState {
    return this.current;
  }

  files(): RunFiles | null {
    return this.runFiles;
  }

  theme(): ThemeColors {
    return (this.themeCache ??= themeColors());
  }

  setView(change: Partial<ViewState>): void {
    const previous = this.current;
    this.current = { ...previous, view: { ...previous.view, ...change } };
    this.render(previous, 'view');
  }

  selectEpoch(epoch: number): void {
    const previous = this.current;
    this.current = selectEpoch(previous, epoch);
    this.render(previous, 'view');
  }

  post(message: Parameters<typeof postToHost>[0]): void {
    postToHost(message);
  }

  reportError(error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    console.error(error);
    postToHost({ type: 'ui/error', message });
  }

  private receive(message: HostToWebview): void {
    if (!message || typeof message.type !== 'string') return;
    const arrived = performance.now();
    const previous = this.current;
    this.current = reduce(previous, message);
    if (message.type === 'run/state') {
      const base = message.run?.baseUri ?? null;
      if (base !== this.runFiles?.baseUri) this.runFiles = base ? new RunFiles(base) : null;
    }
    const done = this.render(previous, 'state');
    if (message.type === 'epoch/added' || message.type === 'run/state') {
      const epoch = message.type === 'epoch/added' ? message.metrics.epoch : this.current.view.selectedEpoch;
      void done.then(() => {
        const ms = performance.now() - arrived;
        document.body.dataset.renderedEpoch = String(epoch ?? '');
        document.body.dataset.ready = 'true';
        if (epoch !== null && epoch !== undefined) postToHost({ type: 'perf/rendered', epoch, ms: Math.round(ms * 10) / 10 });
        window.dispatchEvent(new CustomEvent('segscope-rendered', { detail: { epoch, ms, featureGridMs: this.featureMaps.lastDrawMs } }));
      });
    }
  }

  /** Renders every view in order of arrival; the promise settles when all views show the current state. */
  private render(previous: DashboardState | null, reason: RenderReason): Promise<void> {
    saveViewState(this.current.view);
    const state = this.current;
    this.empty.hidden = !!state.run;
    const run = () => Promise.all(this.views.map(async (v) => {
      try { await v.render(state, previous, reason); } catch (error) { this.reportError(error); }
    })).then(() => undefined);
    // Synchronous parts run now; asynchronous loads of an older render are dropped by the views' own tokens.
    this.renderChain = run();
    return this.renderChain;
  }
}

new Dashboard(document.getElementById('segscope-root') ?? document.body.appendChild(el('div', { id: 'segscope-root' })));
