// Checkpoints without tfjs-node: the model in tfjs LayersModel format (model.json + weights.bin) through a file IOHandler,
// the optimizer's state (its getWeights()) in the same weights format, and state.json with the loop's position.
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { tempSibling } from './atomicFiles';

/** A tensor with the name it is saved under (tf.io's shape for optimizer weights). */
interface NamedTensor {
  name: string;
  tensor: tf.Tensor;
}

export const CHECKPOINT_FILES = {
  model: 'model.json',
  weights: 'weights.bin',
  optimizer: 'optimizer.json',
  optimizerWeights: 'optimizer.bin',
  state: 'state.json',
} as const;

/** Where the training loop stood when the checkpoint was written. */
export interface CheckpointState {
  formatVersion: 1;
  /** Completed epochs (1-based count). */
  epochsDone: number;
  /** Batches already done in epoch `epochsDone + 1` (non-zero only for a checkpoint written by Stop mid-epoch). */
  batchInEpoch: number;
  /** Batches done over the whole run. */
  step: number;
  /** Data order and augmentation are derived from (seed, epoch): the seed is the whole RNG state. */
  seed: number;
  optimizer: string;
  learningRate: number;
  earlyStopping?: { best: number | null; bestEpoch: number; badEpochs: number };
  savedAt: string;
}

function joinWeightData(data: tf.io.WeightData | undefined): ArrayBuffer {
  if (data === undefined) return new ArrayBuffer(0);
  return tf.io.CompositeArrayBuffer.join(data);
}

