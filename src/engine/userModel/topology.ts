// Rewrites of a Keras/tfjs model topology (model.json's modelTopology): stock BatchNormalization ↔ SegScope's BatchNorm.

/** SegScope's BatchNorm class name (models/batchNorm.ts); the same weights and config plus `inferenceMode`. */
export const SEGSCOPE_BATCH_NORM = 'SegScopeBatchNorm';
const STOCK_BATCH_NORM = 'BatchNormalization';

/** Deep copy of `node` with every `{class_name: from, config}` renamed to `to` (nested sub-models included). */
function renameClass(node: unknown, from: string, to: string, dropConfig: string[]): unknown {
  if (Array.isArray(node)) return node.map((n) => renameClass(n, from, to, dropConfig));
  if (node === null || typeof node !== 'object') return node;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) out[key] = renameClass(value, from, to, dropConfig);
  if (out.class_name === from) {
    out.class_name = to;
    if (out.config && typeof out.config === 'object') {
      const config = { ...(out.config as Record<string, unknown>) };
      for (const key of dropConfig) delete config[key];
      out.config = config;
    }
  }
  return out;
}

/** Loaded user models get SegScope's BatchNorm, so that freezing can put it in inference mode like the built-ins. */
export function toSegScopeBatchNorm(topology: object): object {
  return renameClass(topology, STOCK_BATCH_NORM, SEGSCOPE_BATCH_NORM, []) as object;
}

/** Exported models use the stock class (loadable by any tfjs/Keras); `inferenceMode` is training state, not architecture. */
export function toStockBatchNorm(topology: object): object {
  return renameClass(topology, SEGSCOPE_BATCH_NORM, STOCK_BATCH_NORM, ['inferenceMode', 'inference_mode']) as object;
}

/** Number of `class_name` occurrences in a topology (for reports and tests). */
export function countClass(topology: unknown, className: string): number {
  if (Array.isArray(topology)) return topology.reduce((n: number, t) => n + countClass(t, className), 0);
  if (topology === null || typeof topology !== 'object') return 0;
  let n = (topology as Record<string, unknown>).class_name === className ? 1 : 0;
  for (const value of Object.values(topology)) n += countClass(value, className);
  return n;
}
