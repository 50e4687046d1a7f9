// Opens a split of a VOC-layout or image/mask-folder dataset and streams preprocessed, prefetched batches as typed arrays.
import path from 'node:path';
import type { ResolvedConfig } from '../../config/resolve';
import type { RunEvent } from '../../protocol/runEvents';
import { DecodeWorker } from './decodePool';
import { listSplit, type SampleFiles } from './layout';
import { vocColorToClass } from './palette';
import { normalizeRgb } from './preprocess';
import { hashSeed, seededRandom, shuffled } from './random';
import {
  loadSample, placementFor, renderJob, renderLoaded, type LoadedSample, type RenderJob, type RenderResult, type RenderSettings,
} from './sampleRenderer';

export type { LoadedSample } from './sampleRenderer';

export interface SegSample {
  id: string;
  /** H*W*3 preprocessed, before normalisation. */
  rgb: Uint8Array;
  /** H*W*3 normalised. */
  image: Float32Array;
  /** H*W labels, ignore label included. */
  mask: Uint8Array;
}

export interface SegBatch {
  ids: string[];
  /** B*S*S*3 */
  images: Float32Array;
  /** B*S*S */
  masks: Int32Array;
  batchSize: number;
  size: number;
}

export interface BatchOptions {
  batchSize: number;
  shuffle: boolean;
  augment: boolean;
  seed: number;
  epoch: number;
  /** Drop a last batch smaller than batchSize. Default false. */
  dropLast?: boolean;
  /** Stop after this many batches. */
  limitBatches?: number;
}

export interface Dataset {
  split: string;
  /** Ids of the samples not (yet) found unreadable. */
  ids: string[];
  /** Input side. */
  size: number;
  batches(opts: BatchOptions): AsyncGenerator<SegBatch>;
  /** Deterministic, no augmentation: resize keeping the aspect ratio, pad, centre. */
  sample(id: string): Promise<SegSample>;
  /** Pixels per class (0..C-1) over the split's masks at their original size; void and out-of-range values excluded. */
  classPixelCounts?(): Promise<number[]>;
  /** Stops the decode worker (optional: an idle worker never keeps the process alive). */
  close?(): Promise<void>;
}

export interface OpenOptions {
  /** Decode on a worker thread (default true; falls back to the calling thread if the worker script is missing). */
  decodeWorker?: boolean;
}

/**
 * Opens the train or val split named in the config. Missing files are reported as `data/skipped` events; a split that
 * names nothing readable throws an error naming the split file.
 */
export async function openDataset(
  cfg: ResolvedConfig, configDir: string, split: 'train' | 'val', onEvent?: (e: RunEvent) => void, options: OpenOptions = {},
): Promise<Dataset> {
  const root = path.resolve(configDir, cfg.data.root);
  const splitName = split === 'train' ? cfg.data.trainSplit : cfg.data.valSplit;
  const listing = listSplit(cfg.data, root, splitName);
  const emit = onEvent ?? (() => undefined);
  for (const m of listing.missing) emit({ type: 'data/skipped', time: new Date().toISOString(), file: m.file, why: m.why });
  const samples = cfg.data.limit ? listing.samples.slice(0, cfg.data.limit) : listing.samples;
  const dataset = new FileDataset(splitName, samples, cfg, emit, options.decodeWorker ?? true);
  if (!(await dataset.firstReadable())) {
    throw new Error(`split '${splitName}' (${listing.source}) names no readable image/mask pair `
      + `(${listing.samples.length} listed with both files, ${listing.missing.length} files missing)`);
  }
  return dataset;
}

/** The plain-data part of the config that rendering needs. */
export function renderSettings(cfg: ResolvedConfig): RenderSettings {
  const { inputSize, ignoreLabel, maskResize, normalize, augment } = cfg.data;
  return {
    inputSize, ignoreLabel, maskResize, normalize, augment,
    colorToClass: cfg.data.colorToClass ?? vocColorToClass(cfg.numClasses, ignoreLabel),
  };
}

/** Lets other work (the training step, I/O) run between two decodes on the calling thread. */
const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

class FileDataset implements Dataset {
  readonly size: number;
  private readonly settings: RenderSettings;
  private readonly unreadable = new Set<string>();
  private pixelCounts?: Promise<number[]>;
  private closed = false;
  /** Started on the first batch; null when decoding on this thread. */
  private worker?: DecodeWorker | null;

  constructor(
    readonly split: string,
    private readonly samples: SampleFiles[],
    private readonly cfg: ResolvedConfig,
    private readonly emit: (e: RunEvent) => void,
    private readonly useWorker: boolean,
  ) {
    this.size = cfg.data.inputSize;
    this.settings = renderSettings(cfg);
  }

  get ids(): string[] {
    return this.samples.filter((s) => !this.unreadable.has(s.id)).map((s) => s.id);
  }

  /** Loads samples in order until one is readable (reporting the bad ones); false if none is. */
  async firstReadable(): Promise<boolean> {
    for (const files of this.samples) {
      if (await this.tryLoad(files)) return true;
    }
    return false;
  }

