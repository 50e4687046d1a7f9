// Decides what the layer hover shows of a layer's activations (a thumbnail of its strongest channels, or why not) and
// keeps the rendered thumbnails per (run, epoch, layer, image), reading the run folder asynchronously. Node only: no vscode.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { runPaths, type ActivationHeader, type RunInfo } from '../protocol/runFolder';
import { DEFAULT_THUMBNAIL, thumbnailDataUri, type ThumbnailImage } from './activationThumbnail';
import type { ActivationPreview } from './layerHover';

/** The parts of a run the preview needs (RunHistory has them). */
export interface PreviewRun {
  runDir: string;
  info: Pick<RunInfo, 'watch'>;
  latestEpoch: { epoch: number } | undefined;
}

export interface ThumbnailKey {
  runDir: string;
  epoch: number;
  layer: string;
  image: string;
}

type ReadFile = (file: string) => Promise<Uint8Array>;

/** Rendered thumbnails by key, most recent last; epoch folders never change once written, so entries never go stale. */
export class LayerThumbnailCache {
  private readonly entries = new Map<string, Promise<{ header: ActivationHeader; thumbnail: ThumbnailImage | undefined }>>();

  constructor(private readonly read: ReadFile = (file) => readFile(file), private readonly capacity = 32) {}

  get size(): number { return this.entries.size; }

  /** The thumbnail of one saved activation; rejects (and caches nothing) when its files cannot be read. */
  get(key: ThumbnailKey): Promise<{ header: ActivationHeader; thumbnail: ThumbnailImage | undefined }> {
    const id = [path.resolve(key.runDir), key.epoch, key.layer, key.image].join('\0');
    const hit = this.entries.get(id);
    if (hit) {
      this.entries.delete(id);
      this.entries.set(id, hit);
      return hit;
    }
    const pending = this.render(key);
    this.entries.set(id, pending);
    pending.catch(() => { if (this.entries.get(id) === pending) this.entries.delete(id); });
    while (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
    return pending;
  }

  private async render(key: ThumbnailKey): Promise<{ header: ActivationHeader; thumbnail: ThumbnailImage | undefined }> {
    const [headerBytes, activation] = await Promise.all([
      this.read(path.join(key.runDir, runPaths.activationHeader(key.epoch, key.image, key.layer))),
      this.read(path.join(key.runDir, runPaths.activation(key.epoch, key.image, key.layer))),
    ]);
    const header = JSON.parse(Buffer.from(headerBytes).toString('utf8')) as ActivationHeader;
    return { header, thumbnail: thumbnailDataUri(activation, header, DEFAULT_THUMBNAIL) };
  }
}

/** A thumbnail of the layer's strongest channels on the run's first watch image at its latest epoch, or why there is none. */
export async function layerActivationPreview(run: PreviewRun, layer: string, cache: LayerThumbnailCache): Promise<ActivationPreview> {
  if (!run.info.watch.layers.includes(layer)) return { kind: 'not-watched' };
  const image = run.info.watch.images[0]?.id;
  if (!image) return { kind: 'unavailable', reason: 'the run watches no images' };
  const epoch = run.latestEpoch?.epoch;
  if (epoch === undefined) return { kind: 'unavailable', reason: 'no epoch has finished yet' };
  try {
    const { header, thumbnail } = await cache.get({ runDir: run.runDir, epoch, layer, image });
    if (!thumbnail) return { kind: 'unavailable', reason: `the feature maps at epoch ${epoch} are too large for a hover` };
    return { kind: 'thumbnail', image, epoch, totalChannels: header.shape[2], thumbnail };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return { kind: 'unavailable', reason: code === 'ENOENT' ? `no saved activations on ${image} at epoch ${epoch}` : `cannot read its activations: ${(error as Error).message}` };
  }
}
