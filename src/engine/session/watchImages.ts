// Watch images: chosen at run start (config watch.images, else the first 4 val ids), their inputs and ground truth
// written once under watch/, and their per-epoch maps, probabilities and watched-layer activations.
import type { ResolvedConfig } from '../../config/resolve';
import { runPaths, type LayerStats, type WatchImageInfo } from '../../protocol/runFolder';
import { quantizeActivation } from '../probes/activationFile';
import type { ProbeModel } from '../probes/probeModel';
import { watchMaps } from '../probes/watchMaps';
import type { RunFolder } from '../run/runFolder';
import type { EngineParts, SessionDataset, SessionSample } from './parts';

export const DEFAULT_WATCH_COUNT = 4;

/** Error-map palette: 0 right (black), 1 wrong (red), 2 void (grey). */
export const ERROR_PALETTE: [number, number, number][] = [[0, 0, 0], [230, 40, 40], [128, 128, 128]];

export interface WatchImage {
  id: string;
  sample: SessionSample;
  truth: Int32Array;
}

export async function loadWatchImages(
  cfg: ResolvedConfig, val: SessionDataset, train: SessionDataset, warn: (message: string) => void,
): Promise<WatchImage[]> {
  const ids = cfg.watch.images.length ? cfg.watch.images : val.ids.slice(0, DEFAULT_WATCH_COUNT);
  const images: WatchImage[] = [];
  for (const id of ids) {
    const from = val.ids.includes(id) ? val : train.ids.includes(id) ? train : undefined;
    if (!from) {
      warn(`watch image "${id}" is in neither the train nor the val split; it is not watched`);
      continue;
    }
    try {
      const sample = await from.sample(id);
      images.push({ id, sample, truth: Int32Array.from(sample.mask) });
    } catch (err) {
      warn(`watch image "${id}" could not be read: ${(err as Error).message}`);
    }
  }
  return images;
}

export function writeWatchInputs(folder: RunFolder, images: WatchImage[], size: number, parts: EngineParts): WatchImageInfo[] {
  const palette = parts.palette();
  return images.map(({ id, sample }) => {
    const input = runPaths.watchInput(id);
    const groundTruth = runPaths.watchGroundTruth(id);
    folder.writeFile(input, parts.encodeRgbPng(sample.rgb, size, size));
    folder.writeFile(groundTruth, parts.encodePalettePng(Uint8Array.from(sample.mask), size, size, palette));
    return { id, input, groundTruth };
  });
}

export interface WatchProbeOutput {
  layers: Record<string, LayerStats>;
  watch: Record<string, { miou: number; pixelAccuracy: number }>;
}

/** Probes every watch image and writes its maps and activations through `write` (paths relative to the run folder). */
export function probeWatchImages(
  epoch: number, images: WatchImage[], probe: ProbeModel, cfg: ResolvedConfig, watchLayers: string[], parts: EngineParts,
  write: (relative: string, data: string | Uint8Array) => void,
): WatchProbeOutput {
  const size = cfg.data.inputSize;
  const palette = parts.palette();
  const watch: WatchProbeOutput['watch'] = {};
  const probed = probe.runImages(images.map((w) => w.sample.image), size, watchLayers);
  images.forEach(({ id, truth }, i) => {
    const result = probed.images[i];
    const maps = watchMaps(result.probabilities, truth, cfg.numClasses, cfg.data.ignoreLabel);
    write(runPaths.argmax(epoch, id), parts.encodePalettePng(maps.argmax, size, size, palette));
    write(runPaths.confidence(epoch, id), parts.encodeGrayPng(maps.confidence, size, size));
    write(runPaths.error(epoch, id), parts.encodePalettePng(maps.error, size, size, ERROR_PALETTE));
    write(runPaths.probabilities(epoch, id), maps.probabilities);
    watch[id] = { miou: maps.miou, pixelAccuracy: maps.pixelAccuracy };
    for (const [layer, activation] of Object.entries(result.activations)) {
      const { bytes, header } = quantizeActivation(activation.values, activation.shape, layer, id);
      write(runPaths.activation(epoch, id, layer), bytes);
      write(runPaths.activationHeader(epoch, id, layer), JSON.stringify(header));
    }
  });
  return { layers: images.length ? probe.statsByLayer(probed.rawStats) : {}, watch };
}
