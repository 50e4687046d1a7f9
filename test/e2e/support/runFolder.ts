// Reads a SegScope run folder from disk, independently of the extension: run.json, an epoch's metrics, label PNGs as class indices.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { decode } from 'fast-png';
import { runPaths, type EpochMetrics, type RunInfo } from '../../../src/protocol/runFolder';

/** Run folders (those holding run.json) below `runsDir`, oldest name first. */
export function runFolders(runsDir: string): string[] {
  if (!existsSync(runsDir)) return [];
  return readdirSync(runsDir).sort()
    .map((name) => path.join(runsDir, name))
    .filter((dir) => existsSync(path.join(dir, runPaths.info)));
}

export function readRunInfo(runDir: string): RunInfo {
  return JSON.parse(readFileSync(path.join(runDir, runPaths.info), 'utf8')) as RunInfo;
}

export function readEpochMetrics(runDir: string, epoch: number): EpochMetrics {
  return JSON.parse(readFileSync(path.join(runDir, runPaths.metrics(epoch)), 'utf8')) as EpochMetrics;
}

/** A palette PNG's indices (one byte per pixel = class label), as the trainer wrote it. */
export function readLabelPng(file: string): { width: number; height: number; labels: Uint8Array } {
  const png = decode(readFileSync(file));
  if (png.channels !== 1 || png.depth !== 8) throw new Error(`${file}: expected an 8-bit palette/grey PNG, got ${png.channels} channel(s) of ${png.depth} bits`);
  return { width: png.width, height: png.height, labels: Uint8Array.from(png.data as Uint8Array) };
}
