/**
 * The per-stage table of POST /predict from `node --cpu-prof` profiles of bench/predict-path.bench.ts
 * run with `--only new` (or old): each sample goes to the innermost frame that names a stage, its time
 * is divided by the requests the server answered (the bench prints that count).
 *
 * Usage: node --import tsx bench/profile-stages.ts <profile dir> <requests served>
 * The main thread's profile is the one that holds the route; every other thread's profile that holds
 * the SQLite store is the writer thread (its whole time is the "writer thread" row).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

interface CallFrame {
  functionName: string;
  url: string;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Stage rules, tried from the sampled frame outwards; the first that matches names the stage. */
const RULES: readonly [string, (f: CallFrame) => boolean][] = [
  ['id', (f) => f.url.endsWith('/prediction-id.ts')],
  ['serialisation', (f) => f.url.endsWith('/prediction-answer.ts')],
  ['canonicalisation', (f) => f.url.endsWith('/record-fields.ts')],
  ['validation', (f) => /^validate\d+$/.test(f.functionName) || f.url.includes('/ajv/')],
  [
    'scoring',
    (f) => /\/src\/(model\/(gbdt|compiled|binned-scoring|feature-encoder|calibration)|stats\/)/.test(f.url),
  ],
  ['binning', (f) => /\/(record-binner|reference-bins)\.ts$/.test(f.url)],
  ['live monitor', (f) => f.url.includes('/src/monitor/')],
  ['metrics', (f) => f.url.includes('/src/metrics/') || f.url.includes('/prom-client/')],
  ['queue', (f) => f.url.includes('/src/store/')],
  ['parse', (f) => f.url.endsWith('/json-body.ts') || f.url.includes('content-type-parser')],
  [
    'HTTP, Fastify core, event loop (also in bare)',
    (f) =>
      /^node:(_http|net|internal\/(stream|streams|http|timers))/.test(f.url) ||
      /\/(fastify\/lib\/(reply|hooks|handle-request)|find-my-way)\//.test(f.url) ||
      f.functionName === 'writev' ||
      f.functionName === 'writeUtf8String',
  ],
  ['route handler (rest)', (f) => f.url.endsWith('/predict-route.ts')],
  ['hooks and logging', (f) => f.url.endsWith('/build-app.ts') || /\/(pino|sonic-boom)\//.test(f.url)],
  [
    'harness (not the server)',
    (f) =>
      f.url.includes('/bench/') ||
      f.url.includes('/test/helpers/') ||
      f.url.includes('/src/data/') ||
      f.functionName === 'spawn' ||
      f.url.includes('child_process'),
  ],
  ['startup (module loading)', (f) => /modules\/(esm|cjs)|esbuild|tsx/.test(f.url)],
];

function stagesOf(profile: Profile): Map<string, number> {
  const parent = new Map<number, ProfileNode>();
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n);
  const stageOf = new Map<number, string>();
  const classify = (node: ProfileNode): string => {
    const leaf = node.callFrame.functionName;
    if (leaf === '(idle)') return 'idle';
    if (leaf === '(garbage collector)') return 'garbage collection';
    for (let n: ProfileNode | undefined = node; n; n = parent.get(n.id))
      for (const [stage, match] of RULES) if (match(n.callFrame)) return stage;
    return 'HTTP, Fastify core, event loop (also in bare)';
  };
  const totals = new Map<string, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!;
    let stage = stageOf.get(id);
    if (stage === undefined) {
      stage = classify(byId.get(id)!);
      stageOf.set(id, stage);
    }
    totals.set(stage, (totals.get(stage) ?? 0) + (profile.timeDeltas[i + 1] ?? 0));
  }
  return totals;
}

const holds = (p: Profile, part: string) => p.nodes.some((n) => n.callFrame.url.includes(part));

const [dir, servedArg] = process.argv.slice(2);
if (!dir || !servedArg) throw new Error('usage: profile-stages.ts <profile dir> <requests served>');
const served = Number(servedArg);
const rows = new Map<string, number>();
for (const file of readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'))) {
  const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as Profile;
  if (holds(profile, '/predict-route.ts')) {
    for (const [stage, us] of stagesOf(profile)) rows.set(stage, (rows.get(stage) ?? 0) + us);
  } else if (holds(profile, '/store/sqlite/')) {
    let busy = 0;
    for (const [stage, us] of stagesOf(profile)) if (stage !== 'idle') busy += us;
    rows.set('writer thread (other core)', (rows.get('writer thread (other core)') ?? 0) + busy);
  }
}
const skip = new Set(['idle', 'harness (not the server)', 'startup (module loading)']);
let total = 0;
for (const [stage, us] of rows) if (!skip.has(stage)) total += us;
process.stdout.write(`| stage | µs per request | share |\n| --- | --- | --- |\n`);
for (const [stage, us] of [...rows].sort((a, b) => b[1] - a[1])) {
  const share = skip.has(stage) ? '(excluded)' : `${((100 * us) / total).toFixed(1)} %`;
  process.stdout.write(`| ${stage} | ${(us / served).toFixed(2)} | ${share} |\n`);
}
process.stdout.write(`| total (server) | ${(total / served).toFixed(1)} | |\n`);
