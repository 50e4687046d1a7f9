// Micro-benchmark of the fused softmax cross-entropy forward (softmax, loss and gradient) on wasm, logits [pixels, 21].
// Run: node --import tsx scripts/bench-loss.ts [--root <checkout>] [--threads N] [--reps N] [--pixels 131072,524288] [--weights]
// (pixel counts in multiples of 1024; every 23rd label or so is the ignore label 255)
// --root times another checkout's code (for A/B); the timings are min and median of `reps` calls after two warm-ups, and
// the minimum process CPU time (steadier than wall time on a busy machine, for one thread).
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

const root = path.resolve(option('root', path.join(__dirname, '..')));
const threads = Number(option('threads', '2')), reps = Number(option('reps', '20'));
const sizes = option('pixels', '131072,524288').split(',').map(Number);
const C = 21;

async function main(): Promise<void> {
  const { initBackend } = await import(path.join(root, 'src/engine/backend')) as typeof import('../src/engine/backend');
  const { fusedSoftmaxCrossEntropy } = await import(path.join(root, 'src/engine/losses/softmaxCrossEntropy')) as
    typeof import('../src/engine/losses/softmaxCrossEntropy');
  const report = await initBackend('wasm', { threads });
  const weights = process.argv.includes('--weights') ? Array.from({ length: C }, (_, c) => 0.5 + c / C) : undefined;
  for (const pixels of sizes) {
    const logits = tf.mul(tf.randomUniform([pixels / 1024, 32, 32, C], -1, 1, 'float32', 1), 6) as tf.Tensor4D;
    const labelValues = Int32Array.from({ length: pixels }, (_, i) => ((i * 2654435761) >>> 7) % 23 === 22 ? 255 : ((i * 40503) >>> 5) % C);
    const labels = tf.tensor3d(labelValues, [pixels / 1024, 32, 32], 'int32');
    const times: number[] = [], cpu: number[] = [];
    let loss = 0;
    for (let i = 0; i < reps + 2; i++) {
      const t0 = performance.now(), c0 = process.cpuUsage();
      const value = tf.tidy(() => fusedSoftmaxCrossEntropy(labels, logits, 255, weights));
      loss = value.dataSync()[0];
      const ms = performance.now() - t0, c1 = process.cpuUsage(c0);
      value.dispose();
      if (i >= 2) {
        times.push(ms);
        cpu.push((c1.user + c1.system) / 1000);
      }
    }
    times.sort((a, b) => a - b);
    cpu.sort((a, b) => a - b);
    console.log(`[${pixels}, ${C}]${weights ? ' weighted' : ''}, wasm ${report.threads ?? 1} thread(s), ${path.basename(root)}: ` +
      `min ${times[0].toFixed(2)} ms, median ${times[times.length >> 1].toFixed(2)} ms; process CPU time min ${cpu[0].toFixed(2)} ms ` +
      `(on two threads it includes the helper's polling) (loss ${loss})`);
    tf.dispose([logits, labels]);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
