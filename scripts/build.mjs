// Builds every entry point (extension, trainer, CLI, debug adapter, webview) with one esbuild call each, and copies the wasm binaries next to them.
import { build } from 'esbuild';
import { cpSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(root, 'dist');
const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');

/** Node-side entries: [source, output name]. Entries whose source does not exist yet are skipped. */
const nodeEntries = [
  ['src/extension.ts', 'extension'],
  ['src/trainer/main.ts', 'trainer'],
  ['src/cli/main.ts', 'cli'],
  ['src/debug/adapterMain.ts', 'debugAdapter'],
  ['src/engine/data/decodeWorker.ts', 'decodeWorker'],
];
const webEntries = [['webview/src/main.ts', 'webview']];

/** Loaded at run time if installed (optional) or provided by the host. */
const external = ['vscode', '@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu', 'sharp'];

mkdirSync(dist, { recursive: true });
const present = (entries) => entries.filter(([src]) => existsSync(path.join(root, src)));

const common = { bundle: true, sourcemap: true, minify: production, logLevel: 'warning', absWorkingDir: root };
const builds = [];
for (const [src, name] of present(nodeEntries)) {
  builds.push({
    ...common, entryPoints: [src], outfile: `dist/${name}.js`, platform: 'node', format: 'cjs', target: 'node20',
    external, banner: name === 'cli' ? { js: '#!/usr/bin/env node' } : undefined,
  });
}
for (const [src, name] of present(webEntries)) {
  builds.push({ ...common, entryPoints: [src], outfile: `dist/${name}.js`, platform: 'browser', format: 'iife', target: 'chrome120',
    loader: { '.css': 'css' } });
}

// tfjs-backend-wasm looks for its .wasm files (and the threads worker) next to the script that loads it.
const wasmDir = path.join(root, 'node_modules/@tensorflow/tfjs-backend-wasm/dist');
if (existsSync(wasmDir)) {
  for (const f of readdirSync(wasmDir)) if (f.endsWith('.wasm')) cpSync(path.join(wasmDir, f), path.join(dist, f));
}

if (watch) {
  const { context } = await import('esbuild');
  for (const options of builds) await (await context(options)).watch();
  console.log(`watching ${builds.length} entry points`);
} else {
  await Promise.all(builds.map((options) => build(options)));
  console.log(`built ${builds.map((b) => b.outfile).join(', ')}`);
}
