// Test fixtures in the Keras HDF5 layout, written with h5wasm (the reader under test is jsfive): written here, by
// hand, to the layout Keras 2 uses, not by the exporter under test.
export interface FixtureWeight { name: string; shape: number[]; values: Float32Array }
export interface FixtureLayer { name: string; weights: FixtureWeight[] }

type H5Group = import('h5wasm/node').H5Group;

function mkdirs(root: H5Group, path: string, made: Map<string, H5Group>): H5Group {
  let group = root;
  let at = '';
  for (const part of path.split('/').filter(Boolean)) {
    at += `/${part}`;
    const existing = made.get(at);
    group = existing ?? group.create_group(part);
    made.set(at, group);
  }
  return group;
}

/**
 * layout 'model': what keras Model.save('x.h5') writes (model_weights group, model_config attribute);
 * layout 'weights': what save_weights('x.h5') writes (layer groups at the root). Weight datasets live at
 * <layer group>/<weight name>, weight names being "<owner layer>/<weight>:0".
 */
export async function writeKerasFixture(file: string, layers: FixtureLayer[], layout: 'model' | 'weights'): Promise<void> {
  const h5 = await import('h5wasm/node');
  await h5.ready;
  const f = new h5.File(file, 'w');
  try {
    const made = new Map<string, H5Group>();
    let top: H5Group = f;
    if (layout === 'model') {
      f.create_attribute('keras_version', '2.13.1');
      f.create_attribute('model_config', JSON.stringify({ class_name: 'Functional', config: { name: 'fixture' } }));
      top = mkdirs(f, 'model_weights', made);
    }
    const prefix = layout === 'model' ? 'model_weights/' : '';
    top.create_attribute('layer_names', layers.map((l) => l.name), null, `S${Math.max(...layers.map((l) => l.name.length)) + 3}`);
    for (const layer of layers) {
      const group = mkdirs(f, `${prefix}${layer.name}`, made);
      if (layer.weights.length === 0) group.create_attribute('weight_names', [], [0], 'S1');
      else group.create_attribute('weight_names', layer.weights.map((w) => w.name));
      for (const w of layer.weights) {
        const parts = w.name.split('/');
        const parent = mkdirs(f, `${prefix}${layer.name}/${parts.slice(0, -1).join('/')}`, made);
        parent.create_dataset({ name: parts[parts.length - 1], data: w.values, shape: w.shape, dtype: '<f4' });
      }
    }
  } finally {
    f.close();
  }
}

/** Deterministic values that differ per weight. */
export function fixtureValues(shape: number[], seed: number): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.sin(seed * 12.9898 + i * 78.233) * 0.5;
  return out;
}
