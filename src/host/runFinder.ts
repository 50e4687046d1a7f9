// Finds run folders on disk: the newest run under a runs folder (so hovers and the dashboard have data before any training in this session). Pure Node: no vscode.
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { runPaths } from '../protocol/runFolder';

/** The run folder under `runsDir` whose run.json changed last, or undefined. */
export async function newestRun(runsDir: string): Promise<string | undefined> {
  let names: string[];
  try { names = await readdir(runsDir); } catch { return undefined; }
  let best: { dir: string; time: number } | undefined;
  for (const name of names) {
    const dir = path.join(runsDir, name);
    try {
      const s = await stat(path.join(dir, runPaths.info));
      if (!best || s.mtimeMs > best.time) best = { dir, time: s.mtimeMs };
    } catch { /* not a run folder */ }
  }
  return best?.dir;
}
