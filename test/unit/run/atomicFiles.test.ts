// Atomic writes of files and folders, and the run folder's naming and epoch bookkeeping.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeFileAtomic, writeFolderAtomic, writeJsonAtomic } from '../../../src/engine/run/atomicFiles';
import { createRunFolder, RunFolder, runTimestamp } from '../../../src/engine/run/runFolder';
import { parseEventLines, EventLog } from '../../../src/engine/run/eventLog';
import type { RunEvent } from '../../../src/protocol/runEvents';

function tempDir(): string {
  return mkdtempSync(path.join(os.tmpdir(), 'segscope-run-'));
}

test('writeFileAtomic / writeJsonAtomic replace the file and leave no temp files', () => {
  const dir = tempDir();
  try {
    const file = path.join(dir, 'sub', 'run.json');
    writeJsonAtomic(file, { a: 1 });
    writeJsonAtomic(file, { a: 2 });
    writeFileAtomic(path.join(dir, 'x.bin'), new Uint8Array([1, 2, 3]));
    assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), { a: 2 });
    assert.deepEqual([...readFileSync(path.join(dir, 'x.bin'))], [1, 2, 3]);
    assert.deepEqual(readdirSync(path.join(dir, 'sub')), ['run.json']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('writeFolderAtomic: a failing fill leaves neither the target nor a temp folder; a good fill replaces the old folder', async () => {
  const dir = tempDir();
  try {
    const target = path.join(dir, 'epochs', '0001');
    await assert.rejects(writeFolderAtomic(target, (tmp) => {
      writeFileSync(path.join(tmp, 'half.png'), 'x');
      throw new Error('crash while writing');
    }), /crash/);
    assert.equal(existsSync(target), false);
    assert.deepEqual(readdirSync(path.join(dir, 'epochs')), []);
    await writeFolderAtomic(target, (tmp) => writeFileSync(path.join(tmp, 'a'), '1'));
    await writeFolderAtomic(target, (tmp) => writeFileSync(path.join(tmp, 'b'), '2'));
    assert.deepEqual(readdirSync(target), ['b']);
    assert.deepEqual(readdirSync(path.join(dir, 'epochs')), ['0001']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('run folders are named <YYYYMMDD-HHMMSS>-<name> (UTC) and never collide', () => {
  const dir = tempDir();
  try {
    const when = new Date(Date.UTC(2026, 0, 2, 3, 4, 5));
    assert.equal(runTimestamp(when), '20260102-030405');
    const a = createRunFolder(dir, 'my run/1', when);
    const b = createRunFolder(dir, 'my run/1', when);
    assert.equal(a.id, '20260102-030405-my_run_1');
    assert.equal(b.id, '20260102-030405-my_run_1-2');
    assert.ok(existsSync(a.dir) && existsSync(b.dir));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('RunFolder.writeEpoch writes only inside its epoch, and cleanForResume drops later epochs and temp leftovers', async () => {
  const dir = tempDir();
  try {
    const folder = new RunFolder(dir);
    await folder.writeEpoch(1, (write) => write('epochs/0001/metrics.json', '{}'));
    await folder.writeEpoch(2, (write) => write('epochs/0002/images/a/argmax.png', 'png'));
    await assert.rejects(folder.writeEpoch(3, (write) => write('epochs/0004/x', 'no')), /not inside/);
    mkdirSync(path.join(dir, 'epochs', '.0003.123.1.tmp'));
    assert.deepEqual(folder.completedEpochs(), [1, 2]);
    folder.cleanForResume(1);
    assert.deepEqual(readdirSync(path.join(dir, 'epochs')), ['0001']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('EventLog appends one JSON line per event and calls the listener; a torn last line is skipped when reading', () => {
  const dir = tempDir();
  try {
    const file = path.join(dir, 'events.jsonl');
    const seen: RunEvent[] = [];
    const log = new EventLog(file, (e) => seen.push(e));
    const a: RunEvent = { type: 'warning', time: 't', message: 'one' };
    const b: RunEvent = { type: 'checkpoint', time: 't', epoch: 1, path: 'checkpoint' };
    log.emit(a);
    log.emit(b);
    assert.deepEqual(seen, [a, b]);
    const text = readFileSync(file, 'utf8');
    assert.equal(text.split('\n').length, 3);
    assert.deepEqual(parseEventLines(text + '{"type":"batch/e'), [a, b]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
