// Convolution gradients written as ordinary tfjs ops (convolutions, transposes, pads), so they run on any backend.
import * as tf from '@tensorflow/tfjs-core';

type Pair = [number, number];
type Shape4 = [number, number, number, number];
export type PadSpec = 'same' | 'valid' | number | tf.backend_util.ExplicitPadding;
type Rounding = 'floor' | 'round' | 'ceil' | undefined;

/** Everything the gradient helpers need to know about one forward convolution. */
export interface ConvGeometry {
  strides: Pair;
  dilations: Pair;
  pad: PadSpec;
  dimRoundingMode?: Rounding;
}

export function asPair(v: number | number[] | undefined | null, fallback = 1): Pair {
  if (v == null) return [fallback, fallback];
  if (typeof v === 'number') return [v, v];
  return [v[0], v.length > 1 ? v[1] : v[0]];
}

export function isDilated(dilations: number | number[] | undefined | null): boolean {
  const [dh, dw] = asPair(dilations);
  return dh !== 1 || dw !== 1;
}

function convInfo(xShape: number[], filterShape: number[], g: ConvGeometry, depthwise: boolean) {
  return tf.backend_util.computeConv2DInfo(
    xShape as Shape4, filterShape as Shape4, g.strides, g.dilations, g.pad, g.dimRoundingMode, depthwise);
}

/** Pads (positive amounts) or crops (negative amounts) the two spatial axes of an NHWC tensor. */
function padOrCropSpatial(t: tf.Tensor4D, top: number, bottom: number, left: number, right: number): tf.Tensor4D {
  const padded = (top > 0 || bottom > 0 || left > 0 || right > 0)
    ? tf.pad(t, [[0, 0], [Math.max(top, 0), Math.max(bottom, 0)], [Math.max(left, 0), Math.max(right, 0)], [0, 0]])
    : t;
  if (top >= 0 && bottom >= 0 && left >= 0 && right >= 0) return padded;
  const [n, h, w, c] = padded.shape;
  const cropTop = Math.max(-top, 0), cropLeft = Math.max(-left, 0);
  return tf.slice(padded, [0, cropTop, cropLeft, 0],
    [n, h - cropTop - Math.max(-bottom, 0), w - cropLeft - Math.max(-right, 0), c]);
}

/** Inserts (s-1) zeros after every row (and column) of an NHWC tensor: the "stride" of a transposed convolution. */
function insertZeros(t: tf.Tensor4D, sh: number, sw: number): tf.Tensor4D {
  let out = t;
  if (sh > 1) {
    const [n, h, w, c] = out.shape;
    out = tf.reshape(tf.pad(tf.reshape(out, [n, h, 1, w * c]), [[0, 0], [0, 0], [0, sh - 1], [0, 0]]), [n, h * sh, w, c]);
  }
  if (sw > 1) {
    const [n, h, w, c] = out.shape;
    out = tf.reshape(tf.pad(tf.reshape(out, [n * h, w, 1, c]), [[0, 0], [0, 0], [0, sw - 1], [0, 0]]), [n, h, w * sw, c]);
  }
  return out;
}

/**
 * Turns dy of a forward convolution into the input of the equivalent stride-1 "valid" convolution that yields dx:
 * zeros between rows/columns for the forward stride, then padding so that a flipped filter lines up.
 */
function spreadForInputGradient(dy: tf.Tensor4D, info: tf.backend_util.Conv2DInfo): tf.Tensor4D {
  const { strideHeight: sh, strideWidth: sw, padInfo } = info;
  const keH = info.effectiveFilterHeight, keW = info.effectiveFilterWidth;
  const spread = insertZeros(dy, sh, sw);
  // After zero insertion spread has outHeight*sh rows; the last (sh-1) of them are padding already.
  const top = keH - 1 - padInfo.top, left = keW - 1 - padInfo.left;
  const bottom = info.inHeight + keH - 1 - top - spread.shape[1];
  const right = info.inWidth + keW - 1 - left - spread.shape[2];
  return padOrCropSpatial(spread, top, bottom, left, right);
}

