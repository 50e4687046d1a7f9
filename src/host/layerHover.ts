// Finds the layer named at a position in segscope.json, a tfjs model.json or a JS/TS file, and formats a layer's activation summary as Markdown. Pure: no vscode.
import type { LayerStats, LayerSummary } from '../protocol/runFolder';
import { nodeAtOffset, parseJsonWithPositions } from '../config/validate';

export type LayerFileKind = 'segscope' | 'model' | 'code';

export interface LayerHit {
  /** Layer names meant at the position (several for a freeze pattern). */
  layers: string[];
  /** Character range of the string literal. */
  offset: number;
  length: number;
  /** A freeze pattern rather than a name. */
  pattern?: string;
}

/** The string literal (single, double or back quotes, on one line) around `offset`, without its quotes. */
export function stringLiteralAt(text: string, offset: number): { value: string; offset: number; length: number } | undefined {
  const lineStart = text.lastIndexOf('\n', offset - 1) + 1;
  let lineEnd = text.indexOf('\n', offset);
  if (lineEnd < 0) lineEnd = text.length;
  const line = text.slice(lineStart, lineEnd);
  let i = 0;
  while (i < line.length) {
    const quote = line[i];
    if (quote !== '"' && quote !== "'" && quote !== '`') { i++; continue; }
    let j = i + 1, value = '';
    while (j < line.length && line[j] !== quote) {
      if (line[j] === '\\' && j + 1 < line.length) { value += line[j + 1]; j += 2; } else { value += line[j]; j++; }
    }
    if (j >= line.length) return undefined;
    const start = lineStart + i, end = lineStart + j + 1;
    if (offset >= start && offset < end) return { value, offset: start, length: end - start };
    i = j + 1;
  }
  return undefined;
}

/** Which layers the text at `offset` names, given the run's layer names. */
export function layerAt(text: string, offset: number, kind: LayerFileKind, known: readonly string[]): LayerHit | undefined {
  if (kind === 'segscope') {
    let root;
    try { root = parseJsonWithPositions(text); } catch { return undefined; }
    const hit = nodeAtOffset(root, offset);
    if (!hit || hit.onKey || hit.node.kind !== 'string') return undefined;
    const p = hit.path;
    if (p[0] === 'train' && p[1] === 'freeze' && p[2] === 'pattern') {
      let re: RegExp;
      try { re = new RegExp(hit.node.value); } catch { return undefined; }
      return { layers: known.filter((name) => re.test(name)), offset: hit.node.offset, length: hit.node.length, pattern: hit.node.value };
    }
    if (p[0] === 'watch' && p[1] === 'layers' && known.includes(hit.node.value)) {
      return { layers: [hit.node.value], offset: hit.node.offset, length: hit.node.length };
    }
    return undefined;
  }
  const literal = stringLiteralAt(text, offset);
  if (!literal) return undefined;
  if (known.includes(literal.value)) return { layers: [literal.value], offset: literal.offset, length: literal.length };
  // Keras/tfjs names inside model.json may carry a weight suffix ("conv1/kernel"): map it to its layer.
  if (kind === 'model') {
    const owner = known.find((name) => literal.value.startsWith(name + '/'));
    if (owner) return { layers: [owner], offset: literal.offset, length: literal.length };
  }
  return undefined;
}

function num(v: number | undefined, digits = 3): string {
  if (v === undefined) return '—';
  if (v === 0) return '0';
  const a = Math.abs(v);
  return a >= 1000 || a < 1e-3 ? v.toExponential(2) : v.toFixed(digits);
}

export function formatStatsRow(stats: LayerStats): string {
  return `| ${num(stats.mean)} | ${num(stats.std)} | ${num(stats.min)} | ${num(stats.max)} | ${(stats.zeros * 100).toFixed(1)} % | ${num(stats.gradNorm)} | ${num(stats.updateRatio)} |`;
}

const STATS_HEADER = '| mean | std | min | max | zeros | grad norm | update/weight |\n|---:|---:|---:|---:|---:|---:|---:|';

/** Markdown for one layer: its summary line and the statistics of the latest epoch. */
export function layerHoverMarkdown(layer: string, summary: LayerSummary | undefined, latest: { epoch: number; stats: LayerStats } | undefined, runName: string): string {
  const parts: string[] = [];
  const shape = summary ? summary.outputShape.join('×') : '?';
  parts.push(`**${layer}**${summary ? ` · ${summary.className} · output ${shape} · ${summary.params.toLocaleString('en-US')} params · ${summary.trainable ? 'trainable' : 'frozen'}` : ''}`);
  if (latest) {
    parts.push(`Activations at epoch ${latest.epoch} of run *${runName}*:`);
    parts.push(`${STATS_HEADER}\n${formatStatsRow(latest.stats)}`);
    if (latest.stats.zeros > 0.9) parts.push('⚠ More than 90 % of this layer\'s outputs are zero.');
  } else {
    parts.push(`No statistics for this layer yet in run *${runName}*.`);
  }
  return parts.join('\n\n');
}

/** What the hover says about a layer's saved activations (see layerThumbnails.ts). */
export type ActivationPreview =
  | {
    kind: 'thumbnail'; image: string; epoch: number; totalChannels: number;
    thumbnail: { dataUri: string; width: number; height: number; channels: number[] };
  }
  | { kind: 'not-watched' }
  | { kind: 'unavailable'; reason: string };

/** Text with Markdown's special characters escaped, for an image's alt text or a caption. */
function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_[\]()<>|#]/g, '\\$&');
}

/**
 * Markdown for the layer's activations: the thumbnail grid as an inline PNG (data URI) with a caption, or one line
 * saying why there is none. `watchCommand` is a command URI that adds the layer to watch.layers (if available).
 */
export function activationPreviewMarkdown(layer: string, preview: ActivationPreview, watchCommand?: string): string {
  switch (preview.kind) {
    case 'thumbnail': {
      const { thumbnail, image, epoch, totalChannels } = preview;
      const shown = thumbnail.channels.length;
      const alt = escapeMarkdown(`${layer}: ${shown} strongest channels on ${image} at epoch ${epoch}`);
      const caption = `${shown === totalChannels ? `All ${shown}` : `Strongest ${shown} of ${totalChannels}`} channels on *${escapeMarkdown(image)}* at epoch ${epoch} `
        + `(${thumbnail.channels.map((c) => `#${c}`).join(' ')}; each scaled to its own range):`;
      return `${caption}\n\n![${alt}](${thumbnail.dataUri})`;
    }
    case 'not-watched': {
      const how = watchCommand
        ? `[Watch this layer](${watchCommand}) (adds it to \`watch.layers\` in segscope.json; takes effect from the next run).`
        : 'Add it to `watch.layers` in segscope.json to save its feature maps from the next run on.';
      return `Not a watched layer: its feature maps are not saved. ${how}`;
    }
    case 'unavailable':
      return `No feature-map thumbnail: ${preview.reason}.`;
  }
}

/** Markdown for a freeze pattern: which layers it freezes. */
export function freezePatternMarkdown(pattern: string, layers: string[], runName: string): string {
  if (layers.length === 0) return `Pattern \`${pattern}\` matches no layer of run *${runName}*.`;
  const shown = layers.slice(0, 20).map((l) => `\`${l}\``).join(', ');
  return `Pattern \`${pattern}\` freezes ${layers.length} layer${layers.length === 1 ? '' : 's'} of run *${runName}*: ${shown}${layers.length > 20 ? ', …' : ''}`;
}
