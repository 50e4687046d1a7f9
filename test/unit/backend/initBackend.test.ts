// Backend choice: auto picks wasm here and says why the tfjs-node backends were skipped; forced choices; clean stdout.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, WASM_TRAINING_KERNELS } from '../../../src/engine/backend';
import { relativeError, seeded } from './helpers';

const root = path.resolve(__dirname, '../../..');
const backendIndex = path.join(root, 'src/engine/backend/index.ts');

/** Runs a small CommonJS script in a fresh Node (tsx loaded) so each gets its own, not yet started, wasm module. */
function runChild(script: string, env: NodeJS.ProcessEnv = process.env) {
  const result = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], { cwd: root, encoding: 'utf8', timeout: 120_000, env });
  assert.equal(result.status, 0, `child failed: ${result.stderr}`);
  return result;
}

describe('initBackend', () => {
  test('auto picks wasm and lists tfjs-node-gpu and tfjs-node as skipped, with reasons', async () => {
    const report = await initBackend('auto', { threads: 1 });
    assert.equal(report.name, 'wasm');
    assert.equal(tf.getBackend(), 'wasm');
    assert.deepEqual(report.skipped.map((s) => s.name), ['tensorflow-gpu', 'tensorflow']);
    assert.match(report.skipped[0].why, /tfjs-node-gpu/);
    assert.match(report.skipped[1].why, /tfjs-node/);
    for (const s of report.skipped) assert.match(s.why, /not installed|cannot|error|failed/i);
    assert.match(report.reason, /first available/);
    assert.equal(report.simd, true);
    assert.equal(report.threads, 1);
    for (const k of WASM_TRAINING_KERNELS) assert.ok(report.kernels?.includes(k), k);
  });

  test('calling again returns the same report and re-activates the backend', async () => {
    const first = await initBackend('auto', { threads: 1 });
    await tf.setBackend('cpu');
    const second = await initBackend('auto', { threads: 1 });
    assert.equal(second, first);
    assert.equal(tf.getBackend(), 'wasm');
  });

  test('cpu forced picks cpu', async () => {
    const report = await initBackend('cpu');
    assert.equal(report.name, 'cpu');
    assert.equal(tf.getBackend(), 'cpu');
    assert.match(report.reason, /forced/);
    assert.deepEqual(report.skipped, []);
  });

  test('a forced backend that is not installed fails with a clear error', async () => {
    await assert.rejects(initBackend('tensorflow-gpu'), /tensorflow-gpu' is not available.*npm install @tensorflow\/tfjs-node-gpu/s);
    await assert.rejects(initBackend('tensorflow'), /tensorflow' is not available.*npm install @tensorflow\/tfjs-node/s);
  });

  test('nothing reaches stdout while backends start (CLI --json prints JSON lines there)', () => {
    const { stdout } = runChild(`
      const tf = require('@tensorflow/tfjs-core');
      const { initBackend } = require(${JSON.stringify(backendIndex)});
      (async () => {
        await initBackend('auto', { threads: 1 });
        await initBackend('cpu');
        tf.square(tf.tensor([1, 2, 3])).dataSync();
      })().catch((e) => { console.error(e); process.exit(1); });`);
    assert.equal(stdout, '');
  });

  test('wasm with 2 threads starts in Node and computes what cpu computes', () => {
    const x = Array.from(seeded(2 * 8 * 8 * 4, 31)), w = Array.from(seeded(3 * 3 * 4 * 5, 32));
    const { stderr } = runChild(`
      const tf = require('@tensorflow/tfjs-core');
      const { initBackend } = require(${JSON.stringify(backendIndex)});
      (async () => {
        const report = await initBackend('wasm', { threads: 2 });
        const y = tf.conv2d(tf.tensor4d(${JSON.stringify(x)}, [2, 8, 8, 4]), tf.tensor4d(${JSON.stringify(w)}, [3, 3, 4, 5]), 2, 'same');
        console.error('RESULT ' + JSON.stringify({ report, y: Array.from(y.dataSync()) }));
      })().catch((e) => { console.error(e); process.exit(1); });`);
    const line = stderr.split('\n').find((l) => l.startsWith('RESULT '));
    assert.ok(line, stderr);
    const { report, y } = JSON.parse(line.slice(7));
    assert.equal(report.name, 'wasm');
    assert.equal(report.threads, 2);
    const expected = tf.tidy(() => tf.conv2d(tf.tensor4d(x, [2, 8, 8, 4]), tf.tensor4d(w, [3, 3, 4, 5]), 2, 'same').dataSync());
    assert.ok(relativeError(y, expected) <= 1e-5);
  });

  test('a damaged thread worker file in the temp folder is rewritten, not used', () => {
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'segscope-backend-tmp-'));
    try {
      const script = `require(${JSON.stringify(backendIndex)}).initBackend('wasm', { threads: 2 })
        .then((r) => console.log(r.threads), (e) => { console.error(e); process.exit(1); });`;
      const env = { ...process.env, TMPDIR: tmp, TMP: tmp, TEMP: tmp };
      assert.equal(runChild(script, env).stdout.trim(), '2');
      const [dir] = readdirSync(tmp).filter((d) => d.startsWith('segscope-wasm-threads-'));
      require('node:fs').writeFileSync(path.join(tmp, dir, 'wasm-worker.cjs'), "throw new Error('damaged');");
      assert.equal(runChild(script, env).stdout.trim(), '2');
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  test('an esbuild bundle finds the .wasm binaries copied next to it (as in dist/)', async () => {
    const { build } = await import('esbuild');
    const dir = mkdtempSync(path.join(os.tmpdir(), 'segscope-backend-bundle-'));
    try {
      const entry = path.join(dir, 'entry.ts');
      require('node:fs').writeFileSync(entry, `
        import * as tf from '@tensorflow/tfjs-core';
        import { initBackend } from ${JSON.stringify(backendIndex)};
        (async () => {
          const wasm = await initBackend('auto', { threads: 1 });
          const cpu = await initBackend('cpu');
          const y = tf.conv2d(tf.ones([1, 4, 4, 1]), tf.ones([3, 3, 1, 1]), 1, 'same').dataSync()[5];
          console.log(JSON.stringify({ wasm, cpu, y }));
        })().catch((e) => { console.error(e); process.exit(1); });`);
      await build({ entryPoints: [entry], nodePaths: [path.join(root, 'node_modules')], outfile: path.join(dir, 'main.js'), bundle: true, platform: 'node', format: 'cjs',
        target: 'node20', logLevel: 'silent', external: ['@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu'] });
      const wasmDir = path.join(root, 'node_modules/@tensorflow/tfjs-backend-wasm/dist');
      for (const f of readdirSync(wasmDir)) if (f.endsWith('.wasm')) copyFileSync(path.join(wasmDir, f), path.join(dir, f));
      // Run from the temp folder: node_modules is out of reach, so only the copies next to the bundle can be used.
      const result = spawnSync(process.execPath, [path.join(dir, 'main.js')], { cwd: dir, encoding: 'utf8', timeout: 120_000 });
      assert.equal(result.status, 0, result.stderr);
      const { wasm, cpu, y } = JSON.parse(result.stdout.trim());
      assert.equal(wasm.name, 'wasm');
      assert.equal(wasm.simd, true);
      // The cpu backend must survive bundling (a bare import of it is dropped as side-effect free).
      assert.equal(cpu.name, 'cpu');
      assert.equal(y, 9);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
