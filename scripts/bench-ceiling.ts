// Speed ceiling of wasm training: the bench model's FLOPs per step, and what its convolutions' products alone cost on wasm and PyTorch.
// Run: node --import tsx scripts/bench-ceiling.ts [--size 128] [--batch 8] [--threads 2] [--reps 9] [--fastest] [--shapes] [--no-peer] [--json]
// Each product's time is the median of --reps runs, or with --fastest their minimum (less sensitive to a busy machine);
// --shapes adds one line per distinct convolution shape; --no-peer skips PyTorch. Python (/usr/bin/python3 with torch) is
// only used to measure the peer; it is skipped, with a note, when missing.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '../src/engine/backend';
import { buildBenchModel } from '../src/engine/models';

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}
const flag = (name: string) => process.argv.includes(`--${name}`);

const size = Number(option('size', '128'));
const batch = Number(option('batch', '8'));
const threads = Number(option('threads', '2'));
const reps = Number(option('reps', '9'));
const fastest = flag('fastest');
const python = option('python', '/usr/bin/python3');
const peerBench = path.resolve(__dirname, '..', '..', 'shared', 'peers', 'torch_bench.py');
const PRODUCTS = ['forward', 'inputGrad', 'weightGrad'] as const;
type Product = typeof PRODUCTS[number];
type PerProduct = Record<Product, number>;
/** Wasm times, plus dx timed as a forward 1×1 convolution of dy with Wᵀ (not the engine's path; 0 where it does not apply). */
type WasmTimes = PerProduct & { inputGradAsConv: number };

/** One convolution of the model, as the three matrix-like products of a training step need it. */
interface ConvShape {
  key: string; count: number; n: number; h: number; w: number; inC: number; outC: number;
  kh: number; kw: number; stride: [number, number]; dilation: [number, number]; pad: 'same' | 'valid';
  padTop: number; padLeft: number; inputGrad: boolean; macs: number;
}

/** MACs per step of the whole model, by layer kind and product (input gradients only where something upstream learns). */
interface FlopCount { conv1x1: PerProduct; convKxK: PerProduct; depthwise: PerProduct; dense: PerProduct }

const zero = (): PerProduct => ({ forward: 0, inputGrad: 0, weightGrad: 0 });
const sum = (p: PerProduct) => p.forward + p.inputGrad + p.weightGrad;
const shapeOf = (t: tfl.SymbolicTensor | tfl.SymbolicTensor[]) => (Array.isArray(t) ? t[0] : t).shape;

