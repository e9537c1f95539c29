import { parseArgs } from 'node:util';

export const USAGE = `Usage: npm run bench -- [options]

  --suite a,b        run only these suites (default: all in tools/bench/suites)
  --backend list     tfjs backends, e.g. wasm,cpu; "wasm:2" = wasm on 2 threads (run in a child
                     process, since threads are fixed when the backend starts). Default: each
                     suite's own list.
  --repeat N         timed runs per measurement (median reported; default 5, --quick 3)
  --quick            fewer runs, skip the multi-minute measurements
  --only a,b         only these measurements ("impl:op", e.g. after:filter-grad)
  --build            build the packages the suites import first (npm run build -w ...)
  --out DIR          where JSON results go (default bench-results)
  --list             list the suites and exit
  -h, --help         this text
`;

/** Parses the command line into the harness options; throws with a readable message on bad input. */
export function parseCli(argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      suite: { type: 'string' },
      backend: { type: 'string' },
      repeat: { type: 'string' },
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      build: { type: 'boolean', default: false },
      out: { type: 'string', default: 'bench-results' },
      list: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
      // Internal: run as a child of another harness process and write rows to this JSON file.
      child: { type: 'string' },
    },
    strict: true,
  });
  const repeat = values.repeat === undefined ? (values.quick ? 3 : 5) : Number(values.repeat);
  if (!Number.isInteger(repeat) || repeat < 1) throw new Error(`--repeat must be a positive integer, got "${values.repeat}"`);
  return {
    suites: splitList(values.suite),
    backends: values.backend === undefined ? undefined : splitList(values.backend).map(parseBackendSpec),
    repeat,
    quick: values.quick,
    only: splitList(values.only),
    build: values.build,
    outDir: values.out,
    list: values.list,
    help: values.help,
    child: values.child,
  };
}

function splitList(value) {
  if (value === undefined) return undefined;
  const items = value.split(',').map((s) => s.trim()).filter(Boolean);
  return items.length ? items : undefined;
}

const BACKENDS = ['wasm', 'cpu', 'tensorflow'];

/** "wasm" → {spec, name: 'wasm', threads: 1}; "wasm:2" → threads 2. */
export function parseBackendSpec(spec) {
  const [name, threadsText] = spec.split(':');
  if (!BACKENDS.includes(name)) throw new Error(`--backend: unknown backend "${name}"; expected one of ${BACKENDS.join(', ')} (optionally wasm:<threads>)`);
  const threads = threadsText === undefined ? 1 : Number(threadsText);
  if (!Number.isInteger(threads) || threads < 1 || threads > 8) throw new Error(`--backend ${spec}: threads must be an integer from 1 to 8`);
  if (threads > 1 && name !== 'wasm') throw new Error(`--backend ${spec}: only wasm takes a thread count`);
  return { spec, name, threads };
}
