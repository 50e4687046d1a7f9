// Turns one image/mask pair on disk into the network's input and target (read, decode, place); shared by the main thread and the decode worker.
import { readFile } from 'node:fs/promises';
import type { Normalization } from '../../protocol/config';
import { DecodeError, decodeImage, decodeMask, type DecodedImage, type DecodedMask } from './codecs';
import type { SampleFiles } from './layout';
import {
  evalPlacement, padColor, placeImage, placeMask, trainPlacement, type AugmentOptions, type Placement,
} from './preprocess';
import { hashSeed, seededRandom } from './random';

/** What rendering needs from the config (plain data: it is sent to the decode worker once). */
export interface RenderSettings {
  inputSize: number;
  ignoreLabel: number;
  maskResize: 'nearest' | 'bilinear';
  normalize: Normalization;
  augment: AugmentOptions;
  /** "r,g,b" → class, for RGB masks (the VOC colour map when the config has none). */
  colorToClass: Record<string, number>;
}

/** One sample to render: training samples are augmented with randomness derived from (seed, epoch, id). */
export interface RenderJob {
  files: SampleFiles;
  augment: boolean;
  seed: number;
  epoch: number;
}

export type RenderResult =
  | { ok: true; id: string; rgb: Uint8Array; mask: Uint8Array }
  | { ok: false; id: string; file: string; why: string };

/** A sample decoded at its original size, image and mask checked against each other. */
export interface LoadedSample {
  id: string;
  image: DecodedImage;
  mask: DecodedMask;
}

/** Reads and decodes one image/mask pair; throws a DecodeError naming the bad file. */
export async function loadSample(files: SampleFiles, settings: RenderSettings): Promise<LoadedSample> {
  const [imageBytes, maskBytes] = await Promise.all([readBytes(files.image), readBytes(files.mask)]);
  const image = decodeImage(imageBytes, files.image);
  const mask = decodeMask(maskBytes, files.mask, { ignoreLabel: settings.ignoreLabel, colorToClass: settings.colorToClass });
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

/** The placement of a loaded sample: random (training) or fitted and centred (evaluation). */
export function placementFor(loaded: LoadedSample, job: Omit<RenderJob, 'files'>, settings: RenderSettings): Placement {
  const { width, height } = loaded.image;
  return job.augment
    ? trainPlacement(width, height, settings.inputSize, settings.augment, seededRandom(hashSeed(job.seed, job.epoch, loaded.id)))
    : evalPlacement(width, height, settings.inputSize);
}

/** Resizes, pads, crops and flips image and mask together. */
export function renderLoaded(loaded: LoadedSample, placement: Placement, settings: RenderSettings): { rgb: Uint8Array; mask: Uint8Array } {
  const { image, mask } = loaded;
  const size = settings.inputSize;
  return {
    rgb: placeImage(image.rgb, image.width, image.height, placement, size, padColor(settings.normalize)),
    mask: placeMask(mask.labels, mask.width, mask.height, placement, size, settings.ignoreLabel, settings.maskResize),
  };
}

/** The whole job; a bad file comes back as a result naming it, never as a throw. */
export async function renderJob(job: RenderJob, settings: RenderSettings): Promise<RenderResult> {
  try {
    const loaded = await loadSample(job.files, settings);
    return { ok: true, id: job.files.id, ...renderLoaded(loaded, placementFor(loaded, job, settings), settings) };
  } catch (e) {
    if (e instanceof DecodeError) return { ok: false, id: job.files.id, file: e.file, why: e.why };
    return { ok: false, id: job.files.id, file: job.files.image, why: (e as Error).message };
  }
}
