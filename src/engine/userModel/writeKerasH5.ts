// Writes a model's weights as Keras HDF5 (the save_weights layout: layer_names at the root, one group per layer with
// weight_names and "<layer>/<weight>:0" datasets) through h5wasm, the HDF5 C library compiled to wasm.
import type * as tfl from '@tensorflow/tfjs-layers';
import { localWeightName, leafLayers } from './weightsByName';

type H5Group = import('h5wasm/node').H5Group;

/** h5wasm is an ES module; loaded on first use. */
async function h5wasm(): Promise<typeof import('h5wasm/node')> {
  const mod = await import('h5wasm/node');
  await mod.ready;
  return mod;
}

/** h5wasm creates one level at a time: makes every group along `path` below `parent`. */
function groupAt(parent: H5Group, path: string, made: Map<string, H5Group>): H5Group {
  let current = parent;
  let at = '';
  for (const part of path.split('/')) {
    at = at ? `${at}/${part}` : part;
    let next = made.get(at);
    if (!next) {
      next = current.keys().includes(part) ? undefined : current.create_group(part);
      if (!next) throw new Error(`cannot create HDF5 group "${at}"`);
      made.set(at, next);
    }
    current = next;
  }
  return current;
}

/**
 * Writes `model`'s weights (every layer, nested sub-models opened up) to `file` in the layout Keras'
 * `model.save_weights('x.h5')` writes; Keras' `load_weights(by_name=True)` and SegScope's loadH5Weights read it.
 */
export async function writeKerasH5Weights(model: tfl.LayersModel, file: string): Promise<void> {
  const { File } = await h5wasm();
  const h5 = new File(file, 'w');
  try {
    const made = new Map<string, H5Group>();
    const layers = leafLayers(model);
    h5.create_attribute('layer_names', layers.map((l) => l.name));
    h5.create_attribute('backend', 'tensorflow');
    h5.create_attribute('keras_version', '2.15.0');
    for (const layer of layers) {
      const group = groupAt(h5, layer.name, made);
      const weightNames = layer.weights.map((w) => `${layer.name}/${localWeightName(w.originalName)}:0`);
      if (weightNames.length) group.create_attribute('weight_names', weightNames);
      else group.create_attribute('weight_names', [], [0], 'S1');
      layer.weights.forEach((w, i) => {
        // Keras puts each dataset at <layer group>/<weight name>, i.e. <layer>/<layer>/kernel:0.
        const path = weightNames[i];
        const parent = groupAt(h5, `${layer.name}/${path.split('/').slice(0, -1).join('/')}`, made);
        const values = w.read().dataSync();
        const data = values instanceof Float32Array ? values : Float32Array.from(values as ArrayLike<number>);
        parent.create_dataset({ name: path.split('/').pop()!, data, shape: w.shape as number[], dtype: '<f4' });
      });
    }
  } finally {
    h5.close();
  }
}
