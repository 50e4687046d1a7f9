// Opens a split of a VOC-layout or image/mask-folder dataset and streams preprocessed, prefetched batches as typed arrays.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { ResolvedConfig } from '../../config/resolve';
import type { RunEvent } from '../../protocol/runEvents';
import { DecodeError, decodeImage, decodeMask, type DecodedImage, type DecodedMask } from './codecs';
import { listSplit, type SampleFiles } from './layout';
import { vocColorToClass } from './palette';
import {
  evalPlacement, normalizeRgb, padColor, placeImage, placeMask, trainPlacement, type Placement,
} from './preprocess';
import { hashSeed, seededRandom, shuffled } from './random';

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
}

/** A sample decoded at its original size, image and mask checked against each other. */
export interface LoadedSample {
  id: string;
  image: DecodedImage;
  mask: DecodedMask;
}

/**
 * Opens the train or val split named in the config. Missing files are reported as `data/skipped` events; a split that
 * names nothing readable throws an error naming the split file.
 */
export async function openDataset(
  cfg: ResolvedConfig, configDir: string, split: 'train' | 'val', onEvent?: (e: RunEvent) => void,
): Promise<Dataset> {
  const root = path.resolve(configDir, cfg.data.root);
  const splitName = split === 'train' ? cfg.data.trainSplit : cfg.data.valSplit;
  const listing = listSplit(cfg.data, root, splitName);
  const skip = (file: string, why: string) =>
    onEvent?.({ type: 'data/skipped', time: new Date().toISOString(), file, why });
  for (const m of listing.missing) skip(m.file, m.why);
  const samples = cfg.data.limit ? listing.samples.slice(0, cfg.data.limit) : listing.samples;
  const dataset = new FileDataset(splitName, samples, cfg, skip);
  if (!(await dataset.firstReadable())) {
    throw new Error(`split '${splitName}' (${listing.source}) names no readable image/mask pair `
      + `(${listing.samples.length} listed with both files, ${listing.missing.length} files missing)`);
  }
  return dataset;
}

/** Reads and decodes one image/mask pair; throws a DecodeError naming the bad file. */
export async function loadSample(files: SampleFiles, cfg: ResolvedConfig): Promise<LoadedSample> {
  const [imageBytes, maskBytes] = await Promise.all([readBytes(files.image), readBytes(files.mask)]);
  const image = decodeImage(imageBytes, files.image);
  const mask = decodeMask(maskBytes, files.mask, {
    ignoreLabel: cfg.data.ignoreLabel,
    colorToClass: cfg.data.colorToClass ?? vocColorToClass(cfg.numClasses, cfg.data.ignoreLabel),
  });
  if (mask.width !== image.width || mask.height !== image.height) {
    throw new DecodeError(files.mask, `mask is ${mask.width}x${mask.height} but its image is ${image.width}x${image.height}`);
  }
  return { id: files.id, image, mask };
}

async function readBytes(file: string): Promise<Uint8Array> {
  try {
    return await readFile(file);
  } catch (e) {
    throw new DecodeError(file, `cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

/** Lets other work (the training step, I/O) run between two decodes. */
const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

class FileDataset implements Dataset {
  readonly size: number;
  private readonly unreadable = new Set<string>();
  private pixelCounts?: Promise<number[]>;

  constructor(
    readonly split: string,
    private readonly samples: SampleFiles[],
    private readonly cfg: ResolvedConfig,
    private readonly skip: (file: string, why: string) => void,
  ) {
    this.size = cfg.data.inputSize;
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
    const produceNext = async (): Promise<SegBatch | null> => {
      if (opts.limitBatches !== undefined && made >= opts.limitBatches) return null;
      const picked: { id: string; rgb: Uint8Array; mask: Uint8Array }[] = [];
      while (picked.length < opts.batchSize && cursor < order.length) {
        const files = order[cursor++];
        if (this.unreadable.has(files.id)) continue;
        const loaded = await this.tryLoad(files);
        if (!loaded) continue;
        const placement = opts.augment
          ? trainPlacement(loaded.image.width, loaded.image.height, this.size, this.cfg.data.augment,
            seededRandom(hashSeed(opts.seed, opts.epoch, files.id)))
          : evalPlacement(loaded.image.width, loaded.image.height, this.size);
        picked.push({ id: files.id, ...this.render(loaded, placement) });
        await yieldToEventLoop();
      }
      if (picked.length === 0 || (opts.dropLast && picked.length < opts.batchSize)) return null;
      made++;
      return this.assemble(picked);
    };
    // One batch ahead: the next batch is read and decoded while the consumer works on the current one.
    let pending = produceNext();
    while (true) {
      const batch = await pending;
      if (!batch) return;
      pending = produceNext();
      yield batch;
    }
  }

  async sample(id: string): Promise<SegSample> {
    const files = this.samples.find((s) => s.id === id);
    if (!files) throw new Error(`'${id}' is not in split '${this.split}'`);
    const loaded = await loadSample(files, this.cfg);
    const { rgb, mask } = this.render(loaded, evalPlacement(loaded.image.width, loaded.image.height, this.size));
    return { id, rgb, image: normalizeRgb(rgb, this.cfg.data.normalize), mask };
  }

  classPixelCounts(): Promise<number[]> {
    this.pixelCounts ??= this.countClassPixels();
    return this.pixelCounts;
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

  private async tryLoad(files: SampleFiles): Promise<LoadedSample | null> {
    try {
      return await loadSample(files, this.cfg);
    } catch (e) {
      this.unreadable.add(files.id);
      if (e instanceof DecodeError) this.skip(e.file, e.why);
      else this.skip(files.image, (e as Error).message);
      return null;
    }
  }

  private render(loaded: LoadedSample, placement: Placement): { rgb: Uint8Array; mask: Uint8Array } {
    const { image, mask } = loaded;
    const { inputSize, ignoreLabel, maskResize, normalize } = this.cfg.data;
    return {
      rgb: placeImage(image.rgb, image.width, image.height, placement, inputSize, padColor(normalize)),
      mask: placeMask(mask.labels, mask.width, mask.height, placement, inputSize, ignoreLabel, maskResize),
    };
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
