import * as jsfive from 'jsfive';
import { readFileSync } from 'node:fs';
async function main() {
  const mod = await import('h5wasm/node');
  await mod.ready;
  const f = new mod.File('/tmp/um/b.h5', 'w');
  const g = f.create_group('act');
  try { g.create_attribute('weight_names', [], [0], 'S1'); console.log('empty ok'); } catch (e) { console.log('empty fail', (e as Error).message); }
  f.close();
  const buf = readFileSync('/tmp/um/b.h5');
  const r = new jsfive.File(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength), 'b.h5');
  console.log((r.get('act') as jsfive.Group).attrs);
}
main().catch((e) => { console.error(e); process.exit(1); });
