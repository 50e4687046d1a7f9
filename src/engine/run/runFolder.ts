// Creates and updates a run folder (.segscope/runs/<YYYYMMDD-HHMMSS>-<name>/): run.json, epoch folders, watch inputs.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runPaths, safeName, type RunInfo } from '../../protocol/runFolder';
import { removeStaleTemps, writeFileAtomic, writeFolderAtomic, writeJsonAtomic } from './atomicFiles';

/** `20261128-234501` in UTC: sorts by time, safe on every file system. */
export function runTimestamp(date: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${date.getUTCFullYear()}${p(date.getUTCMonth() + 1)}${p(date.getUTCDate())}-${p(date.getUTCHours())}${p(date.getUTCMinutes())}${p(date.getUTCSeconds())}`;
}

/** Makes a new, empty run folder under `runsDir`; a second run in the same second gets a `-2` suffix. */
export function createRunFolder(runsDir: string, name: string, now = new Date()): { dir: string; id: string } {
  mkdirSync(runsDir, { recursive: true });
  const base = `${runTimestamp(now)}-${safeName(name)}`;
  for (let n = 1; ; n++) {
    const id = n === 1 ? base : `${base}-${n}`;
    const dir = path.join(runsDir, id);
    if (existsSync(dir)) continue;
    mkdirSync(dir);
    return { dir, id };
  }
}

/** Reads and writes the files of one run folder; every write is atomic. */
export class RunFolder {
  constructor(readonly dir: string) {}

  file(relative: string): string {
    return path.join(this.dir, relative);
  }

  writeInfo(info: RunInfo): void {
    writeJsonAtomic(this.file(runPaths.info), info);
  }

  readInfo(): RunInfo {
    const file = this.file(runPaths.info);
    if (!existsSync(file)) throw new Error(`${this.dir} is not a run folder: ${runPaths.info} is missing`);
    return JSON.parse(readFileSync(file, 'utf8')) as RunInfo;
  }

  writeFile(relative: string, data: string | Uint8Array): void {
    writeFileAtomic(this.file(relative), data);
  }

  /** Writes one epoch folder complete: `fill` gets a writer rooted at the run folder whose epoch paths land in a temp folder. */
  async writeEpoch(epoch: number, fill: (write: (relative: string, data: string | Uint8Array) => void) => Promise<void> | void): Promise<void> {
    const epochDir = runPaths.epochDir(epoch);
    await writeFolderAtomic(this.file(epochDir), async (tempDir) => {
      await fill((relative, data) => {
        if (!relative.startsWith(epochDir + '/')) throw new Error(`${relative} is not inside ${epochDir}`);
        const target = path.join(tempDir, relative.slice(epochDir.length + 1));
        mkdirSync(path.dirname(target), { recursive: true });
        writeFileSync(target, data);
      });
    });
  }

  /** Epoch numbers whose folders are complete on disk, ascending. */
  completedEpochs(): number[] {
    const dir = this.file('epochs');
    if (!existsSync(dir)) return [];
    return readdirSync(dir).filter((n) => /^\d{4,}$/.test(n)).map(Number).sort((a, b) => a - b);
  }

  /** Before resuming: drops temp leftovers and epoch folders newer than the checkpoint (they will be recomputed). */
  cleanForResume(checkpointEpoch: number): void {
    removeStaleTemps(this.dir, readdirSync);
    removeStaleTemps(this.file('epochs'), readdirSync);
    for (const epoch of this.completedEpochs()) {
      if (epoch > checkpointEpoch) rmSync(this.file(runPaths.epochDir(epoch)), { recursive: true, force: true });
    }
  }
}