/** An IOHandler that writes the LayersModel format into `dir` with node's fs (tf.io's file:// handler needs tfjs-node). */
export function fileSaveHandler(dir: string): tf.io.IOHandler {
  return {
    save: async (artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> => {
      const weightData = joinWeightData(artifacts.weightData);
      const modelJson = {
        modelTopology: artifacts.modelTopology,
        format: artifacts.format ?? 'layers-model',
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy ?? null,
        weightsManifest: [{ paths: [`./${CHECKPOINT_FILES.weights}`], weights: artifacts.weightSpecs ?? [] }],
        trainingConfig: artifacts.trainingConfig,
        userDefinedMetadata: artifacts.userDefinedMetadata,
      };
      writeFileSync(path.join(dir, CHECKPOINT_FILES.weights), new Uint8Array(weightData));
      writeFileSync(path.join(dir, CHECKPOINT_FILES.model), JSON.stringify(modelJson));
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    },
  };
}

/** The matching load handler (for tfl.loadLayersModel, or to read weights by name). */
export function fileLoadHandler(dir: string): tf.io.IOHandler {
  return {
    load: async (): Promise<tf.io.ModelArtifacts> => {
      const json = JSON.parse(readFileSync(path.join(dir, CHECKPOINT_FILES.model), 'utf8')) as tf.io.ModelJSON;
      const weightSpecs = json.weightsManifest.flatMap((group) => group.weights);
      const bytes = readFileSync(path.join(dir, CHECKPOINT_FILES.weights));
      const weightData = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
      return tf.io.getModelArtifactsForJSONSync(json, weightSpecs, weightData);
    },
  };
}

async function writeNamedTensors(dir: string, jsonName: string, binName: string, tensors: NamedTensor[], extra: object): Promise<void> {
  const { data, specs } = await tf.io.encodeWeights(tensors);
  writeFileSync(path.join(dir, binName), new Uint8Array(data));
  writeFileSync(path.join(dir, jsonName), JSON.stringify({ ...extra, weights: specs }, null, 1));
}

function readNamedTensors(dir: string, jsonName: string, binName: string): { tensors: NamedTensor[]; extra: Record<string, unknown> } {
  const json = JSON.parse(readFileSync(path.join(dir, jsonName), 'utf8')) as { weights: tf.io.WeightsManifestEntry[] } & Record<string, unknown>;
  const bytes = readFileSync(path.join(dir, binName));
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  const map = tf.io.decodeWeights(buffer, json.weights);
  // decodeWeights returns a map; the spec order is the optimizer's order, which setWeights relies on.
  return { tensors: json.weights.map((spec) => ({ name: spec.name, tensor: map[spec.name] })), extra: json };
}

/**
 * Writes `<runDir>/checkpoint/` atomically: a temp folder is filled, then swapped in; a crash keeps the previous one.
 */
export async function saveCheckpoint(
  checkpointDir: string, model: tfl.LayersModel, optimizer: tf.Optimizer, state: CheckpointState,
): Promise<void> {
  mkdirSync(path.dirname(checkpointDir), { recursive: true });
  const temp = tempSibling(checkpointDir);
  mkdirSync(temp, { recursive: true });
  try {
    await model.save(fileSaveHandler(temp));
    const optimizerWeights = await optimizer.getWeights();
    await writeNamedTensors(temp, CHECKPOINT_FILES.optimizer, CHECKPOINT_FILES.optimizerWeights, optimizerWeights,
      { className: optimizer.getClassName(), config: optimizer.getConfig() });
    // saveIterations() creates a fresh scalar each call; everything else belongs to the optimizer.
    for (const w of optimizerWeights) if (w.name === 'iter') w.tensor.dispose();
    writeFileSync(path.join(temp, CHECKPOINT_FILES.state), JSON.stringify(state, null, 2));
  } catch (err) {
    rmSync(temp, { recursive: true, force: true });
    throw err;
  }
  const previous = `${checkpointDir}.old`;
  rmSync(previous, { recursive: true, force: true });
  if (existsSync(checkpointDir)) renameSync(checkpointDir, previous);
  renameSync(temp, checkpointDir);
  rmSync(previous, { recursive: true, force: true });
}

/** The checkpoint folder to resume from: `checkpoint/`, or `checkpoint.old/` if a crash hit the swap. */
export function findCheckpoint(checkpointDir: string): string | undefined {
  for (const dir of [checkpointDir, `${checkpointDir}.old`]) {
    if (existsSync(path.join(dir, CHECKPOINT_FILES.state))) return dir;
  }
  return undefined;
}

export function readCheckpointState(dir: string): CheckpointState {
  return JSON.parse(readFileSync(path.join(dir, CHECKPOINT_FILES.state), 'utf8')) as CheckpointState;
}

/**
 * Loads saved weights into an already built model of the same architecture, in weight order.
 * (Names differ when the same architecture is built twice in one process: tfjs suffixes them `_1`.)
 */
export async function loadModelWeights(dir: string, model: tfl.LayersModel): Promise<void> {
  const artifacts = await fileLoadHandler(dir).load!();
  const specs = artifacts.weightSpecs ?? [];
  const map = tf.io.decodeWeights(artifacts.weightData!, specs);
  const values = specs.map((s) => map[s.name]);
  const weights = model.weights;
  if (values.length !== weights.length) {
    tf.dispose(values);
    throw new Error(`Checkpoint in ${dir} has ${values.length} weights, the model has ${weights.length}: not the same architecture`);
  }
  values.forEach((v, i) => {
    if (v.shape.join('x') !== weights[i].shape.join('x')) {
      throw new Error(`Checkpoint weight ${specs[i].name} has shape [${v.shape}], model weight ${weights[i].originalName} has [${weights[i].shape}]`);
    }
  });
  weights.forEach((w, i) => w.write(values[i]));
  tf.dispose(values);
}

/** Restores the optimizer's slots; call with the same variable order the training loop uses. */
export async function loadOptimizerState(dir: string, optimizer: tf.Optimizer): Promise<void> {
  const { tensors } = readNamedTensors(dir, CHECKPOINT_FILES.optimizer, CHECKPOINT_FILES.optimizerWeights);
  await optimizer.setWeights(tensors);
  // setWeights copies every slot into a new variable (and reads the iteration count); the decoded tensors are ours.
  tf.dispose(tensors.map((t) => t.tensor));
}
