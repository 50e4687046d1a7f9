// The host's copy of one run: read from its folder (any run, also old or foreign ones) and kept up to date from live trainer events; turns events into dashboard messages. Pure Node: no vscode.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Finding, RunEvent } from '../protocol/runEvents';
import { runPaths, type EpochMetrics, type LayerStats, type RunInfo } from '../protocol/runFolder';
import type { DashboardRun, HostToWebview } from '../protocol/webview';
import { assertNever } from '../protocol/rpc';

export interface BatchProgress {
  epoch: number;
  batch: number;
  batchesPerEpoch: number;
  loss: number;
  imagesPerSec: number;
}

/** Reads run.json, every complete epoch's metrics.json and the findings in events.jsonl. Throws with a clear message when run.json is missing. */
export async function readRunFolder(runDir: string): Promise<{ info: RunInfo; epochs: EpochMetrics[]; findings: Finding[] }> {
  let info: RunInfo;
  try {
    info = JSON.parse(await readFile(path.join(runDir, runPaths.info), 'utf8')) as RunInfo;
  } catch (error) {
    throw new Error(`${runDir} is not a SegScope run folder (run.json: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  let names: string[] = [];
  try { names = await readdir(path.join(runDir, 'epochs')); } catch { /* no epoch yet */ }
  const epochNumbers = names.filter((n) => /^\d{4}$/.test(n)).map(Number).sort((a, b) => a - b);
  const epochs: EpochMetrics[] = [];
  for (const epoch of epochNumbers) {
    try { epochs.push(JSON.parse(await readFile(path.join(runDir, runPaths.metrics(epoch)), 'utf8')) as EpochMetrics); }
    catch { /* an epoch folder without metrics is skipped: it may be from an interrupted write */ }
  }
  const findings: Finding[] = [];
  try {
    const lines = (await readFile(path.join(runDir, runPaths.events), 'utf8')).split('\n');
    for (const line of lines) {
      if (!line.trim()) continue;
      try {
        const event = JSON.parse(line) as RunEvent;
        if (event.type === 'finding') findings.push(event.finding);
      } catch { /* a torn last line while the trainer writes */ }
    }
  } catch { /* no events file */ }
  return { info, epochs, findings };
}

export class RunHistory {
  progress: BatchProgress | undefined;
  private batchesPerEpoch = 0;

  constructor(
    readonly runDir: string,
    public info: RunInfo,
    readonly epochs: EpochMetrics[],
    readonly findings: Finding[],
    public live: boolean,
  ) {}

  static async load(runDir: string, live: boolean): Promise<RunHistory> {
    const { info, epochs, findings } = await readRunFolder(runDir);
    return new RunHistory(runDir, info, epochs, findings, live);
  }

  get latestEpoch(): EpochMetrics | undefined {
    return this.epochs[this.epochs.length - 1];
  }

  /** The latest statistics of a layer, with the epoch they come from. */
  latestLayerStats(layer: string): { epoch: number; stats: LayerStats } | undefined {
    for (let i = this.epochs.length - 1; i >= 0; i--) {
      const stats = this.epochs[i].layers[layer];
      if (stats) return { epoch: this.epochs[i].epoch, stats };
    }
    return undefined;
  }

  toDashboard(baseUri: string): DashboardRun {
    return { info: this.info, baseUri, epochs: this.epochs, findings: this.findings, live: this.live };
  }

  /** Applies a live event and returns the messages the dashboard needs. */
  apply(event: RunEvent): HostToWebview[] {
    switch (event.type) {
      case 'run/start':
        this.batchesPerEpoch = event.batchesPerEpoch;
        this.live = true;
        this.info = { ...this.info, status: 'running' };
        return [{ type: 'run/status', status: 'running' }];
      case 'batch/end':
        this.progress = { epoch: event.epoch, batch: event.batch, batchesPerEpoch: this.batchesPerEpoch, loss: event.loss, imagesPerSec: event.imagesPerSec };
        return [{ type: 'batch/progress', ...this.progress }];
      case 'epoch/end': {
        const existing = this.epochs.findIndex((e) => e.epoch === event.epoch);
        if (existing >= 0) this.epochs[existing] = event.metrics;
        else { this.epochs.push(event.metrics); this.epochs.sort((a, b) => a.epoch - b.epoch); }
        this.info = { ...this.info, epochsDone: Math.max(this.info.epochsDone, event.epoch) };
        return [{ type: 'epoch/added', metrics: event.metrics }];
      }
      case 'finding':
        this.findings.push(event.finding);
        return [{ type: 'finding/added', finding: event.finding }];
      case 'run/end': {
        this.live = false;
        const status = event.status === 'early-stopped' ? 'finished' : event.status;
        this.info = { ...this.info, status };
        return [{ type: 'run/status', status }];
      }
      case 'data/skipped':
      case 'warning':
      case 'checkpoint':
        return [];
      default:
        return assertNever(event, 'run event');
    }
  }

  /** Marks the run as paused/running/crashed from the trainer's state (not every state change is an event). */
  setStatus(status: RunInfo['status']): HostToWebview[] {
    if (this.info.status === status) return [];
    this.info = { ...this.info, status };
    if (status !== 'running' && status !== 'paused') this.live = false;
    return [{ type: 'run/status', status }];
  }
}
