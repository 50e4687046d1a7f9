// Runs every *.test.ts below the given folders with node's test runner (TypeScript through tsx) and prints its summary.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';

const dirs = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const passThrough = process.argv.slice(2).filter((a) => a.startsWith('-'));
const filter = process.env.TEST_FILTER ? new RegExp(process.env.TEST_FILTER) : null;

function findTests(dir) {
  const found = [];
  for (const name of readdirSync(dir)) {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) found.push(...findTests(full));
    else if (name.endsWith('.test.ts') && (!filter || filter.test(full))) found.push(full);
  }
  return found;
}

const files = dirs.flatMap(findTests).sort();
if (files.length === 0) {
  console.error(`no *.test.ts files under ${dirs.join(', ')}`);
  process.exit(1);
}
const result = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', ...passThrough, ...files], {
  stdio: 'inherit',
});
process.exit(result.status ?? 1);
