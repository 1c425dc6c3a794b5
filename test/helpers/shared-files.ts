import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * The `shared/` folder the team keeps beside the checkout (oracles, real sample rows). Overridable with
 * CHURNWATCH_SHARED_DIR. Returns undefined when absent: outside the workplace tests fall back to the
 * vendored copies in test/fixtures/ (oracles) or skip (the real rows, which are not ours to ship).
 */
export function sharedDir(): string | undefined {
  const dir = process.env.CHURNWATCH_SHARED_DIR ?? join(repoRoot, '..', 'shared');
  return existsSync(dir) ? dir : undefined;
}

/** Path of an oracle file: shared/oracles/<name> when present, else the vendored test/fixtures/oracles/<name>. */
export function oraclePath(name: string): string {
  const shared = sharedDir();
  const fromShared = shared ? join(shared, 'oracles', name) : undefined;
  if (fromShared && existsSync(fromShared)) return fromShared;
  return join(repoRoot, 'test', 'fixtures', 'oracles', name);
}

/** shared/data/<name>, when shared/ is beside the checkout and holds it (always in CI). */
export function sharedDataPath(name: string): string | undefined {
  const shared = sharedDir();
  const path = shared ? join(shared, 'data', name) : undefined;
  return path && existsSync(path) ? path : undefined;
}

/** The real Expresso sample rows, when shared/ is beside the checkout (always in CI). */
export function realSamplePath(): string | undefined {
  return sharedDataPath('expresso-sample.csv');
}

/** The real Telco customer-churn data (shared/data/telco/SOURCE.md), when shared/ is beside the checkout. */
export function telcoPath(): string | undefined {
  return sharedDataPath(join('telco', 'telco-customer-churn.csv'));
}

/**
 * `path` when the shared file exists; else skips the test (`t.skip`) and returns undefined, or throws
 * under CI=true, where the file must exist.
 */
export function sharedFileOrSkip(
  t: { skip(message?: string): void },
  path: string | undefined,
  name: string,
): string | undefined {
  if (path) return path;
  if (process.env.CI === 'true') throw new Error(`shared/data/${name} must exist under CI`);
  t.skip(`shared/data/${name} is not beside this checkout`);
  return undefined;
}