  async *batches(opts: BatchOptions): AsyncGenerator<SegBatch> {
    const order = opts.shuffle
      ? shuffled(this.samples, seededRandom(hashSeed(opts.seed, opts.epoch, 'shuffle')))
      : this.samples.slice();
    let cursor = 0;
    let made = 0;
    let abandoned = false;
    const stopped = () => abandoned || this.closed;
    const produceNext = async (): Promise<SegBatch | null> => {
      if (stopped() || (opts.limitBatches !== undefined && made >= opts.limitBatches)) return null;
      const picked: { id: string; rgb: Uint8Array; mask: Uint8Array }[] = [];
      while (picked.length < opts.batchSize && cursor < order.length) {
        // Ask for as many as are missing at once (the worker queues them); bad files are replaced by the next ones.
        const jobs: RenderJob[] = [];
        while (jobs.length < opts.batchSize - picked.length && cursor < order.length) {
          const files = order[cursor++];
          if (!this.unreadable.has(files.id)) jobs.push({ files, augment: opts.augment, seed: opts.seed, epoch: opts.epoch });
        }
        const results = await Promise.all(jobs.map((job) => this.render(job)));
        if (stopped()) return null;
        for (const result of results) {
          if (result.ok) picked.push(result);
          else this.markUnreadable(result.id, result.file, result.why);
        }
      }
      if (picked.length === 0 || (opts.dropLast && picked.length < opts.batchSize)) return null;
      made++;
      return this.assemble(picked);
    };
    // One batch ahead: the next batch is read and decoded while the consumer works on the current one.
    const ahead = () => {
      const next = produceNext();
      next.catch(() => undefined); // an abandoned prefetch must not become an unhandled rejection
      return next;
    };
    let pending = ahead();
    try {
      while (true) {
        const batch = await pending;
        if (!batch) return;
        pending = ahead();
        yield batch;
      }
    } finally {
      // The consumer stopped early (break, limit, error): the prefetch in flight starts nothing new.
      abandoned = true;
    }
  }

  async sample(id: string): Promise<SegSample> {
    const files = this.samples.find((s) => s.id === id);
    if (!files) throw new Error(`'${id}' is not in split '${this.split}'`);
    const loaded = await loadSample(files, this.settings);
    const job = { augment: false, seed: 0, epoch: 0 };
    const { rgb, mask } = renderLoaded(loaded, placementFor(loaded, job, this.settings), this.settings);
    return { id, rgb, image: normalizeRgb(rgb, this.cfg.data.normalize), mask };
  }

  classPixelCounts(): Promise<number[]> {
    this.pixelCounts ??= this.countClassPixels();
    return this.pixelCounts;
  }

  async close(): Promise<void> {
    this.closed = true;
    const worker = this.worker;
    this.worker = null;
    await worker?.close();
  }

  private async countClassPixels(): Promise<number[]> {
    const counts = new Array<number>(this.cfg.numClasses).fill(0);
    for (const files of this.samples) {
      if (this.unreadable.has(files.id)) continue;
      const loaded = await this.tryLoad(files);
      if (!loaded) continue;
      for (const v of loaded.mask.labels) if (v < counts.length) counts[v]++;
      await yieldToEventLoop();
    }
    return counts;
  }

  /** Renders on the worker when there is one; falls back to this thread (for good) if the worker fails. */
  private async render(job: RenderJob): Promise<RenderResult> {
    if (this.worker === undefined) {
      this.worker = this.useWorker ? DecodeWorker.start(this.settings) : null;
      if (this.useWorker && !this.worker) {
        this.emit({ type: 'warning', time: new Date().toISOString(), message: 'decodeWorker.js was not found next to the program; images are decoded on the training thread (slower)' });
      }
    }
    if (this.worker) {
      try {
        return await this.worker.run(job);
      } catch (e) {
        if (this.closed) return { ok: false, id: job.files.id, file: job.files.image, why: 'dataset closed' };
        this.emit({ type: 'warning', time: new Date().toISOString(), message: `data decoding moved back to the training thread: ${(e as Error).message}` });
        this.worker = null;
      }
    }
    const result = await renderJob(job, this.settings);
    await yieldToEventLoop();
    return result;
  }

  private async tryLoad(files: SampleFiles): Promise<LoadedSample | null> {
    const result = await loadSample(files, this.settings).catch((e: unknown) => e as Error & { file?: string; why?: string });
    if (!(result instanceof Error)) return result;
    this.markUnreadable(files.id, result.file ?? files.image, result.why ?? result.message);
    return null;
  }

  private markUnreadable(id: string, file: string, why: string): void {
    if (this.unreadable.has(id)) return;
    this.unreadable.add(id);
    this.emit({ type: 'data/skipped', time: new Date().toISOString(), file, why });
  }

  private assemble(picked: { id: string; rgb: Uint8Array; mask: Uint8Array }[]): SegBatch {
    const s = this.size;
    const images = new Float32Array(picked.length * s * s * 3);
    const masks = new Int32Array(picked.length * s * s);
    picked.forEach((p, i) => {
      normalizeRgb(p.rgb, this.cfg.data.normalize, images, i * s * s * 3);
      masks.set(p.mask, i * s * s);
    });
    return { ids: picked.map((p) => p.id), images, masks, batchSize: picked.length, size: s };
  }
}