/**
 * Stride 1 with symmetric padding of (effective filter − 1)/2 on every side ('same' with an odd effective size): the
 * input gradient is the 'same' convolution of dy itself with the flipped filter, so dy need not be padded first.
 */
function isStrideOneSame(info: tf.backend_util.Conv2DInfo): boolean {
  const p = info.padInfo;
  return info.strideHeight === 1 && info.strideWidth === 1 &&
    p.top === p.bottom && p.left === p.right &&
    2 * p.top === info.effectiveFilterHeight - 1 && 2 * p.left === info.effectiveFilterWidth - 1;
}

/** dx of conv2d for any stride and dilation (NHWC): a stride-1 dilated convolution with the flipped, transposed filter. */
export function conv2dInputGradient(xShape: number[], dy: tf.Tensor4D, filter: tf.Tensor4D, g: ConvGeometry): tf.Tensor4D {
  return tf.tidy(() => {
    const info = convInfo(xShape, filter.shape, g, false);
    const [kh, kw, inC, outC] = filter.shape;
    if (kh === 1 && kw === 1 && isStrideOneSame(info)) {
      // 1×1 stride 1: dx = dy·Wᵀ over every pixel, one matrix product (no filter flip, no padding).
      const dx = tf.matMul(tf.reshape(dy, [-1, outC]), tf.reshape(filter, [inC, outC]), false, true);
      return tf.reshape(dx, xShape as Shape4);
    }
    const flipped = tf.transpose(tf.reverse(filter, [0, 1]), [0, 1, 3, 2]) as tf.Tensor4D;
    if (isStrideOneSame(info)) return tf.conv2d(dy, flipped, 1, 'same', 'NHWC', g.dilations);
    const spread = spreadForInputGradient(dy, info);
    return tf.conv2d(spread, flipped, 1, 'valid', 'NHWC', g.dilations);
  });
}

/**
 * Forward padding for the filter-gradient convolution: the forward top/left pads, and bottom/right pads reduced by the rows
 * the forward convolution never reached, so the result has exactly the filter's size.
 */
function filterGradientPadding(info: tf.backend_util.Conv2DInfo): tf.backend_util.ExplicitPadding {
  const { padInfo } = info;
  const usedH = (info.outHeight - 1) * info.strideHeight + info.effectiveFilterHeight;
  const usedW = (info.outWidth - 1) * info.strideWidth + info.effectiveFilterWidth;
  const bottom = Math.max(padInfo.bottom - (info.inHeight + padInfo.top + padInfo.bottom - usedH), 0);
  const right = Math.max(padInfo.right - (info.inWidth + padInfo.left + padInfo.right - usedW), 0);
  return [[0, 0], [padInfo.top, bottom], [padInfo.left, right], [0, 0]];
}

function cropToFilter(t: tf.Tensor4D, kh: number, kw: number): tf.Tensor4D {
  if (t.shape[1] === kh && t.shape[2] === kw) return t;
  return tf.slice(t, [0, 0, 0, 0], [t.shape[0], kh, kw, t.shape[3]]);
}

/**
 * dW of conv2d for any stride and dilation (NHWC). The batch becomes the contraction axis: x as [inC, H, W, N] is convolved
 * with dy as a [outH, outW, N, outC] filter; the forward dilation becomes the stride and the forward stride the dilation.
 */
export function conv2dFilterGradient(x: tf.Tensor4D, dy: tf.Tensor4D, filterShape: number[], g: ConvGeometry): tf.Tensor4D {
  return tf.tidy(() => {
    const info = convInfo(x.shape, filterShape, g, false);
    const [kh, kw, inC, outC] = filterShape;
    const p = info.padInfo;
    if (kh === 1 && kw === 1 && info.strideHeight === 1 && info.strideWidth === 1 &&
        p.top === 0 && p.bottom === 0 && p.left === 0 && p.right === 0) {
      // 1×1 stride 1: a single matrix product over every pixel of the batch.
      const grad = tf.matMul(tf.reshape(x, [-1, inC]), tf.reshape(dy, [-1, outC]), true, false);
      return tf.reshape(grad, [1, 1, inC, outC]);
    }
    const xT = tf.transpose(x, [3, 1, 2, 0]) as tf.Tensor4D;
    const dyT = tf.transpose(dy, [1, 2, 0, 3]) as tf.Tensor4D;
    const raw = tf.conv2d(xT, dyT, [info.dilationHeight, info.dilationWidth], filterGradientPadding(info), 'NHWC',
      [info.strideHeight, info.strideWidth]);
    return tf.transpose(cropToFilter(raw, kh, kw), [1, 2, 0, 3]) as tf.Tensor4D;
  });
}

