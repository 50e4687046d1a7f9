// Freezing layers (first N and/or a name pattern) and choosing how their BatchNorm behaves.
import type * as tfl from '@tensorflow/tfjs-layers';
import { BatchNorm } from './batchNorm';

export interface FreezeSpec {
  /** Freeze the first N layers in model.layers order (the input layer counts as one, as in Keras). */
  firstN?: number;
  /** Freeze every layer whose name matches (a RegExp or its source). */
  pattern?: RegExp | string;
}

/**
 * Marks the selected layers non-trainable and returns their names. Their BatchNorm layers get
 * inferenceMode = (frozenBatchNorm === 'inference'); 'train' reproduces the Keras trap (moving statistics keep
 * updating and batch statistics are used). Layers not selected are left as they are.
 */
export function setFrozen(model: tfl.LayersModel, spec: FreezeSpec, frozenBatchNorm: 'inference' | 'train'): string[] {
  const pattern = spec.pattern === undefined || spec.pattern === '' ? undefined
    : spec.pattern instanceof RegExp ? spec.pattern : new RegExp(spec.pattern);
  const firstN = spec.firstN ?? 0;
  const frozen: string[] = [];
  model.layers.forEach((layer, i) => {
    if (!(i < firstN || (pattern !== undefined && pattern.test(layer.name)))) return;
    layer.trainable = false;
    if (layer instanceof BatchNorm) layer.inferenceMode = frozenBatchNorm === 'inference';
    frozen.push(layer.name);
  });
  return frozen;
}
