/**
 * `npm run bench`: runs every bench/*.bench.ts in its own process, one after another (they measure
 * speed, so they must not share the two cores), and prints where each wrote its figures.
 * Usage: npm run bench [-- <name substring>...]
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const benchDir = dirname(fileURLToPath(import.meta.url));
const filters = process.argv.slice(2);
const files = readdirSync(benchDir)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();

let failed = 0;
for (const file of files) {
  process.stdout.write(`\n=== ${file}\n`);
  const result = spawnSync(process.execPath, ['--import', 'tsx', join(benchDir, file)], { stdio: 'inherit' });
  if (result.status !== 0) {
    failed++;
    process.stdout.write(`${file} failed (exit ${result.status})\n`);
  }
}
process.stdout.write(
  `\n${files.length - failed} benchmarks finished, ${failed} failed; figures in bench/results/\n`,
);
process.exitCode = failed > 0 ? 1 : 0;
