/**
 * Directory boundaries of src/, checked on the relative imports of every src/**\/*.ts file (static
 * `import`/`export … from`, `import type` included, and dynamic `import('…')`):
 *
 * - monitor/ never imports server/: the monitor also runs as its own process (`churnwatch monitor serve`);
 *   the seam the server calls (PredictionObserver) lives in monitor/.
 * - dashboard/ never imports server/: it gets what it reads as plugin options, not through the server's
 *   Fastify augmentation (`app.churnwatch`).
 * - server/, monitor/ and dashboard/ never import cli/: option values are parsed by src/config/, which
 *   the commands and the serve config share.
 * - server/ imports dashboard/ in one place only, the composition point below, where the app mounts
 *   the dashboard and hands it the model, store and monitor.
 *
 * And no file cycle among the non-test files: a cycle makes load order matter (a module may see another
 * half-initialised) and ties modules that should be read and changed one at a time; type-only imports
 * count (a type cycle is still a knot for the reader).
 */
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot } from '../helpers/shared-files.js';

const SRC = join(repoRoot, 'src');

/** [from directory, to directory]: edges that must not exist. */
const FORBIDDEN: readonly (readonly [string, string])[] = [
  ['monitor', 'server'],
  ['dashboard', 'server'],
  ['server', 'dashboard'],
  ['server', 'cli'],
  ['monitor', 'cli'],
  ['dashboard', 'cli'],
];

/** The one allowed exception: the app composes the dashboard here. */
const COMPOSITION_POINT = 'server/build-app.ts -> dashboard/dashboard-routes.ts';

async function sourceFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await sourceFiles(path)));
    else if (entry.name.endsWith('.ts')) out.push(path);
  }
  return out;
}

/** Relative import specifiers of one file (comments are not stripped: a commented import counts too). */
export function relativeImports(text: string): string[] {
  const specs: string[] = [];
  const patterns = [
    /\b(?:import|export)\s+(?:type\s+)?[^'"`;]*?\bfrom\s*['"]([^'"]+)['"]/g,
    /\bimport\s*['"]([^'"]+)['"]/g,
    /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
  ];
  for (const pattern of patterns)
    for (const m of text.matchAll(pattern)) if (m[1]!.startsWith('.')) specs.push(m[1]!);
  return specs;
}

/** `a/b.ts` paths relative to src/ for every relative import, resolved (`.js` → `.ts`). */
async function edges(): Promise<{ from: string; to: string }[]> {
  const out: { from: string; to: string }[] = [];
  for (const file of await sourceFiles(SRC)) {
    const from = relative(SRC, file);
    for (const spec of relativeImports(await readFile(file, 'utf8'))) {
      const to = relative(SRC, resolve(dirname(file), spec)).replace(/\.js$/, '.ts');
      out.push({ from, to });
    }
  }
  return out;
}

const topDir = (path: string) => path.split('/')[0]!;

/** Every cycle found by a depth-first walk, each as the files on it, first file repeated at the end. */
function findCycles(graph: Map<string, string[]>): string[][] {
  const cycles: string[][] = [];
  const done = new Set<string>();
  const path: string[] = [];
  const onPath = new Set<string>();
  const visit = (file: string): void => {
    if (onPath.has(file)) {
      cycles.push([...path.slice(path.indexOf(file)), file]);
      return;
    }
    if (done.has(file)) return;
    path.push(file);
    onPath.add(file);
    for (const next of graph.get(file) ?? []) visit(next);
    onPath.delete(file);
    path.pop();
    done.add(file);
  };
  for (const file of graph.keys()) visit(file);
  return cycles;
}

describe('import graph: directory boundaries and cycles', () => {
  it('finds the imports it checks (the parser sees static, type-only and dynamic imports)', async () => {
    assert.deepEqual(
      relativeImports(
        "import a from './a.js';\nimport type { B } from '../b.js';\nexport { c } from './c.js';\n" +
          "const d = await import('../d.js');\nimport { x } from 'node:fs';\nimport {\n  e,\n} from './e.js';",
      ).sort(),
      ['../b.js', '../d.js', './a.js', './c.js', './e.js'],
    );
    const all = await edges();
    assert.ok(all.length > 200, `${all.length} edges`);
    assert.ok(
      all.some((e) => `${e.from} -> ${e.to}` === COMPOSITION_POINT),
      'the composition point exists',
    );
  });

  it('no monitor -> server, dashboard -> server or server -> dashboard edge but the composition point', async () => {
    const bad = (await edges())
      .filter((e) => FORBIDDEN.some(([from, to]) => topDir(e.from) === from && topDir(e.to) === to))
      .map((e) => `${e.from} -> ${e.to}`)
      .filter((edge) => edge !== COMPOSITION_POINT);
    assert.deepEqual(bad, []);
  });

  it('finds a cycle when there is one', () => {
    const graph = new Map([
      ['a.ts', ['b.ts']],
      ['b.ts', ['c.ts']],
      ['c.ts', ['a.ts']],
      ['d.ts', ['a.ts']],
    ]);
    assert.deepEqual(findCycles(graph), [['a.ts', 'b.ts', 'c.ts', 'a.ts']]);
  });

  it('has no file cycle among the non-test files', async () => {
    const graph = new Map<string, string[]>();
    for (const { from, to } of await edges()) {
      if (from.endsWith('.test.ts')) continue;
      graph.set(from, [...(graph.get(from) ?? []), to]);
    }
    assert.deepEqual(
      findCycles(graph).map((cycle) => cycle.join(' -> ')),
      [],
    );
  });

  it("dashboard/ does not read the server's Fastify augmentation (app.churnwatch)", async () => {
    const users: string[] = [];
    for (const file of await sourceFiles(join(SRC, 'dashboard')))
      if (/\.churnwatch\b/.test(await readFile(file, 'utf8'))) users.push(relative(SRC, file));
    assert.deepEqual(users, []);
  });
});
