// Reads the weights of a Keras HDF5 file (model.save('x.h5') → model_weights/…, or save_weights('x.h5') → root)
// with jsfive, a pure-JS HDF5 reader, into per-layer weight lists. Every failure names the file.
import { existsSync, readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import * as jsfive from 'jsfive';
import { UserFileError, fileError } from './userFileError';
import type { SourceWeight } from './weightsByName';

/** First 8 bytes of every HDF5 file (when the superblock sits at offset 0, as h5py and Keras write it). */
const HDF5_SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

export interface KerasH5Weights {
  /** 'model' (save: model_weights group) or 'weights' (save_weights: layers at the root). */
  layout: 'model' | 'weights';
  /** Layer names in file order (the `layer_names` attribute). */
  layers: string[];
  /** Weights per owning layer (sub-model groups are opened up to their inner layers). */
  byLayer: Map<string, SourceWeight[]>;
  kerasVersion?: string;
}

function isGroup(node: unknown): node is jsfive.Group {
  return node instanceof jsfive.Group;
}

/** Keras writes names as fixed-length byte strings (NUL-padded), split over name0, name1… when the list is long. */
function stringListAttr(attrs: Record<string, unknown>, name: string): string[] | undefined {
  const chunks: unknown[] = [];
  if (name in attrs) chunks.push(attrs[name]);
  else for (let i = 0; `${name}${i}` in attrs; i++) chunks.push(attrs[`${name}${i}`]);
  if (chunks.length === 0) return undefined;
  const out: string[] = [];
  for (const chunk of chunks) {
    const items = typeof chunk === 'string' ? [chunk] : Array.from(chunk as ArrayLike<unknown>);
    for (const item of items) {
      if (typeof item !== 'string') throw new Error(`attribute "${name}" is not a list of strings`);
      out.push(item.replace(/\0+$/, ''));
    }
  }
  return out;
}

function readDataset(file: string, group: jsfive.Group, groupPath: string, weightName: string): SourceWeight {
  let node: jsfive.Group | jsfive.Dataset;
  try {
    node = group.get(weightName);
  } catch (err) {
    throw fileError(file, `weight "${groupPath}/${weightName}" listed in weight_names cannot be read`, err);
  }
  if (node === undefined || node === null || isGroup(node)) throw new UserFileError(file, `weight "${groupPath}/${weightName}" is missing`, groupPath);
  const dataset = node as jsfive.Dataset;
  const shape = Array.from(dataset.shape ?? []);
  let values: Float32Array;
  try {
    const raw = dataset.value;
    if (raw === undefined || raw === null) throw new Error('no data');
    values = Float32Array.from(raw as ArrayLike<number>);
  } catch (err) {
    throw fileError(file, `weight "${groupPath}/${weightName}" (dtype ${String(dataset.dtype)}) cannot be read — truncated or an unsupported type?`, err);
  }
  const expected = shape.reduce((a, b) => a * b, 1);
  if (values.length !== expected) {
    throw new UserFileError(file, `weight "${groupPath}/${weightName}" has ${values.length} values for shape [${shape}]: truncated file?`, groupPath);
  }
  return { storedName: weightName, shape, tensor: () => tf.tensor(values, shape, 'float32') };
}

/**
 * The layer a weight belongs to. Keras names weights "<layer>/<weight>:0"; inside a nested sub-model's group the
 * prefix is the inner layer's name (model_weights/<submodel>/<inner>/kernel:0), possibly under a name scope.
 */
function ownerOf(groupName: string, weightName: string, knownLayers?: Set<string>): string {
  const prefix = weightName.split('/').slice(0, -1).join('/');
  if (!prefix) return groupName;
  if (prefix === groupName || knownLayers === undefined) return prefix === groupName ? groupName : prefix;
  if (knownLayers.has(prefix)) return prefix;
  if (knownLayers.has(groupName)) return groupName;
  const parts = prefix.split('/');
  for (let i = 1; i < parts.length; i++) {
    const tail = parts.slice(i).join('/');
    if (knownLayers.has(tail)) return tail;
  }
  return prefix;
}

/**
 * Reads every layer's weights from a Keras .h5 file. `knownLayers` (the model's layer names) helps attribute weights
 * stored under name scopes; without it the "<layer>/" prefix of each weight name decides.
 */
export function readKerasH5Weights(h5Path: string, knownLayers?: Set<string>): KerasH5Weights {
  if (!existsSync(h5Path)) throw new UserFileError(h5Path, 'file not found');
  const bytes = readFileSync(h5Path);
  if (bytes.byteLength < 8 || !HDF5_SIGNATURE.every((b, i) => bytes[i] === b)) {
    throw new UserFileError(h5Path, 'not an HDF5 file (no HDF5 signature at its start)');
  }
  let root: jsfive.File;
  try {
    root = new jsfive.File(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength), h5Path);
  } catch (err) {
    throw fileError(h5Path, 'cannot open as HDF5 (corrupt or truncated?)', err);
  }
  try {
    let top: jsfive.Group = root;
    let layout: KerasH5Weights['layout'] = 'weights';
    if (root.keys.includes('model_weights')) {
      const mw = root.get('model_weights');
      if (!isGroup(mw)) throw new UserFileError(h5Path, '"model_weights" is not a group');
      top = mw;
      layout = 'model';
    }
    const layers = stringListAttr(top.attrs, 'layer_names');
    if (layers === undefined) {
      const hint = root.keys.includes('layers') || root.keys.includes('_layer_checkpoint_dependencies')
        ? ' This looks like a Keras 3 ".weights.h5" file; save with model.save("x.h5") or save_weights("x.h5") from Keras 2 (tf.keras), or convert it.'
        : '';
      throw new UserFileError(h5Path, `no "layer_names" attribute: not Keras HDF5 weights.${hint}`);
    }
    const byLayer = new Map<string, SourceWeight[]>();
    for (const layer of layers) {
      let group: jsfive.Group | jsfive.Dataset;
      try {
        group = top.get(layer);
      } catch (err) {
        throw fileError(h5Path, `layer group "${layer}" listed in layer_names cannot be read`, err);
      }
      if (!isGroup(group)) throw new UserFileError(h5Path, `layer group "${layer}" listed in layer_names is missing`, layer);
      const weightNames = stringListAttr(group.attrs, 'weight_names') ?? [];
      for (const weightName of weightNames) {
        const weight = readDataset(h5Path, group, layer, weightName);
        const owner = ownerOf(layer, weightName, knownLayers);
        const list = byLayer.get(owner) ?? [];
        list.push(weight);
        byLayer.set(owner, list);
      }
      if (weightNames.length === 0 && !byLayer.has(layer)) byLayer.set(layer, []);
    }
    const version = root.attrs.keras_version ?? top.attrs.keras_version;
    return { layout, layers, byLayer, kerasVersion: typeof version === 'string' ? version : undefined };
  } catch (err) {
    throw fileError(h5Path, 'cannot read Keras weights (corrupt or truncated?)', err);
  }
}
