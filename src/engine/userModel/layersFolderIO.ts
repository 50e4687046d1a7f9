// Reading and writing a tfjs LayersModel folder (model.json + weight shards, as tensorflowjs_converter writes it)
// with node's fs, so no tfjs-node is needed. Every failure names the file.
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { fileError, UserFileError } from './userFileError';

const BYTES_PER: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2, int16: 2, int8: 1 };

/** Bytes a weight occupies in its shard (quantized weights take their quantized size). */
function specBytes(spec: tf.io.WeightsManifestEntry): number {
  const count = spec.shape.reduce((a, b) => a * b, 1);
  const dtype = spec.quantization?.dtype ?? spec.dtype;
  const per = BYTES_PER[dtype];
  if (per === undefined) throw new Error(`weight ${spec.name} has an unsupported dtype '${dtype}'`);
  return count * per;
}

/** Reads and checks model.json; the error names the file and says what is wrong. */
export function readModelJson(modelJsonPath: string): tf.io.ModelJSON {
  if (!existsSync(modelJsonPath)) throw new UserFileError(modelJsonPath, 'file not found');
  let json: tf.io.ModelJSON;
  try {
    json = JSON.parse(readFileSync(modelJsonPath, 'utf8')) as tf.io.ModelJSON;
  } catch (err) {
    throw fileError(modelJsonPath, 'not valid JSON (corrupt or truncated model.json?)', err);
  }
  if (json === null || typeof json !== 'object' || typeof json.modelTopology !== 'object' || json.modelTopology === null) {
    throw new UserFileError(modelJsonPath, 'no "modelTopology": not a tfjs LayersModel model.json');
  }
  if (json.format !== undefined && json.format !== 'layers-model') {
    throw new UserFileError(modelJsonPath, `format is "${json.format}", expected "layers-model" (graph models cannot be trained)`);
  }
  if (!Array.isArray(json.weightsManifest)) throw new UserFileError(modelJsonPath, 'no "weightsManifest" list');
  return json;
}

/**
 * An IOHandler loading model.json and its shards from disk: shards are concatenated in manifest order (what tfjs'
 * http loader does), and their total size is checked against the weight specs so a truncated shard is named.
 * `rewriteTopology` may change the topology before tfjs deserialises it.
 */
export function folderLoadHandler(modelJsonPath: string, rewriteTopology?: (topology: object) => object): tf.io.IOHandler {
  return {
    load: async (): Promise<tf.io.ModelArtifacts> => {
      const json = readModelJson(modelJsonPath);
      const dir = path.dirname(modelJsonPath);
      const specs: tf.io.WeightsManifestEntry[] = [];
      const buffers: Uint8Array[] = [];
      for (const group of json.weightsManifest) {
        let groupBytes = 0;
        const groupFiles: string[] = [];
        for (const shard of group.paths) {
          const file = path.resolve(dir, shard);
          if (!existsSync(file)) throw new UserFileError(file, `weight shard listed in ${modelJsonPath} is missing`);
          const bytes = readFileSync(file);
          groupBytes += bytes.byteLength;
          groupFiles.push(file);
          buffers.push(bytes);
        }
        const expected = group.weights.reduce((n, spec) => n + specBytes(spec), 0);
        if (groupBytes !== expected) {
          throw new UserFileError(groupFiles.join(', ') || modelJsonPath,
            `weight shards hold ${groupBytes} bytes, the manifest's weights (${group.weights[0]?.name ?? 'none'} …) need ${expected}: truncated or not this model's shards`);
        }
        specs.push(...group.weights);
      }
      const total = buffers.reduce((n, b) => n + b.byteLength, 0);
      const joined = new Uint8Array(total);
      let at = 0;
      for (const b of buffers) { joined.set(b, at); at += b.byteLength; }
      const topology = rewriteTopology ? rewriteTopology(json.modelTopology as object) : json.modelTopology;
      return {
        modelTopology: topology as tf.io.ModelArtifacts['modelTopology'],
        format: json.format,
        generatedBy: json.generatedBy,
        convertedBy: json.convertedBy,
        trainingConfig: json.trainingConfig,
        userDefinedMetadata: json.userDefinedMetadata,
        weightSpecs: specs,
        weightData: joined.buffer,
      };
    },
  };
}

export interface FolderSaveOptions {
  /** Shard file name (one shard). Default 'group1-shard1of1.bin', the converter's name. */
  shardName?: string;
  /** Changes the topology before it is written (e.g. to stock class names). */
  rewriteTopology?: (topology: object) => object;
  userDefinedMetadata?: Record<string, unknown>;
}

/** An IOHandler writing model.json + one weight shard into `dir` (which must exist). */
export function folderSaveHandler(dir: string, opts: FolderSaveOptions = {}): tf.io.IOHandler {
  const shardName = opts.shardName ?? 'group1-shard1of1.bin';
  return {
    save: async (artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> => {
      const weightData = artifacts.weightData === undefined ? new ArrayBuffer(0) : tf.io.CompositeArrayBuffer.join(artifacts.weightData);
      const topology = opts.rewriteTopology && artifacts.modelTopology ? opts.rewriteTopology(artifacts.modelTopology as object) : artifacts.modelTopology;
      const modelJson = {
        modelTopology: topology as tf.io.ModelJSON['modelTopology'],
        format: 'layers-model',
        generatedBy: artifacts.generatedBy,
        convertedBy: 'SegScope export',
        weightsManifest: [{ paths: [`./${shardName}`], weights: artifacts.weightSpecs ?? [] }],
        ...(opts.userDefinedMetadata ? { userDefinedMetadata: opts.userDefinedMetadata } : {}),
      } as tf.io.ModelJSON;
      writeFileSync(path.join(dir, shardName), new Uint8Array(weightData));
      writeFileSync(path.join(dir, 'model.json'), JSON.stringify(modelJson));
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON({ ...artifacts, modelTopology: topology as tf.io.ModelArtifacts['modelTopology'] }) };
    },
  };
}

/** `path` may be a model.json or the folder holding one. */
export function modelJsonIn(p: string): string {
  return existsSync(p) && statSync(p).isDirectory() ? path.join(p, 'model.json') : p;
}
