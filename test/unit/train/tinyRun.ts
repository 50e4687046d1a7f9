// Test fixture: a tiny synthetic VOC dataset (the demo generator) and a config small enough to train in about a second.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { makeDemoData } from '../../../src/engine/data/demo';
import type { SegScopeConfig } from '../../../src/protocol/config';

export interface TinyRun {
  dir: string;
  configPath: string;
  config: SegScopeConfig;
  cleanup(): void;
}

export async function makeTinyRun(overrides: Partial<SegScopeConfig> = {}, count = 12): Promise<TinyRun> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'segscope-tiny-'));
  const demo = await makeDemoData(dir, { count, size: 32, classes: 2, seed: 3 });
  const config: SegScopeConfig = {
    name: 'tiny',
    seed: 7,
    backend: 'wasm',
    data: { format: 'voc', root: '.', classes: demo.classes, ignoreLabel: 255, inputSize: 32, augment: { scale: [0.75, 1.25], flip: true, crop: true } },
    model: { arch: 'unet', width: 0.25 },
    train: { epochs: 2, batchSize: 4, optimizer: { name: 'adam', learningRate: 0.003 }, schedule: { type: 'poly', power: 0.9 } },
    loss: { type: 'ce' },
    watch: { images: demo.val.slice(0, 2), layers: [] },
    ...overrides,
  };
  return { dir, configPath: demo.configPath, config, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
