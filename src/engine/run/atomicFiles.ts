// Crash-safe file writes: every file and folder a reader may open appears complete or not at all (temp + rename).
import { mkdirSync, renameSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';

let tempCounter = 0;

/** A sibling temp name that readers skip (leading dot) and that is unique within this process. */
export function tempSibling(target: string): string {
  tempCounter += 1;
  return path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.${tempCounter}.tmp`);
}

export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const temp = tempSibling(file);
  writeFileSync(temp, data);
  renameSync(temp, file);
}

export function writeJsonAtomic(file: string, value: unknown): void {
  writeFileAtomic(file, JSON.stringify(value, null, 2) + '\n');
}

/**
 * Fills a folder under a temp name, then renames it into place; an existing folder of that name is replaced.
 * A crash leaves at most a dot-prefixed temp folder, never a half-written `target`.
 */
export async function writeFolderAtomic(target: string, fill: (tempDir: string) => Promise<void> | void): Promise<void> {
  mkdirSync(path.dirname(target), { recursive: true });
  const temp = tempSibling(target);
  mkdirSync(temp, { recursive: true });
  try {
    await fill(temp);
  } catch (err) {
    rmSync(temp, { recursive: true, force: true });
    throw err;
  }
  if (existsSync(target)) {
    const old = tempSibling(target);
    renameSync(target, old);
    renameSync(temp, target);
    rmSync(old, { recursive: true, force: true });
  } else {
    renameSync(temp, target);
  }
}

/** Removes leftovers of interrupted atomic writes (dot-prefixed *.tmp entries) directly inside `dir`. */
export function removeStaleTemps(dir: string, readdir: (d: string) => string[]): void {
  if (!existsSync(dir)) return;
  for (const name of readdir(dir)) {
    if (name.startsWith('.') && name.endsWith('.tmp')) rmSync(path.join(dir, name), { recursive: true, force: true });
  }
}
