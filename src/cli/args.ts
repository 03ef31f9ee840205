/**
 * Command-line parsing for `sel4ts` (no dependencies: a small getopt).
 */

export interface CliOptions {
  command: 'run' | 'check' | 'demo' | 'bench' | 'help' | 'version';
  /** The .system file (run, check). */
  file: string | null;
  /** Simulated time limit in ms (run, demo). */
  timeMs: number | null;
  trace: string | null;
  invariants: boolean;
  input: string | null;
  /** Do not print the per-PD summary. */
  quiet: boolean;
  /** Cores of the simulated machine (run, check, demo). */
  cores: number;
  /** Arguments after the command that it does not parse itself (bench). */
  rest: string[];
}

export class UsageError extends Error {}

export const USAGE = `usage: sel4ts <command> [options]

commands:
  run <file.system>     build and run a Microkit system on the simulated seL4 machine
  check <file.system>   validate a system description (exit 1 with file:line:col on error)
  demo                  run the built-in demo (examples/retrofit.system); the default
  bench [args]          run the benchmark suite (bench/suite.ts)
  help                  show this text

options (run, demo):
  --time <ms>           stop after this much simulated time (default: until quiescent, at most 10000 ms)
  --trace <out.json>    record a trace of kernel events for the web view
  --invariants          check the kernel invariants after every kernel entry (slow)
  --input <text>        type this text into the UART (qemu virt UART0) at start; \\n is a newline
  --quiet               do not print the per-PD summary
  --cores <n>           simulate n cores (1..32, default 1); a PD runs on its cpu="..." (run, check, demo)
`;

function unescape(s: string): string {
  return s.replace(/\\(n|r|t|\\)/g, (_m, c: string) => (c === 'n' ? '\n' : c === 'r' ? '\r' : c === 't' ? '\t' : '\\'));
}

export function parseArgs(argv: readonly string[]): CliOptions {
  const o: CliOptions = { command: 'demo', file: null, timeMs: null, trace: null, invariants: false, input: null, quiet: false, cores: 1, rest: [] };
  const args = [...argv];
  const first = args[0];
  if (first === undefined) return o;
  if (first === '-h' || first === '--help' || first === 'help') return { ...o, command: 'help' };
  if (first === '--version' || first === 'version') return { ...o, command: 'version' };
  if (first === 'bench') return { ...o, command: first, rest: args.slice(1) };
  if (first === 'run' || first === 'check' || first === 'demo') {
    o.command = first;
    args.shift();
  } else if (!first.startsWith('-')) {
    throw new UsageError(`unknown command '${first}'`);
  }
  while (args.length > 0) {
    const a = args.shift()!;
    const value = (): string => {
      const v = args.shift();
      if (v === undefined) throw new UsageError(`${a} needs a value`);
      return v;
    };
    switch (a) {
      case '--time': {
        const v = value();
        const ms = Number(v);
        if (!Number.isFinite(ms) || ms <= 0) throw new UsageError(`--time wants a positive number of milliseconds, not '${v}'`);
        o.timeMs = ms;
        break;
      }
      case '--trace':
        o.trace = value();
        break;
      case '--invariants':
        o.invariants = true;
        break;
      case '--input':
        o.input = unescape(value());
        break;
      case '--cores': {
        const v = value();
        const n = Number(v);
        if (!Number.isInteger(n) || n < 1 || n > 32) throw new UsageError(`--cores wants a whole number from 1 to 32, not '${v}'`);
        o.cores = n;
        break;
      }
      case '--quiet':
      case '-q':
        o.quiet = true;
        break;
      default:
        if (a.startsWith('-')) throw new UsageError(`unknown option '${a}'`);
        if (o.file !== null || o.command === 'demo') throw new UsageError(`unexpected argument '${a}'`);
        o.file = a;
    }
  }
  if ((o.command === 'run' || o.command === 'check') && o.file === null) throw new UsageError(`${o.command} needs a .system file`);
  if (o.command === 'check' && (o.timeMs !== null || o.trace !== null || o.input !== null)) {
    throw new UsageError('check takes only a .system file');
  }
  return o;
}