/** Walks the layers (topologically ordered), counting MACs from shapes and collecting every distinct Conv2D shape. */
function countModel(model: tfl.LayersModel): { flops: FlopCount; convs: ConvShape[] } {
  const flops: FlopCount = { conv1x1: zero(), convKxK: zero(), depthwise: zero(), dense: zero() };
  const convs = new Map<string, ConvShape>();
  const learnsUpstream = new Set<string>(); // layers whose output depends on a trainable weight
  for (const layer of model.layers) {
    const inbound = layer.inboundNodes[0]?.inboundLayers ?? [];
    const inputGrad = inbound.some((l) => learnsUpstream.has(l.name));
    if (inputGrad || layer.trainableWeights.length > 0) learnsUpstream.add(layer.name);
    const kind = layer.getClassName();
    const kernel = layer.trainableWeights[0]?.shape as number[] | undefined; // weights always have full shapes
    if (!kernel || !/Conv2D|Dense/.test(kind)) continue;
    const out = shapeOf(layer.output) as number[];
    const pixels = batch * out.slice(1, -1).reduce((a, b) => a * b, 1);
    let macs: number, bucket: PerProduct;
    if (kind === 'Dense') {
      [macs, bucket] = [pixels * kernel[0] * kernel[1], flops.dense];
    } else if (/Depthwise/.test(kind)) {
      [macs, bucket] = [pixels * kernel[0] * kernel[1] * kernel[2] * kernel[3], flops.depthwise];
    } else {
      const oneByOne = kernel[0] === 1 && kernel[1] === 1;
      [macs, bucket] = [pixels * kernel[0] * kernel[1] * kernel[2] * kernel[3], oneByOne ? flops.conv1x1 : flops.convKxK];
      const cfg = layer.getConfig() as { strides: number[]; dilationRate: number | number[]; padding: 'same' | 'valid' };
      const [, h, w] = shapeOf(layer.input) as number[];
      const dilation = (typeof cfg.dilationRate === 'number' ? [cfg.dilationRate, cfg.dilationRate] : cfg.dilationRate) as [number, number];
      const info = tf.backend_util.computeConv2DInfo([batch, h, w, kernel[2]], kernel as [number, number, number, number],
        cfg.strides as [number, number], dilation, cfg.padding);
      const key = `${h}×${w}×${kernel[2]}→${kernel[3]} ${kernel[0]}×${kernel[1]}/s${cfg.strides[0]}/d${dilation[0]}${inputGrad ? '' : ' (no dx)'}`;
      const seen = convs.get(key);
      if (seen) seen.count++;
      else {
        convs.set(key, {
          key, count: 1, n: batch, h, w, inC: kernel[2], outC: kernel[3], kh: kernel[0], kw: kernel[1],
          stride: cfg.strides as [number, number], dilation, pad: cfg.padding,
          padTop: info.padInfo.top, padLeft: info.padInfo.left, inputGrad, macs,
        });
      }
    }
    bucket.forward += macs;
    if (inputGrad) bucket.inputGrad += macs;
    bucket.weightGrad += macs;
  }
  return { flops, convs: [...convs.values()] };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Median (or fastest) ms of `run` after two warm-up calls; wasm kernels are synchronous, so the clock brackets the work itself. */
function timeMs(run: () => tf.Tensor): number {
  const times: number[] = [];
  for (let i = 0; i < reps + 2; i++) {
    const t0 = performance.now();
    const result = run();
    const dt = performance.now() - t0;
    result.dispose();
    if (i >= 2) times.push(dt);
  }
  return fastest ? Math.min(...times) : median(times);
}

/** The three products of one convolution through the kernels training uses: FusedConv2D, Conv2DBackpropInput/Filter. */
function timeOnWasm(c: ConvShape): WasmTimes {
  const x = tf.randomUniform([c.n, c.h, c.w, c.inC], -1, 1) as tf.Tensor4D;
  const filter = tf.randomUniform([c.kh, c.kw, c.inC, c.outC], -1, 1) as tf.Tensor4D;
  const geometry = { strides: c.stride, pad: c.pad, dilations: c.dilation, dataFormat: 'NHWC' as const };
  const y = tf.fused.conv2d({ x, filter, ...geometry });
  const dy = tf.randomUniform(y.shape, -1, 1);
  const kernel = (name: string, inputs: tf.NamedTensorMap, attrs: object) =>
    tf.engine().runKernel(name, inputs, attrs as tf.NamedAttrMap) as tf.Tensor;
  const filterT = tf.transpose(filter, [0, 1, 3, 2]) as tf.Tensor4D;
  const dxAsConv = c.inputGrad && c.kh === 1 && c.kw === 1 && c.stride[0] === 1 && c.stride[1] === 1;
  const times: WasmTimes = {
    forward: timeMs(() => tf.fused.conv2d({ x, filter, ...geometry })),
    inputGrad: c.inputGrad ? timeMs(() => kernel('Conv2DBackpropInput', { dy, filter }, { ...geometry, inputShape: x.shape })) : 0,
    weightGrad: timeMs(() => kernel('Conv2DBackpropFilter', { x, dy }, { ...geometry, filterShape: filter.shape })),
    inputGradAsConv: dxAsConv ? timeMs(() => tf.fused.conv2d({ x: dy as tf.Tensor4D, filter: filterT, strides: 1, pad: 'valid' })) : 0,
  };
  tf.dispose([x, filter, filterT, y, dy]);
  return times;
}

/** PyTorch's side: F.conv2d forward and aten.convolution_backward (what autograd calls) for dx and dW, NCHW. */
const TORCH_SCRIPT = `
import json, statistics, sys, time, torch, torch.nn.functional as F
cfg = json.load(sys.stdin)
torch.set_num_threads(cfg['threads'])
def ms(run):
    times = []
    for i in range(cfg['reps'] + 2):
        t0 = time.perf_counter(); run(); dt = (time.perf_counter() - t0) * 1000
        if i >= 2: times.append(dt)
    return min(times) if cfg['fastest'] else statistics.median(times)
rows = []
with torch.no_grad():
    for c in cfg['convs']:
        x = torch.rand(c['n'], c['inC'], c['h'], c['w']) * 2 - 1
        w = torch.rand(c['outC'], c['inC'], c['kh'], c['kw']) * 2 - 1
        geo = dict(stride=c['stride'], padding=[c['padTop'], c['padLeft']], dilation=c['dilation'])
        dy = torch.rand_like(F.conv2d(x, w, **geo)) * 2 - 1
        back = lambda mask: torch.ops.aten.convolution_backward(dy, x, w, None, geo['stride'], geo['padding'],
                                                                  geo['dilation'], False, [0, 0], 1, mask)
        rows.append(dict(forward=ms(lambda: F.conv2d(x, w, **geo)),
                         inputGrad=ms(lambda: back([True, False, False])) if c['inputGrad'] else 0,
                         weightGrad=ms(lambda: back([False, True, False]))))
print(json.dumps(dict(torch=torch.__version__, rows=rows)))
`;

/** Runs Python; returns its last JSON line, or the reason it could not. */
function runPython(args: string[], stdin?: string): { json: Record<string, unknown> } | { skipped: string } {
  if (!existsSync(python)) return { skipped: `${python} not found` };
  const result = spawnSync(python, args, { input: stdin, encoding: 'utf8', maxBuffer: 16 << 20 });
  if (result.status !== 0) return { skipped: `${python} failed: ${(result.stderr || String(result.error)).trim().split('\n').pop()}` };
  const line = result.stdout.trim().split('\n').filter((l) => l.startsWith('{')).pop();
  return line ? { json: JSON.parse(line) } : { skipped: 'no JSON from Python' };
}

/** Per-step ms of each product: every distinct shape's median times the number of layers that have it. */
function weighted(convs: ConvShape[], rows: PerProduct[], only?: (c: ConvShape) => boolean): PerProduct {
  const total = zero();
  convs.forEach((c, i) => {
    if (only && !only(c)) return;
    for (const p of PRODUCTS) total[p] += c.count * rows[i][p];
  });
  return total;
}

const gflop = (macs: number) => 2 * macs / 1e9;
const fixed = (v: number, d = 1) => (Number.isFinite(v) ? v.toFixed(d) : '—');
const load = () => os.loadavg().map((l) => l.toFixed(2)).join(' ');

async function main(): Promise<void> {
  const loadBefore = load();
  const report = await initBackend('wasm', { threads });
  const model = buildBenchModel(21, size);
  const { flops, convs } = countModel(model);
  model.dispose();
  const wasmRows = convs.map(timeOnWasm);
  const loadAfterWasm = load();
  const peer = flag('no-peer') ? { skipped: '--no-peer' }
    : runPython(['-c', TORCH_SCRIPT], JSON.stringify({ threads, reps, fastest, convs }));
  const torchRows = 'json' in peer ? peer.json.rows as PerProduct[] : null;
  const peerStep = flag('no-peer') ? { skipped: '--no-peer' }
    : existsSync(peerBench) ? runPython([peerBench, '--size', String(size), '--batch', String(batch), '--threads', String(threads)])
      : { skipped: `${peerBench} not found` };
  const torchStepMs = 'json' in peerStep ? peerStep.json.stepMsMedian as number : NaN;
  const loadEnd = load();

  const is1x1 = (c: ConvShape) => c.kh === 1 && c.kw === 1;
  const wasm1x1 = weighted(convs, wasmRows, is1x1), wasmAll = weighted(convs, wasmRows);
  const dxAsConv1x1 = weighted(convs, wasmRows.map((r) => ({ ...zero(), inputGrad: r.inputGradAsConv })), is1x1).inputGrad;
  const fastestRows = wasmRows.map((r) => ({ ...r, inputGrad: r.inputGradAsConv > 0 ? Math.min(r.inputGrad, r.inputGradAsConv) : r.inputGrad }));
  const wasmFastest = weighted(convs, fastestRows);
  const torch1x1 = torchRows ? weighted(convs, torchRows, is1x1) : null;
  const torchAll = torchRows ? weighted(convs, torchRows) : null;
  const convMacs = { forward: flops.conv1x1.forward + flops.convKxK.forward, inputGrad: flops.conv1x1.inputGrad + flops.convKxK.inputGrad,
    weightGrad: flops.conv1x1.weightGrad + flops.convKxK.weightGrad };
  const otherMacs = sum(flops.depthwise) + sum(flops.dense);
  const result = {
    size, batch, threads, reps, statistic: fastest ? 'fastest' : 'median', backend: { name: report.name, simd: report.simd, threads: report.threads, native: report.nativeKernels },
    load: { before: loadBefore, afterWasm: loadAfterWasm, end: loadEnd },
    gflopPerStep: { conv1x1: gflop(sum(flops.conv1x1)), convKxK: gflop(sum(flops.convKxK)), depthwise: gflop(sum(flops.depthwise)),
      dense: gflop(sum(flops.dense)), forwardMmacPerImage: (convMacs.forward + flops.depthwise.forward + flops.dense.forward) / batch / 1e6 },
    msPerStep: { wasm1x1, wasmAll, wasmFastest, dxAsConv1x1, torch1x1, torchAll, torchStep: torchStepMs },
    peer: 'json' in peer ? `torch ${peer.json.torch}` : peer.skipped,
    peerStep: 'json' in peerStep ? peerStep.json : peerStep.skipped,
    shapes: convs.map((c, i) => ({ shape: c.key, layers: c.count, gflop: gflop(c.count * c.macs), wasm: wasmRows[i], torch: torchRows?.[i] })),
  };
  if (flag('json')) {
    console.log(JSON.stringify(result));
    return;
  }

  const total = sum(convMacs) + otherMacs;
  console.log(`bench model ${size}², batch ${batch}, ${threads} threads, ${fastest ? 'fastest' : 'median'} of ${reps} reps; wasm: simd ${report.simd}, ${report.threads} threads, native kernels ${JSON.stringify(report.nativeKernels)}`);
  console.log(`load average: before ${loadBefore} · after wasm ${loadAfterWasm} · end ${loadEnd}`);
  console.log(`\nFLOPs per training step (2·MACs; forward + input gradient + weight gradient; no input gradient into the first layer):`);
  console.log(`  forward ${fixed(result.gflopPerStep.forwardMmacPerImage)} MMAC/image; total ${fixed(gflop(total), 2)} GFLOP/step:`);
  console.log(`  1×1 convs ${fixed(gflop(sum(flops.conv1x1)), 2)} (${fixed(100 * sum(flops.conv1x1) / total)}%) · k×k convs ${fixed(gflop(sum(flops.convKxK)), 3)}` +
    ` (${fixed(100 * sum(flops.convKxK) / total)}%) · depthwise ${fixed(gflop(sum(flops.depthwise)), 3)} (${fixed(100 * sum(flops.depthwise) / total)}%)` +
    ` · dense ${fixed(gflop(sum(flops.dense)), 3)}  (batch norm, activations, resize, loss, Adam: elementwise, not counted)`);

  console.log(`\n1×1 convolutions (${convs.filter(is1x1).reduce((a, c) => a + c.count, 0)} layers, ${convs.filter(is1x1).length} shapes), per training step:`);
  console.log('| product | GFLOP | wasm ms | wasm GFLOP/s | torch ms | torch GFLOP/s | wasm/torch time |');
  console.log('|---|---:|---:|---:|---:|---:|---:|');
  const row = (name: string, macs: number, w: number, t: number | undefined) =>
    console.log(`| ${name} | ${fixed(gflop(macs), 2)} | ${fixed(w)} | ${fixed(gflop(macs) / w * 1e3)} | ${fixed(t ?? NaN)} | ` +
      `${fixed(t ? gflop(macs) / t * 1e3 : NaN)} | ${fixed(t ? w / t : NaN, 2)}× |`);
  const labels: Record<Product, string> = { forward: 'forward (FusedConv2D)', inputGrad: 'input gradient (Conv2DBackpropInput: dy·Wᵀ)',
    weightGrad: 'weight gradient (Conv2DBackpropFilter: xᵀ·dy)' };
  for (const p of PRODUCTS) row(labels[p], flops.conv1x1[p], wasm1x1[p], torch1x1?.[p]);
  row('all three', sum(flops.conv1x1), sum(wasm1x1), torch1x1 ? sum(torch1x1) : undefined);
  row('(input gradient as 1×1 conv dy⊛Wᵀ: not the engine\'s path)', flops.conv1x1.inputGrad, dxAsConv1x1, torch1x1?.inputGrad);
  row('+ k×k convs (stem)', sum(convMacs), sum(wasmAll), torchAll ? sum(torchAll) : undefined);

  if (flag('shapes')) {
    console.log('\n| shape (input h×w×c → out, kernel/stride/dilation) | layers | wasm fwd/dx/dW ms | torch fwd/dx/dW ms |');
    console.log('|---|---:|---|---|');
    convs.forEach((c, i) => console.log(`| ${c.key} | ${c.count} | ${PRODUCTS.map((p) => fixed(wasmRows[i][p], 2)).join(' / ')} | ` +
      `${torchRows ? PRODUCTS.map((p) => fixed(torchRows[i][p], 2)).join(' / ') : '—'} |`));
  }

  console.log(`\nPyTorch products: ${result.peer}; PyTorch whole step: ${'json' in peerStep ? `torch_bench.py` : peerStep.skipped}`);
  const x = sum(wasmAll), best = sum(wasmFastest);
  console.log(`matrix products alone on wasm: ${fixed(x)} ms/step (${fixed(gflop(sum(convMacs)) / x * 1e3)} GFLOP/s); ` +
    `${fixed(best)} ms with the faster dx path per shape; ` +
    `same products on PyTorch: ${torchAll ? fixed(sum(torchAll)) : '—'} ms; PyTorch's whole training step: ${fixed(torchStepMs)} ms`);
  console.log(`best possible wasm speed if everything else took zero time: ${fixed(torchStepMs / x, 2)}× PyTorch with the engine's ` +
    `kernels, ${fixed(torchStepMs / best, 2)}× with the faster dx (${fixed(batch / x * 1e3)} / ${fixed(batch / best * 1e3)} img/s ` +
    `vs PyTorch's ${fixed(batch / torchStepMs * 1e3)} img/s)`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
