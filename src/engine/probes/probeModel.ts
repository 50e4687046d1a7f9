// An auxiliary tfjs model, built once, that shares the training model's weights and outputs the logits plus every
// layer's output, so one inference pass per watch image yields maps, layer statistics and watched activations.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { LayerStats } from '../../protocol/runFolder';
import { rawStats, saturationOf, mergeRawStats, type Saturation } from './layerStats';

export interface ImageProbe {
  /** Softmax probabilities [H·W·C] of the model's output. */
  probabilities: Float32Array;
  /** Raw statistics per probed layer (7 numbers each, see rawStats), in `layerNames` order (single-image runs only). */
  rawStats: Float32Array[];
  /** Outputs of the requested layers [H, W, C], channel-last. */
  activations: Record<string, { values: Float32Array; shape: [number, number, number] }>;
}

export class ProbeModel {
  /** Layers whose outputs are probed, in the order of the aux model's outputs (after the logits). */
  readonly layerNames: string[];
  private readonly saturations: Saturation[];
  private readonly aux: tfl.LayersModel;
  private readonly logitsIndex: number;

  /** `outputIsProbability`: the model already ends in a softmax (config model.finalSoftmax). */
  constructor(model: tfl.LayersModel, private readonly outputIsProbability: boolean) {
    const finalOutput = model.outputs[0];
    const layers = model.layers.filter((l) => l.getClassName() !== 'InputLayer' && l.inboundNodes.length === 1 && !Array.isArray(l.output));
    this.layerNames = layers.map((l) => l.name);
    this.saturations = layers.map((l) => saturationOf(l));
    const outputs = layers.map((l) => l.output as tfl.SymbolicTensor);
    const at = outputs.indexOf(finalOutput);
    this.logitsIndex = at >= 0 ? at : outputs.length;
    this.aux = tfl.model({ inputs: model.inputs, outputs: at >= 0 ? outputs : [...outputs, finalOutput], name: `${model.name}_probes` });
  }

  hasLayer(name: string): boolean {
    return this.layerNames.includes(name);
  }

  /** One image [S·S·3] normalised as the model expects; `watchLayers` selects the activations returned. */
  run(image: Float32Array, size: number, watchLayers: readonly string[]): ImageProbe {
    return this.runImages([image], size, watchLayers).images[0];
  }

  /**
   * Several images in one pass (one batch: a few hundred small statistics kernels in total, not per image).
   * `rawStats` are over all the images together; each image keeps its probabilities and watched activations.
   */
  runImages(images: Float32Array[], size: number, watchLayers: readonly string[]): { images: ImageProbe[]; rawStats: Float32Array[] } {
    const n = images.length;
    if (n === 0) return { images: [], rawStats: [] };
    const wanted = new Set(watchLayers);
    const batch = new Float32Array(n * size * size * 3);
    images.forEach((image, i) => batch.set(image, i * size * size * 3));
    const result = tf.tidy(() => {
      const x = tf.tensor4d(batch, [n, size, size, 3]);
      const outs = this.aux.predict(x) as tf.Tensor[];
      const logits = outs[this.logitsIndex];
      const probs = this.outputIsProbability ? logits : tf.softmax(logits);
      const stats = tf.stack(this.layerNames.map((_, i) => rawStats(outs[i], this.saturations[i])));
      const kept: Record<string, tf.Tensor> = {};
      this.layerNames.forEach((name, i) => {
        if (wanted.has(name)) kept[name] = outs[i];
      });
      return { probs, stats, kept };
    });
    const statsData = result.stats.dataSync() as Float32Array;
    const probsData = result.probs.dataSync() as Float32Array;
    const keptData = Object.entries(result.kept).map(([name, t]) => {
      const shape = t.shape.slice(1);
      const hwc: [number, number, number] = shape.length === 3 ? [shape[0], shape[1], shape[2]]
        : shape.length === 1 ? [1, 1, shape[0]] : [shape[0] ?? 1, 1, shape[1] ?? 1];
      return { name, hwc, data: t.dataSync() as Float32Array };
    });
    tf.dispose([result.probs, result.stats, ...Object.values(result.kept)]);
    const perImageProbs = probsData.length / n;
    const perImage = images.map((_, i): ImageProbe => {
      const activations: ImageProbe['activations'] = {};
      for (const { name, hwc, data } of keptData) {
        const length = data.length / n;
        activations[name] = { values: data.slice(i * length, (i + 1) * length), shape: hwc };
      }
      return { probabilities: probsData.slice(i * perImageProbs, (i + 1) * perImageProbs), rawStats: [], activations };
    });
    const combined = this.layerNames.map((_, i) => statsData.slice(i * 7, i * 7 + 7));
    perImage.forEach((p) => { if (n === 1) p.rawStats = combined; });
    return { images: perImage, rawStats: combined };
  }

  /** LayerStats per layer from raw statistics (in `layerNames` order). */
  statsByLayer(raw: ArrayLike<number>[]): Record<string, LayerStats> {
    const out: Record<string, LayerStats> = {};
    this.layerNames.forEach((name, i) => {
      out[name] = mergeRawStats([raw[i]]);
    });
    return out;
  }
}