/** dx of depthwiseConv2d for any stride and dilation: a depthwise convolution with the flipped filter (one per multiplier). */
export function depthwiseInputGradient(xShape: number[], dy: tf.Tensor4D, filter: tf.Tensor4D, g: ConvGeometry): tf.Tensor4D {
  return tf.tidy(() => {
    const info = convInfo(xShape, filter.shape, g, true);
    const [, , channels, multiplier] = filter.shape;
    const flipped = tf.reverse(filter, [0, 1]) as tf.Tensor4D;
    if (multiplier === 1) {
      if (isStrideOneSame(info)) return tf.depthwiseConv2d(dy, flipped, 1, 'same', 'NHWC', g.dilations);
      return tf.depthwiseConv2d(spreadForInputGradient(dy, info), flipped, 1, 'valid', 'NHWC', g.dilations);
    }
    // Output channel c*m+q comes from input channel c: one depthwise convolution per q, summed.
    const [n, h, w] = dy.shape;
    const perMultiplier = tf.reshape(dy, [n, h, w, channels, multiplier]);
    const parts: tf.Tensor4D[] = [];
    for (let q = 0; q < multiplier; q++) {
      const dyQ = tf.reshape(tf.slice(perMultiplier, [0, 0, 0, 0, q], [n, h, w, channels, 1]), [n, h, w, channels]) as tf.Tensor4D;
      const filterQ = tf.slice(flipped, [0, 0, 0, q], [filter.shape[0], filter.shape[1], channels, 1]);
      parts.push(tf.depthwiseConv2d(spreadForInputGradient(dyQ, info), filterQ, 1, 'valid', 'NHWC', g.dilations));
    }
    return tf.addN(parts);
  });
}

/**
 * dW of depthwiseConv2d for any stride and dilation. Batch and channels go into the channel axis: x as [1, H, W, N·C] is
 * convolved depthwise with dy as a [outH, outW, N·C, m] filter (dilation and stride swap roles), then summed over N.
 */
export function depthwiseFilterGradient(x: tf.Tensor4D, dy: tf.Tensor4D, filterShape: number[], g: ConvGeometry): tf.Tensor4D {
  return tf.tidy(() => {
    const info = convInfo(x.shape, filterShape, g, true);
    const [kh, kw, channels, multiplier] = filterShape;
    const [n, h, w] = x.shape;
    const [, outH, outW] = dy.shape;
    const xr = tf.reshape(tf.transpose(x, [1, 2, 0, 3]), [1, h, w, n * channels]) as tf.Tensor4D;
    const dyr = (multiplier === 1
      ? tf.reshape(tf.transpose(dy, [1, 2, 0, 3]), [outH, outW, n * channels, 1])
      : tf.reshape(tf.transpose(tf.reshape(dy, [n, outH, outW, channels, multiplier]), [1, 2, 0, 3, 4]),
        [outH, outW, n * channels, multiplier])) as tf.Tensor4D;
    const raw = tf.depthwiseConv2d(xr, dyr, [info.dilationHeight, info.dilationWidth], filterGradientPadding(info), 'NHWC',
      [info.strideHeight, info.strideWidth]);
    const perSample = tf.reshape(cropToFilter(raw, kh, kw), [kh, kw, n, channels * multiplier]);
    return tf.reshape(tf.sum(perSample, 2), [kh, kw, channels, multiplier]) as tf.Tensor4D;
  });
}
