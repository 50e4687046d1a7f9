// Messages between the extension host and the run dashboard webview. Maps and activations travel as webview URIs of run-folder files, never as JSON arrays.
import type { Finding } from './runEvents';
import type { EpochMetrics, RunInfo } from './runFolder';

/** Everything the dashboard needs to draw a run; file paths are already webview URIs. */
export interface DashboardRun {
  info: RunInfo;
  /** Base URI of the run folder as the webview must load it (asWebviewUri). Relative runPaths are appended to it. */
  baseUri: string;
  /** Completed epochs' metrics, in order. */
  epochs: EpochMetrics[];
  findings: Finding[];
  /** True while a trainer writes to this run. */
  live: boolean;
  /** Absolute path of the run folder on the host; the page keeps it in its view state so the panel can be restored after a reload. */
  runDir?: string;
}

export type HostToWebview =
  /** Full state, sent after `ui/ready` and when the panel becomes visible again. */
  | { type: 'run/state'; run: DashboardRun | null }
  /** A new epoch is complete on disk. */
  | { type: 'epoch/added'; metrics: EpochMetrics }
  /** Live progress within an epoch. */
  | { type: 'batch/progress'; epoch: number; batch: number; batchesPerEpoch: number; loss: number; imagesPerSec: number }
  | { type: 'finding/added'; finding: Finding }
  /** Run status changed (paused, finished, crashed, ...). */
  | { type: 'run/status'; status: RunInfo['status'] }
  /** Jump the timeline to an epoch (e.g. the debugger paused there). */
  | { type: 'view/selectEpoch'; epoch: number }
  /** Select a layer in the feature-map view (e.g. from an editor hover). */
  | { type: 'view/selectLayer'; layer: string };

export type WebviewToHost =
  /** The page loaded and listens; the host answers with run/state. */
  | { type: 'ui/ready' }
  /** The user chose watch images in the panel's picker. */
  | { type: 'watch/setImages'; images: string[] }
  /** The user asked for a layer to be watched from the next epoch on. */
  | { type: 'watch/addLayer'; layer: string }
  /** Reveal a layer's name in segscope.json / model file. */
  | { type: 'layer/reveal'; layer: string }
  /** Timing report for the performance benchmark (epoch arrival → drawn). */
  | { type: 'perf/rendered'; epoch: number; ms: number }
  /** Something in the page failed; the host logs it. */
  | { type: 'ui/error'; message: string };
