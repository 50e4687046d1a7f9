// Per-pixel maps of one watch image from its class probabilities: argmax labels, confidence, error map, uint8 probabilities,
// and the image's own mIoU / pixel accuracy.
import { ERROR_MAP } from '../../protocol/runFolder';

export interface WatchMaps {
  argmax: Uint8Array;
  confidence: Uint8Array;
  error: Uint8Array;
  /** [H, W, C] probabilities scaled to 0..255. */
  probabilities: Uint8Array;
  miou: number;
  pixelAccuracy: number;
}

/** `probs` is [H·W·C] softmax output, `truth` the ground-truth labels [H·W] (ignoreLabel = void). */
export function watchMaps(probs: Float32Array, truth: Int32Array, numClasses: number, ignoreLabel: number): WatchMaps {
  const pixels = truth.length;
  if (probs.length !== pixels * numClasses) throw new Error(`probabilities: ${probs.length} values for ${pixels} pixels × ${numClasses} classes`);
  const argmax = new Uint8Array(pixels);
  const confidence = new Uint8Array(pixels);
  const error = new Uint8Array(pixels);
  const probabilities = new Uint8Array(pixels * numClasses);
  const intersection = new Float64Array(numClasses);
  const truthCount = new Float64Array(numClasses);
  const predCount = new Float64Array(numClasses);
  let valid = 0, right = 0;
  for (let p = 0; p < pixels; p++) {
    let best = 0, bestP = -Infinity;
    for (let k = 0; k < numClasses; k++) {
      const v = probs[p * numClasses + k];
      probabilities[p * numClasses + k] = Math.round(Math.min(1, Math.max(0, v)) * 255);
      if (v > bestP) { bestP = v; best = k; }
    }
    argmax[p] = best;
    confidence[p] = Math.round(Math.min(1, Math.max(0, bestP)) * 255);
    const t = truth[p];
    if (t === ignoreLabel || t < 0 || t >= numClasses) {
      error[p] = ERROR_MAP.void;
      continue;
    }
    valid++;
    truthCount[t]++;
    predCount[best]++;
    if (t === best) { right++; intersection[t]++; error[p] = ERROR_MAP.right; } else error[p] = ERROR_MAP.wrong;
  }
  let iouSum = 0, present = 0;
  for (let k = 0; k < numClasses; k++) {
    const union = truthCount[k] + predCount[k] - intersection[k];
    if (union > 0) { iouSum += intersection[k] / union; present++; }
  }
  return { argmax, confidence, error, probabilities, miou: present ? iouSum / present : 0, pixelAccuracy: valid ? right / valid : 0 };
}
