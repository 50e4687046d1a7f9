// Dataset audit: counts, sizes, class frequencies, void fraction, and every bad, missing or unexpected file by name.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { ResolvedConfig } from '../../config/resolve';
import { DecodeError, decodeImage, decodeMask, type MaskKind } from './codecs';
import {
  findWithExtension, folderSplitDirs, IMAGE_EXTENSIONS, isDir, MASK_EXTENSIONS, readSplitFile, stemsIn, VOC_DIRS,
} from './layout';
import { vocColorToClass } from './palette';

/** One problem, always naming the file it is about. */
export interface AuditIssue {
  file: string;
  detail: string;
}

export interface SizeStats {
  count: number;
  minWidth: number;
  maxWidth: number;
  minHeight: number;
  maxHeight: number;
  meanWidth: number;
  meanHeight: number;
  /** The most frequent sizes, most frequent first (at most 10). */
  common: { width: number; height: number; count: number }[];
}

export interface AuditReport {
  root: string;
  format: 'voc' | 'folders';
  classes: string[];
  ignoreLabel: number;
  /** The split files (or folders) found and how many ids each names or holds. */
  splits: { name: string; source: string; count: number }[];
  /** Images that have a mask (the pairs audited). */
  imageCount: number;
  /** Images readable and measured. */
  sizes: SizeStats;
  /** Pixels per class over all readable masks (index = label value). */
  classPixels: number[];
  /** classPixels as fractions of all labelled (non-void, in-range) pixels. */
  classFrequencies: number[];
  /** Number of masks in which each class occurs at least once. */
  classImageCounts: number[];
  totalPixels: number;
  voidPixels: number;
  voidFraction: number;
  /** How the masks are stored. */
  maskKinds: Record<MaskKind, number>;
  /** VOC layout: images in JPEGImages without a mask and named by no split (normal in VOC: detection-only images). */
  unlabelledImages: number;
  /** Masks holding values outside {0..C-1, ignore} (or, for RGB masks, colours outside the table). */
  masksWithBadValues: AuditIssue[];
  /** Masks whose width/height differs from their image. */
  sizeMismatches: AuditIssue[];
  /** RGB masks where a palette (or gray) mask was expected: no colorToClass in the config. */
  rgbMasks: AuditIssue[];
  imagesWithoutMasks: AuditIssue[];
  masksWithoutImages: AuditIssue[];
  /** Files that cannot be read or decoded, and files a split names that do not exist. */
  unreadable: AuditIssue[];
  /** Total of all problem lists above. */
  problemCount: number;
}

interface Pair {
  id: string;
  image: string;
  mask: string;
}

