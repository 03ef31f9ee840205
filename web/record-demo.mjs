#!/usr/bin/env node
// Record one of the web demos in Node and write its trace as JSON.
//   npx tsc -p tsconfig.json && node web/record-demo.mjs [echo|mcs] [out.json]
import { writeFileSync } from 'node:fs';
import { Machine } from '../dist/src/machine/machine.js';
import * as s from '../dist/src/user/index.js';
import { recordMachine } from '../dist/src/trace/recorder.js';
import { DEMOS } from './demos.js';

const name = process.argv[2] ?? 'mcs';
const out = process.argv[3] ?? `sel4ts-${name}-trace.json`;
const demo = DEMOS[name];
if (demo === undefined) {
  console.error(`unknown demo "${name}"; choose one of: ${Object.keys(DEMOS).join(', ')}`);
  process.exit(2);
}
const r = demo.run({ Machine, s, recordMachine });
writeFileSync(out, JSON.stringify(r.trace));
console.log(`${name}: ${r.result.reason} at ${r.result.now} ns, ${r.trace.events.length} events, ${r.trace.snapshots.length} snapshots -> ${out}`);
