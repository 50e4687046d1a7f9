// Measures decode + preprocess time per batch of 8 at 128² (issue 8 item 5), and what it adds to a training step that
// blocks the main thread for STEP_MS, with decoding on the training thread vs on the decode worker.
// Run: npx tsx test/unit/data/decodeCost.bench.ts   (not a unit test; prints one JSON line per case)
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { resolveConfig, type ResolvedConfig } from '../../../src/config/resolve';
import { openDataset } from '../../../src/engine/data';
import { makeDemoData } from '../../../src/engine/data/demo';
import { vocPalette } from '../../../src/engine/data/palette';
import { jpeg, palettePng, smoothImage, tempDir } from './fixtures';

/** Training step of the bench model at 128², batch 8, wasm (ENGINE-NOTES: ~12 img/s). */
const STEP_MS = Number(process.env.STEP_MS ?? 700);

function busy(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) { /* stands in for a synchronous wasm training step */ }
}

async function perBatch(cfg: ResolvedConfig, dir: string, batches: number, worker: boolean, stepMs: number): Promise<number> {
  const ds = await openDataset(cfg, dir, 'train', undefined, { decodeWorker: worker });
  const times: number[] = [];
  let t = performance.now();
  for (let epoch = 1; times.length < batches; epoch++) {
    for await (const b of ds.batches({ batchSize: 8, shuffle: true, augment: true, seed: 1, epoch, dropLast: true })) {
      void b;
      busy(stepMs);
      const now = performance.now();
      times.push(now - t);
      t = now;
      if (times.length >= batches) break;
    }
  }
  await ds.close?.();
  times.shift(); // the first batch has no prefetch to hide behind
  times.sort((a, b) => a - b);
  return times[times.length >> 1];
}

async function report(label: string, cfg: ResolvedConfig, dir: string) {
  const decodeMs = await perBatch(cfg, dir, 21, false, 0);
  const stepOnThread = await perBatch(cfg, dir, 11, false, STEP_MS);
  const stepWithWorker = await perBatch(cfg, dir, 11, true, STEP_MS);
  console.log(JSON.stringify({
    case: label, decodeAndPreprocessMsPerBatch: +decodeMs.toFixed(1), percentOfStep: +((decodeMs / STEP_MS) * 100).toFixed(1),
    stepMs: STEP_MS, wallPerStepDecodingOnThread: +stepOnThread.toFixed(0), wallPerStepDecodingOnWorker: +stepWithWorker.toFixed(0),
  }));
}

(async () => {
  const tmp = tempDir('bench');
  try {
    const demo = await makeDemoData(path.join(tmp.dir, 'demo'), { count: 100, size: 128 });
    await report('demo 128x128 JPEG, batch 8 at 128²', resolveConfig({ data: { format: 'voc', root: '.', classes: demo.classes, inputSize: 128 } }), demo.dir);
    const voc = path.join(tmp.dir, 'voc');
    const ids = Array.from({ length: 40 }, (_, i) => `2007_${String(i).padStart(6, '0')}`);
    for (const d of ['JPEGImages', 'SegmentationClass', 'ImageSets/Segmentation']) mkdirSync(path.join(voc, d), { recursive: true });
    for (const [i, id] of ids.entries()) {
      writeFileSync(path.join(voc, 'JPEGImages', `${id}.jpg`), await jpeg(smoothImage(500, 375, i), 500, 375, 90));
      writeFileSync(path.join(voc, 'SegmentationClass', `${id}.png`), palettePng(new Uint8Array(500 * 375).map((_, p) => (p >> 9) % 21), 500, 375, vocPalette()));
    }
    writeFileSync(path.join(voc, 'ImageSets/Segmentation/train.txt'), ids.join('\n'));
    await report('VOC-sized 500x375 JPEG, batch 8 at 128²', resolveConfig({ data: { format: 'voc', root: '.', inputSize: 128 } }), voc);
  } finally {
    tmp.remove();
  }
})();
