import * as tf from '@tensorflow/tfjs-core';
import { resolveConfig } from '../../../src/config/resolve';
import { openDataset } from '../../../src/engine/data';
import { makeDemoData } from '../../../src/engine/data/demo';
import { initBackend } from '../../../src/engine/backend';
import { buildBenchModel } from '../../../src/engine/models';
import { makeLoss } from '../../../src/engine/losses';
import { makeOptimizer } from '../../../src/engine/train/optimizer';
import { trainStep } from '../../../src/engine/train/trainStep';
(async () => {
  const report = await initBackend('wasm');
  console.log(JSON.stringify(report).slice(0, 200));
  const demo = await makeDemoData('/tmp/d8/stepdemo', { count: 80, size: 128 });
  const cfg = resolveConfig({ data: { format: 'voc', root: '.', classes: demo.classes, inputSize: 128 } });
  const model = buildBenchModel(cfg.numClasses, 128, 1);
  const variables: tf.Variable[] = []; const variableLayers: string[] = [];
  for (const l of model.layers) for (const w of l.trainableWeights) { variables.push(w.read() as tf.Variable); variableLayers.push(l.name); }
  const ctx = { model, optimizer: makeOptimizer(cfg.train.optimizer), variables, variableLayers, decayed: [], weightDecay: 0,
    loss: makeLoss(cfg.loss, { numClasses: cfg.numClasses, ignoreLabel: 255 }) as any };
  for (const worker of [true, false]) {
    const ds = await openDataset(cfg, demo.dir, 'train', undefined, { decodeWorker: worker });
    const it = ds.batches({ batchSize: 8, shuffle: true, augment: true, seed: 1, epoch: 1, dropLast: true });
    const steps: number[] = [], waits: number[] = [];
    for (let i = 0; i < 7; i++) {
      let t = performance.now();
      const { value: b, done } = await it.next(); if (done) break;
      waits.push(performance.now() - t);
      t = performance.now();
      trainStep(ctx, b, false);
      steps.push(performance.now() - t);
    }
    await it.return(undefined); await ds.close?.();
    const med = (a: number[]) => a.slice(1).sort((x, y) => x - y)[(a.length - 1) >> 1];
    console.log(JSON.stringify({ worker, stepMsMedian: med(steps).toFixed(0), dataWaitMsMedian: med(waits).toFixed(1), steps: steps.map(Math.round), waits: waits.map(Math.round) }));
  }
})();
