// Side-by-side speed benchmark: `segscope bench` (wasm engine) against the PyTorch peer, alternating runs, medians and ratios.
// Usage: node scripts/bench-peer.mjs [--peer path/to/torch_bench.py] [--rounds 3] [--sizes 128,256] [--batch 8] [--backend wasm]
//        [--steps 8] [--warmup 3] [--threads N (PyTorch; default: logical cores)]
// Each round runs segscope then PyTorch back to back; the 1-minute load average is recorded before every run, because
// on a shared machine the numbers mean little without it (PyTorch's OpenMP threads suffer most from busy cores).
// The peer is only for measuring (python3-torch, python3-numpy, libopenblas0-openmp from Debian); SegScope never needs Python.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};
const peer = path.resolve(option('peer', process.env.SEGSCOPE_PEER_BENCH ?? path.join(root, '..', 'shared', 'peers', 'torch_bench.py')));
const rounds = Number(option('rounds', '3'));
const sizes = option('sizes', '128,256').split(',').map(Number);
const batch = option('batch', '8');
const backend = option('backend', 'wasm');
const python = option('python', '/usr/bin/python3');
const steps = option('steps', '8');
const warmup = option('warmup', '3');
const threads = option('threads', String(os.availableParallelism()));

if (!existsSync(peer)) {
  console.error(`bench-peer: the PyTorch peer script was not found at ${peer}; pass --peer <torch_bench.py> or set SEGSCOPE_PEER_BENCH.`);
  process.exit(2);
}
const cli = path.join(root, 'dist', 'cli.js');
if (!existsSync(cli)) {
  console.error('bench-peer: dist/cli.js is missing; run `npm run build` first.');
  process.exit(2);
}

function runJson(command, commandArgs) {
  const result = spawnSync(command, commandArgs, { encoding: 'utf8', maxBuffer: 16 << 20 });
  if (result.status !== 0) throw new Error(`${command} ${commandArgs.join(' ')} failed:\n${result.stderr}`);
  const line = result.stdout.trim().split('\n').filter((l) => l.startsWith('{')).pop();
  return JSON.parse(line);
}

const median = (values) => {
  const s = [...values].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const load = () => +os.loadavg()[0].toFixed(1);
const rows = [];
for (const size of sizes) {
  const ours = [];
  const theirs = [];
  const loads = [];
  for (let r = 0; r < rounds; r++) {
    loads.push(load());
    const o = runJson(process.execPath, [cli, 'bench', '--json', '--size', String(size), '--batch', batch, '--backend', backend,
      '--steps', steps, '--warmup', warmup]);
    loads.push(load());
    const t = runJson(python, [peer, '--size', String(size), '--batch', batch, '--steps', steps, '--warmup', warmup, '--threads', threads]);
    if (o.params !== t.params) throw new Error(`parameter counts differ: segscope ${o.params} vs pytorch ${t.params}`);
    ours.push(o);
    theirs.push(t);
    console.error(`size ${size} round ${r + 1}: segscope ${o.trainImagesPerSec} img/s train, ${o.inferImagesPerSec} infer; ` +
      `pytorch ${t.trainImagesPerSec} train, ${t.inferImagesPerSec} infer (load ${loads.slice(-2).join(', ')})`);
  }
  const row = {
    size, batch: Number(batch), segscopeBackend: ours[0].backend, pytorch: theirs[0].backend,
    segscopeTrain: median(ours.map((x) => x.trainImagesPerSec)), pytorchTrain: median(theirs.map((x) => x.trainImagesPerSec)),
    segscopeInfer: median(ours.map((x) => x.inferImagesPerSec)), pytorchInfer: median(theirs.map((x) => x.inferImagesPerSec)),
    loadMin: Math.min(...loads), loadMax: Math.max(...loads),
    runs: ours.map((o, i) => ({ segscope: [o.trainImagesPerSec, o.inferImagesPerSec], pytorch: [theirs[i].trainImagesPerSec, theirs[i].inferImagesPerSec] })),
  };
  row.trainRatio = +(row.segscopeTrain / row.pytorchTrain).toFixed(3);
  row.inferRatio = +(row.segscopeInfer / row.pytorchInfer).toFixed(3);
  rows.push(row);
}

console.log(JSON.stringify({ date: new Date().toISOString(), cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, rounds, steps, warmup, rows }));
console.log(`\n${new Date().toISOString()}, ${os.cpus().length} × ${os.cpus()[0]?.model}, medians of ${rounds} alternating runs, ${steps} steps after ${warmup} warm-up`);
console.log('\n| size | batch | segscope train img/s | pytorch train img/s | train ratio | segscope infer img/s | pytorch infer img/s | infer ratio | load avg (1 min) |');
console.log('|---|---|---|---|---|---|---|---|---|');
for (const r of rows) {
  console.log(`| ${r.size}² | ${r.batch} | ${r.segscopeTrain} | ${r.pytorchTrain} | ${r.trainRatio} | ${r.segscopeInfer} | ${r.pytorchInfer} | ${r.inferRatio} | ${r.loadMin}–${r.loadMax} |`);
}