/** Audits every image/mask pair the config's dataset holds. Never throws for bad files; they are listed. */
export async function auditDataset(
  cfg: ResolvedConfig, configDir: string, onProgress?: (done: number, total: number) => void,
): Promise<AuditReport> {
  const root = path.resolve(configDir, cfg.data.root);
  const C = cfg.numClasses;
  const report: AuditReport = {
    root, format: cfg.data.format, classes: cfg.data.classes, ignoreLabel: cfg.data.ignoreLabel, splits: [],
    imageCount: 0, sizes: emptySizes(), classPixels: new Array(C).fill(0), classFrequencies: new Array(C).fill(0),
    classImageCounts: new Array(C).fill(0), totalPixels: 0, voidPixels: 0, voidFraction: 0,
    maskKinds: { palette: 0, gray: 0, rgb: 0 }, unlabelledImages: 0, masksWithBadValues: [], sizeMismatches: [],
    rgbMasks: [], imagesWithoutMasks: [], masksWithoutImages: [], unreadable: [], problemCount: 0,
  };
  if (!isDir(root)) {
    report.unreadable.push({ file: root, detail: 'dataset folder does not exist' });
    return finish(report);
  }
  const pairs = cfg.data.format === 'voc' ? vocPairs(root, report) : folderPairs(cfg, root, report);
  report.imageCount = pairs.length;

  const sizeCounts = new Map<string, number>();
  let sumW = 0, sumH = 0;
  const colorToClass = cfg.data.colorToClass ?? vocColorToClass(C, cfg.data.ignoreLabel);
  for (let i = 0; i < pairs.length; i++) {
    onProgress?.(i, pairs.length);
    const pair = pairs[i];
    const image = await tryDecode(pair.image, report, (bytes) => decodeImage(bytes, pair.image));
    if (image) {
      const s = report.sizes;
      if (s.count === 0) {
        s.minWidth = s.maxWidth = image.width;
        s.minHeight = s.maxHeight = image.height;
      }
      s.count++;
      s.minWidth = Math.min(s.minWidth, image.width); s.maxWidth = Math.max(s.maxWidth, image.width);
      s.minHeight = Math.min(s.minHeight, image.height); s.maxHeight = Math.max(s.maxHeight, image.height);
      sumW += image.width; sumH += image.height;
      const key = `${image.width}x${image.height}`;
      sizeCounts.set(key, (sizeCounts.get(key) ?? 0) + 1);
    }
    const mask = await tryDecode(pair.mask, report,
      (bytes) => decodeMask(bytes, pair.mask, { ignoreLabel: cfg.data.ignoreLabel, colorToClass }));
    if (!mask) continue;
    report.maskKinds[mask.kind]++;
    if (mask.kind === 'rgb' && !cfg.data.colorToClass) {
      report.rgbMasks.push({ file: pair.mask, detail: 'RGB mask where a palette or gray mask was expected (read through the VOC colour map; set data.colorToClass if intended)' });
    }
    if (image && (image.width !== mask.width || image.height !== mask.height)) {
      report.sizeMismatches.push({ file: pair.mask, detail: `mask is ${mask.width}x${mask.height} but ${path.basename(pair.image)} is ${image.width}x${image.height}` });
    }
    countLabels(mask.labels, C, cfg.data.ignoreLabel, report, pair.mask);
    if (mask.unknownColorPixels > 0) {
      report.masksWithBadValues.push({ file: pair.mask, detail: `${mask.unknownColorPixels} pixels have colours outside the colour table (e.g. ${mask.unknownColors.slice(0, 3).join(' / ')})` });
    }
  }
  onProgress?.(pairs.length, pairs.length);
  if (report.sizes.count > 0) {
    report.sizes.meanWidth = sumW / report.sizes.count;
    report.sizes.meanHeight = sumH / report.sizes.count;
    report.sizes.common = [...sizeCounts.entries()].sort((a, b) => b[1] - a[1]).slice(0, 10).map(([key, count]) => {
      const [width, height] = key.split('x').map(Number);
      return { width, height, count };
    });
  } else {
    report.sizes = emptySizes();
  }
  return finish(report);
}

function countLabels(labels: Uint8Array, C: number, ignore: number, report: AuditReport, file: string): void {
  const histogram = new Array<number>(256).fill(0);
  for (const v of labels) histogram[v]++;
  const bad: string[] = [];
  let badPixels = 0;
  for (let v = 0; v < 256; v++) {
    const n = histogram[v];
    if (n === 0) continue;
    if (v === ignore) report.voidPixels += n;
    else if (v < C) {
      report.classPixels[v] += n;
      report.classImageCounts[v]++;
    } else {
      badPixels += n;
      bad.push(String(v));
    }
  }
  report.totalPixels += labels.length;
  if (bad.length > 0) {
    report.masksWithBadValues.push({ file, detail: `${badPixels} pixels hold values outside 0..${C - 1} and ${ignore}: ${bad.slice(0, 10).join(', ')}${bad.length > 10 ? ', …' : ''}` });
  }
}

async function tryDecode<T>(file: string, report: AuditReport, decode: (bytes: Uint8Array) => T): Promise<T | null> {
  try {
    return decode(await readFile(file));
  } catch (e) {
    const detail = e instanceof DecodeError ? e.why : `cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`;
    report.unreadable.push({ file, detail });
    return null;
  }
}

