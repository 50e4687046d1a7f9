// Runs the health checks inside a training session and emits their findings as `finding` events; a check that fails
// is reported as a warning and never stops training.
import type * as tfl from '@tensorflow/tfjs-layers';
import type { ResolvedConfig } from '../../config/resolve';
import type { RunEvent } from '../../protocol/runEvents';
import type { EpochMetrics } from '../../protocol/runFolder';
import { sourceMasksOf } from '../health/doctor';
import { HealthMonitor, type MonitorBatch } from '../health/monitor';
import type { LossFunction } from '../health/probes/lossProbes';
import type { WatchImage } from './watchImages';

export class SessionHealth {
  private readonly monitor?: HealthMonitor;
  private staticDone = false;

  constructor(
    private readonly cfg: ResolvedConfig,
    private readonly configDir: string,
    model: tfl.LayersModel,
    loss: LossFunction,
    private readonly emit: (event: RunEvent) => void,
  ) {
    this.monitor = this.guard('set up', () => new HealthMonitor(cfg, model, loss));
  }

  /** Static rules and probes, once per session, with its first training batch (before that batch's step). */
  async beforeFirstStep(batch: MonitorBatch & { ids: string[] }, classPixelCounts?: () => Promise<number[]>): Promise<void> {
    if (this.staticDone || !this.monitor) return;
    this.staticDone = true;
    let sourceMasks: Uint8Array[] | undefined;
    let counts: number[] | undefined;
    try {
      sourceMasks = await sourceMasksOf(this.cfg, this.configDir, batch.ids);
      counts = await classPixelCounts?.();
    } catch {
      // Without the source masks or class counts the two rules that need them stay silent; the rest still run.
    }
    const monitor = this.monitor;
    this.report('static checks', () => monitor.beforeFirstStep(batch, { sourceMasks, classPixelCounts: counts }));
  }

  afterStep(epoch: number, batch: number, loss: number, gradNorms?: Record<string, number>): void {
    const monitor = this.monitor;
    if (monitor) this.report('batch checks', () => monitor.afterStep(epoch, batch, loss, gradNorms));
  }

  afterEpoch(metrics: EpochMetrics, watchImages: WatchImage[]): void {
    const monitor = this.monitor;
    if (!monitor) return;
    const size = this.cfg.data.inputSize;
    const images = new Float32Array(watchImages.length * size * size * 3);
    watchImages.forEach((w, i) => images.set(w.sample.image, i * size * size * 3));
    this.report('epoch checks', () => monitor.afterEpoch(metrics, { images, batchSize: watchImages.length, size }));
  }

  private report(what: string, check: () => ReturnType<HealthMonitor['afterStep']>): void {
    const findings = this.guard(what, check) ?? [];
    for (const finding of findings) this.emit({ type: 'finding', time: new Date().toISOString(), finding });
  }

  private guard<T>(what: string, work: () => T): T | undefined {
    try {
      return work();
    } catch (err) {
      this.emit({ type: 'warning', time: new Date().toISOString(), message: `health ${what} failed: ${(err as Error).message}` });
      return undefined;
    }
  }
}
