/**
 * `npm run bench`: the sel4ts benchmark suite. Options: --json (print JSON),
 * --quick (a few seconds, for CI), --filter=NAME (benchmarks whose name
 * contains NAME).
 */
import { runBenchmarks } from './suite.js';

const args = process.argv.slice(2);
const unknown = args.filter((a) => a !== '--json' && a !== '--quick' && !a.startsWith('--filter='));
if (unknown.length > 0) {
  process.stderr.write(`usage: node dist/bench/main.js [--json] [--quick] [--filter=NAME]\nunknown argument: ${unknown.join(' ')}\n`);
  process.exit(2);
}
const filter = args.find((a) => a.startsWith('--filter='))?.slice('--filter='.length);
runBenchmarks({ json: args.includes('--json'), quick: args.includes('--quick'), ...(filter !== undefined ? { filter } : {}) });
