// `segscope export`: a run's checkpoint → a standalone tfjs LayersModel folder (stock BatchNormalization, metadata
// with classes and input size), and optionally Keras .h5 weights.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type * as tfl from '@tensorflow/tfjs-layers';
import { runPaths, type RunInfo } from '../../protocol/runFolder';
import { findCheckpoint } from '../run/checkpoint';
import { folderSaveHandler } from './layersFolderIO';
import { loadLayersModelFromFolder } from './loadLayersModel';
import { toStockBatchNorm } from './topology';
import { UserFileError } from './userFileError';
import { writeKerasH5Weights } from './writeKerasH5';

export interface ExportOptions {
  /** Also write Keras HDF5 weights (`weights.h5`). */
  h5?: boolean;
}

export interface ExportResult {
  modelJson: string;
  h5?: string;
  layers: number;
  epochsDone?: number;
}

/** Metadata stored in model.json's userDefinedMetadata.segscope, so whoever loads the export knows its input. */
export interface ExportMetadata {
  run: string;
  classes: string[];
  inputSize: number;
  normalize?: string;
  ignoreLabel: number;
  epochsDone: number;
}

function readRunInfo(runDir: string): RunInfo | undefined {
  const file = path.join(runDir, runPaths.info);
  if (!existsSync(file)) return undefined;
  return JSON.parse(readFileSync(file, 'utf8')) as RunInfo;
}

/** Saves an in-memory model as a tfjs LayersModel folder (stock class names) and, if asked, Keras .h5 weights. */
export async function exportModel(model: tfl.LayersModel, outDir: string, opts: ExportOptions & { metadata?: ExportMetadata } = {}): Promise<ExportResult> {
  mkdirSync(outDir, { recursive: true });
  await model.save(folderSaveHandler(outDir, {
    rewriteTopology: toStockBatchNorm,
    userDefinedMetadata: opts.metadata ? { segscope: opts.metadata } : undefined,
  }));
  const result: ExportResult = { modelJson: path.join(outDir, 'model.json'), layers: model.layers.length };
  if (opts.h5) {
    result.h5 = path.join(outDir, 'weights.h5');
    await writeKerasH5Weights(model, result.h5);
  }
  return result;
}

/** Exports `<runDir>/checkpoint` (or checkpoint.old after an interrupted save) into `outDir`. */
export async function exportRun(runDir: string, outDir: string, opts: ExportOptions = {}): Promise<ExportResult> {
  const checkpoint = findCheckpoint(path.join(runDir, runPaths.checkpointDir));
  if (!checkpoint) throw new UserFileError(runDir, `no checkpoint to export (${runPaths.checkpointDir}/ is missing or incomplete)`);
  const model = await loadLayersModelFromFolder(path.join(checkpoint, 'model.json'));
  try {
    const info = readRunInfo(runDir);
    const state = JSON.parse(readFileSync(path.join(checkpoint, 'state.json'), 'utf8')) as { epochsDone?: number };
    const metadata: ExportMetadata | undefined = info && {
      run: info.id,
      classes: info.classes.map((c) => c.name),
      inputSize: info.inputSize,
      normalize: info.config.data?.normalize,
      ignoreLabel: info.ignoreLabel,
      epochsDone: state.epochsDone ?? info.epochsDone,
    };
    const result = await exportModel(model, outDir, { ...opts, metadata });
    return { ...result, epochsDone: state.epochsDone };
  } finally {
    model.dispose();
  }
}
