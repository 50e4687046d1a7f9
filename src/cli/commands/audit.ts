// `segscope audit <dataset-or-config> [--json]`: audits a dataset and lists every problem by file; exit 1 when problems exist.
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../../config/load';
import { resolveConfig, type ResolvedConfig } from '../../config/resolve';
import { auditDataset, type AuditIssue, type AuditReport } from '../../engine/data/audit';
import { isDir, VOC_DIRS } from '../../engine/data/layout';
import { onePositional, parseArgs, printedHelp } from '../args';

const USAGE = 'usage: segscope audit <dataset-folder | segscope.json> [--json]';
/** Problems printed per list in text mode (--json always lists all). */
const SHOWN_PER_LIST = 20;

export async function run(args: string[]): Promise<number> {
  if (printedHelp(args, USAGE)) return 0;
  const parsed = parseArgs(args, { json: { kind: 'flag' } });
  const dataset = onePositional(parsed, 'dataset folder or segscope.json', USAGE);
  const json = parsed.options.json === true;
  let target: { cfg: ResolvedConfig; configDir: string };
  try {
    target = configFor(path.resolve(dataset));
  } catch (e) {
    console.error(`audit: ${(e as Error).message}`);
    return 2;
  }
  const report = await auditDataset(target.cfg, target.configDir, json ? undefined : progress);
  if (!json && process.stderr.isTTY) process.stderr.write('\r\x1b[K');
  console.log(json ? JSON.stringify(report) : formatAudit(report));
  return report.problemCount > 0 ? 1 : 0;
}

/**
 * A segscope.json, a folder holding one, or a bare dataset folder: VOC layout with VOC's classes when it has
 * JPEGImages/, image/mask folders otherwise.
 */
export function configFor(target: string): { cfg: ResolvedConfig; configDir: string } {
  if (!existsSync(target)) throw new Error(`${target} does not exist`);
  const configFile = statSync(target).isDirectory() ? path.join(target, 'segscope.json') : target;
  if (existsSync(configFile)) {
    const loaded = loadConfig(configFile);
    return { cfg: resolveConfig(loaded.config), configDir: loaded.configDir };
  }
  const format = isDir(path.join(target, VOC_DIRS.images)) || !isDir(path.join(target, 'images')) ? 'voc' : 'folders';
  return { cfg: resolveConfig({ data: { format, root: '.' } }), configDir: target };
}

function progress(done: number, total: number): void {
  if (process.stderr.isTTY && (done % 50 === 0 || done === total)) process.stderr.write(`\raudit: ${done}/${total} pairs`);
}

export function formatAudit(r: AuditReport): string {
  const lines: string[] = [];
  const pct = (x: number) => `${(x * 100).toFixed(2)} %`;
  lines.push(`dataset ${r.root} (${r.format}), ${r.classes.length} classes, ignore label ${r.ignoreLabel}`);
  for (const s of r.splits) lines.push(`  split ${s.name}: ${s.count} (${s.source})`);
  lines.push(`images with masks: ${r.imageCount}${r.unlabelledImages ? `; images without a mask named by no split: ${r.unlabelledImages}` : ''}`);
  const z = r.sizes;
  if (z.count > 0) {
    lines.push(`sizes: width ${z.minWidth}..${z.maxWidth} (mean ${z.meanWidth.toFixed(1)}), height ${z.minHeight}..${z.maxHeight} (mean ${z.meanHeight.toFixed(1)})`);
    lines.push(`  most common: ${z.common.slice(0, 5).map((c) => `${c.width}x${c.height} ×${c.count}`).join(', ')}`);
  }
  lines.push(`masks: ${r.maskKinds.palette} palette, ${r.maskKinds.gray} gray, ${r.maskKinds.rgb} RGB; void ${pct(r.voidFraction)} of ${r.totalPixels} pixels`);
  lines.push('class                 pixels  frequency  images');
  r.classes.forEach((name, i) => {
    lines.push(`  ${String(i).padStart(2)} ${name.padEnd(16)} ${String(r.classPixels[i]).padStart(10)} ${pct(r.classFrequencies[i]).padStart(9)} ${String(r.classImageCounts[i]).padStart(7)}`);
  });
  const lists: [string, AuditIssue[]][] = [
    ['unreadable or missing files', r.unreadable],
    ['masks with values outside the classes and the ignore label', r.masksWithBadValues],
    ['masks whose size differs from their image', r.sizeMismatches],
    ['RGB masks where a palette was expected', r.rgbMasks],
    ['images without masks', r.imagesWithoutMasks],
    ['masks without images', r.masksWithoutImages],
  ];
  for (const [title, issues] of lists) {
    if (issues.length === 0) continue;
    lines.push(`${title}: ${issues.length}`);
    for (const issue of issues.slice(0, SHOWN_PER_LIST)) lines.push(`  ${issue.file}: ${issue.detail}`);
    if (issues.length > SHOWN_PER_LIST) lines.push(`  … ${issues.length - SHOWN_PER_LIST} more (--json lists all)`);
  }
  lines.push(r.problemCount === 0 ? 'no problems found' : `${r.problemCount} problems`);
  return lines.join('\n');
}