/** VOC: every id named by a split file under ImageSets/Segmentation, plus masks no split names. */
function vocPairs(root: string, report: AuditReport): Pair[] {
  const imagesDir = path.join(root, VOC_DIRS.images);
  const masksDir = path.join(root, VOC_DIRS.masks);
  const splitsDir = path.join(root, VOC_DIRS.splits);
  const listedBy = new Map<string, string>();
  for (const name of stemsIn(splitsDir, ['.txt'])) {
    const file = path.join(splitsDir, `${name}.txt`);
    const ids = readSplitFile(file);
    report.splits.push({ name, source: file, count: ids.length });
    for (const id of ids) if (!listedBy.has(id)) listedBy.set(id, file);
  }
  if (report.splits.length === 0) report.unreadable.push({ file: splitsDir, detail: 'no split files (train.txt, val.txt, …)' });
  const maskStems = stemsIn(masksDir, MASK_EXTENSIONS);
  const ids = new Set([...listedBy.keys(), ...maskStems]);
  const pairs = matchPairs([...ids].sort(), imagesDir, masksDir, report, (id) => listedBy.get(id));
  const imageStems = stemsIn(imagesDir, IMAGE_EXTENSIONS);
  const masks = new Set(maskStems);
  report.unlabelledImages = imageStems.filter((id) => !masks.has(id) && !listedBy.has(id)).length;
  return pairs;
}

/** Folders: the train and val splits' folders (or list files); images and masks must match one to one. */
function folderPairs(cfg: ResolvedConfig, root: string, report: AuditReport): Pair[] {
  const groups: { name: string; images: string; masks: string; listFile?: string }[] = [];
  for (const name of [...new Set([cfg.data.trainSplit, cfg.data.valSplit])]) {
    try {
      groups.push({ name, ...folderSplitDirs(cfg.data, root, name) });
    } catch (e) {
      report.unreadable.push({ file: path.join(root, name), detail: (e as Error).message });
    }
  }
  if (groups.length === 0 && isDir(path.join(root, cfg.data.imagesDir))) {
    report.unreadable.length = 0;
    groups.push({ name: '(all)', images: path.join(root, cfg.data.imagesDir), masks: path.join(root, cfg.data.masksDir) });
  }
  const pairs: Pair[] = [];
  const seen = new Set<string>();
  for (const g of groups) {
    const listed = g.listFile ? readSplitFile(g.listFile) : undefined;
    const ids = listed ?? [...new Set([...stemsIn(g.images, IMAGE_EXTENSIONS), ...stemsIn(g.masks, MASK_EXTENSIONS)])].sort();
    report.splits.push({ name: g.name, source: g.listFile ?? g.images, count: listed ? listed.length : stemsIn(g.images, IMAGE_EXTENSIONS).length });
    for (const p of matchPairs(ids, g.images, g.masks, report, () => g.listFile)) {
      if (!seen.has(p.image)) { seen.add(p.image); pairs.push(p); }
    }
  }
  return pairs;
}

function matchPairs(
  ids: string[], imagesDir: string, masksDir: string, report: AuditReport, listedBy: (id: string) => string | undefined,
): Pair[] {
  const pairs: Pair[] = [];
  for (const id of ids) {
    const image = findWithExtension(imagesDir, id, IMAGE_EXTENSIONS);
    const mask = findWithExtension(masksDir, id, MASK_EXTENSIONS);
    const by = listedBy(id);
    const named = by ? ` (named by ${by})` : '';
    if (image && mask) pairs.push({ id, image, mask });
    else if (image) report.imagesWithoutMasks.push({ file: image, detail: `no mask ${id}.png in ${masksDir}${named}` });
    else if (mask) report.masksWithoutImages.push({ file: mask, detail: `no image ${id}.jpg/.png in ${imagesDir}${named}` });
    else report.unreadable.push({ file: path.join(imagesDir, `${id}.jpg`), detail: `neither image nor mask of '${id}' exists${named}` });
  }
  return pairs;
}

function emptySizes(): SizeStats {
  return { count: 0, minWidth: 0, maxWidth: 0, minHeight: 0, maxHeight: 0, meanWidth: 0, meanHeight: 0, common: [] };
}

function finish(report: AuditReport): AuditReport {
  if (report.sizes.count === 0) report.sizes = emptySizes();
  const labelled = report.classPixels.reduce((a, b) => a + b, 0);
  report.classFrequencies = report.classPixels.map((n) => (labelled > 0 ? n / labelled : 0));
  report.voidFraction = report.totalPixels > 0 ? report.voidPixels / report.totalPixels : 0;
  report.problemCount = report.masksWithBadValues.length + report.sizeMismatches.length + report.rgbMasks.length
    + report.imagesWithoutMasks.length + report.masksWithoutImages.length + report.unreadable.length;
  return report;
}
