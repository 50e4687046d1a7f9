// loadConfig: reads segscope.json and fails with one clear message naming the file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig } from '../../../src/config/load';

test('loadConfig returns the parsed config, its absolute path and folder; errors name the file', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'segscope-cfg-'));
  try {
    const good = path.join(dir, 'segscope.json');
    writeFileSync(good, JSON.stringify({ name: 'x', data: { format: 'voc', root: 'data' } }));
    const loaded = loadConfig(path.relative(process.cwd(), good));
    assert.equal(loaded.configPath, good);
    assert.equal(loaded.configDir, dir);
    assert.equal(loaded.config.name, 'x');

    const cases: [string, string | null, RegExp][] = [
      ['missing.json', null, /file not found/],
      ['bad.json', '{ "data": ', /not valid JSON/],
      ['array.json', '[1, 2]', /must be a JSON object/],
      ['nodata.json', '{ "name": "x" }', /no "data" section/],
    ];
    for (const [name, text, why] of cases) {
      const file = path.join(dir, name);
      if (text !== null) writeFileSync(file, text);
      assert.throws(() => loadConfig(file), (err: Error) => err instanceof ConfigError && err.message.includes(file) && why.test(err.message), name);
    }
    assert.throws(() => loadConfig(dir), /is a folder/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
