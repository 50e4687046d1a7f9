// The debugger's layering: only src/debug/vscode/ may import vscode; nothing in src/debug imports tfjs.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const debugDir = path.resolve(__dirname, '../../../src/debug');
const files = readdirSync(debugDir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
const imports = (file: string) => [...readFileSync(path.join(debugDir, file), 'utf8').matchAll(/from '([^']+)'/g)].map((m) => m[1]);

describe('src/debug imports', () => {
  it('has files to check', () => assert.ok(files.length >= 10, files.join(', ')));
  for (const file of files) {
    it(file, () => {
      const used = imports(file);
      if (!file.startsWith(`vscode${path.sep}`)) assert.ok(!used.includes('vscode'), `${file} imports vscode`);
      assert.ok(!used.some((m) => m.startsWith('@tensorflow/')), `${file} imports tfjs`);
    });
  }
});
