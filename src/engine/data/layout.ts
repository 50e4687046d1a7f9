// Where the files of a split are: the VOC layout (split files name the ids) or image/mask folders with the same stems.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

export interface SampleFiles {
  id: string;
  image: string;
  mask: string;
}

export interface MissingFile {
  file: string;
  why: string;
}

export interface SplitListing {
  split: string;
  /** The split file (voc, or folders with a list) or the images folder that defined the split. */
  source: string;
  samples: SampleFiles[];
  /** Ids named by the split whose image or mask does not exist. */
  missing: MissingFile[];
}

export interface LayoutOptions {
  format: 'voc' | 'folders';
  imagesDir: string;
  masksDir: string;
}

export const IMAGE_EXTENSIONS = ['.jpg', '.jpeg', '.png'];
export const MASK_EXTENSIONS = ['.png'];

export const VOC_DIRS = {
  images: 'JPEGImages',
  masks: 'SegmentationClass',
  splits: path.join('ImageSets', 'Segmentation'),
};

/** The files of one split. Throws (naming the path) when the split itself does not exist. */
export function listSplit(layout: LayoutOptions, root: string, split: string): SplitListing {
  if (layout.format === 'voc') {
    const splitFile = path.join(root, VOC_DIRS.splits, `${split}.txt`);
    return fromIds(split, splitFile, readSplitFile(splitFile), path.join(root, VOC_DIRS.images), path.join(root, VOC_DIRS.masks));
  }
  const dirs = folderSplitDirs(layout, root, split);
  if (dirs.listFile) {
    return fromIds(split, dirs.listFile, readSplitFile(dirs.listFile), dirs.images, dirs.masks);
  }
  const ids = stemsIn(dirs.images, IMAGE_EXTENSIONS);
  return fromIds(split, dirs.images, ids, dirs.images, dirs.masks);
}

/**
 * Folders layout, first match wins: <root>/<split>/{images,masks}/, <root>/{images,masks}/<split>/, or
 * <root>/{images,masks}/ with a list of stems in <root>/<split>.txt.
 */
export function folderSplitDirs(layout: LayoutOptions, root: string, split: string): { images: string; masks: string; listFile?: string } {
  const candidates = [
    { images: path.join(root, split, layout.imagesDir), masks: path.join(root, split, layout.masksDir) },
    { images: path.join(root, layout.imagesDir, split), masks: path.join(root, layout.masksDir, split) },
  ];
  for (const c of candidates) if (isDir(c.images)) return c;
  const listFile = path.join(root, `${split}.txt`);
  if (existsSync(listFile)) return { images: path.join(root, layout.imagesDir), masks: path.join(root, layout.masksDir), listFile };
  throw new Error(
    `split '${split}' not found: looked for ${candidates.map((c) => c.images).join(', ')} and ${listFile}`);
}

/** Ids of a split file: one per line, first word (VOC's detection splits add a flag after the id). */
export function readSplitFile(file: string): string[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new Error(`split file not found: ${file}`);
  }
  return text.split(/\r?\n/).map((line) => line.trim().split(/\s+/)[0]).filter((id) => id.length > 0);
}

function fromIds(split: string, source: string, ids: string[], imagesDir: string, masksDir: string): SplitListing {
  const samples: SampleFiles[] = [];
  const missing: MissingFile[] = [];
  const seen = new Set<string>();
  for (const id of ids) {
    if (seen.has(id)) continue;
    seen.add(id);
    const image = findWithExtension(imagesDir, id, IMAGE_EXTENSIONS);
    const mask = findWithExtension(masksDir, id, MASK_EXTENSIONS);
    if (!image) missing.push({ file: path.join(imagesDir, `${id}.jpg`), why: `image of '${id}' (named by ${source}) does not exist` });
    if (!mask) missing.push({ file: path.join(masksDir, `${id}.png`), why: `mask of '${id}' (named by ${source}) does not exist` });
    if (image && mask) samples.push({ id, image, mask });
  }
  return { split, source, samples, missing };
}

export function findWithExtension(dir: string, stem: string, extensions: string[]): string | undefined {
  for (const ext of extensions) {
    for (const candidate of [ext, ext.toUpperCase()]) {
      const file = path.join(dir, stem + candidate);
      if (existsSync(file)) return file;
    }
  }
  return undefined;
}

/** File stems in a folder with one of the extensions, sorted. */
export function stemsIn(dir: string, extensions: string[]): string[] {
  if (!isDir(dir)) return [];
  const stems = new Set<string>();
  for (const name of readdirSync(dir)) {
    const ext = path.extname(name).toLowerCase();
    if (extensions.includes(ext)) stems.add(name.slice(0, -ext.length));
  }
  return [...stems].sort();
}

export function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}
