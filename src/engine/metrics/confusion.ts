// Confusion matrix over valid pixels (rows = ground truth, columns = prediction) and the IoU / accuracy read from it.
import * as tf from '@tensorflow/tfjs-core';

export class ConfusionMatrix {
  /** counts[gt * numClasses + predicted]. Float64 so that large pixel counts stay exact. */
  readonly counts: Float64Array;

  constructor(readonly numClasses: number, readonly ignoreLabel: number) {
    this.counts = new Float64Array(numClasses * numClasses);
  }

  /** Adds one or more label maps; ground-truth pixels equal to the ignore label (or outside 0..C−1) are skipped. */
  add(labels: Int32Array | Uint8Array, predicted: Int32Array | Uint8Array): void {
    if (labels.length !== predicted.length) {
      throw new Error(`labels (${labels.length}) and predictions (${predicted.length}) differ in length`);
    }
    const n = this.numClasses;
    for (let i = 0; i < labels.length; i++) {
      const gt = labels[i];
      if (gt === this.ignoreLabel || gt < 0 || gt >= n) continue;
      const p = predicted[i];
      if (p < 0 || p >= n) throw new RangeError(`predicted class ${p} outside 0..${n - 1}`);
      this.counts[gt * n + p]++;
    }
  }

  /** Adds another matrix of the same size (e.g. from another batch). */
  merge(other: ConfusionMatrix): void {
    if (other.numClasses !== this.numClasses) throw new Error('confusion matrices differ in class count');
    for (let i = 0; i < this.counts.length; i++) this.counts[i] += other.counts[i];
  }

  reset(): void {
    this.counts.fill(0);
  }

  /** Number of valid pixels counted. */
  get total(): number {
    return this.counts.reduce((a, b) => a + b, 0);
  }

  /** Per class TP / (TP + FP + FN); null for a class absent from both ground truth and prediction. */
  iou(): (number | null)[] {
    const n = this.numClasses;
    const result: (number | null)[] = [];
    for (let c = 0; c < n; c++) {
      let row = 0;
      let column = 0;
      for (let k = 0; k < n; k++) {
        row += this.counts[c * n + k];
        column += this.counts[k * n + c];
      }
      const tp = this.counts[c * n + c];
      const union = row + column - tp;
      result.push(union === 0 ? null : tp / union);
    }
    return result;
  }

  /** Mean of the non-null IoUs; 0 when nothing was counted. */
  miou(): number {
    const values = this.iou().filter((v): v is number => v !== null);
    return values.length === 0 ? 0 : values.reduce((a, b) => a + b, 0) / values.length;
  }

  /** Correct valid pixels / valid pixels; 0 when nothing was counted. */
  pixelAccuracy(): number {
    const total = this.total;
    if (total === 0) return 0;
    let correct = 0;
    for (let c = 0; c < this.numClasses; c++) correct += this.counts[c * this.numClasses + c];
    return correct / total;
  }

  toArray(): number[][] {
    const n = this.numClasses;
    return Array.from({ length: n }, (_, r) => Array.from(this.counts.subarray(r * n, (r + 1) * n)));
  }
}

/** Predicted class per pixel of a [B, H, W, C] output, flattened in B, H, W order. */
export async function argmaxLabels(output: tf.Tensor4D): Promise<Int32Array> {
  const labels = tf.argMax(output, -1);
  try {
    return (await labels.data()) as Int32Array;
  } finally {
    labels.dispose();
  }
}

export function argmaxLabelsSync(output: tf.Tensor4D): Int32Array {
  const labels = tf.argMax(output, -1);
  try {
    return labels.dataSync() as Int32Array;
  } finally {
    labels.dispose();
  }
}
