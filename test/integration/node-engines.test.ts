// `npm ci` warns EBADENGINE for every installed package whose `engines.node` excludes the running Node.
// This keeps the lockfile honest against our own floor: each package must accept the oldest Node that
// package.json's `engines.node` admits, so a dependency bump that needs a newer Node fails here, not
// as a warning a newcomer has to interpret.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import semver from 'semver';

const root = new URL('../../', import.meta.url);
const manifest = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as {
  engines: { node: string };
};
const lock = JSON.parse(readFileSync(new URL('package-lock.json', root), 'utf8')) as {
  packages: Record<string, { version?: string; dev?: boolean; engines?: { node?: string } | string[] }>;
};

test('every locked package accepts the oldest Node our engines field admits', () => {
  const floor = semver.minVersion(manifest.engines.node);
  assert.ok(floor, `engines.node "${manifest.engines.node}" has no lowest version`);
  const refusing: string[] = [];
  for (const [path, entry] of Object.entries(lock.packages)) {
    const range = Array.isArray(entry.engines) ? undefined : entry.engines?.node;
    if (path === '' || !range) continue;
    if (!semver.satisfies(floor, range)) refusing.push(`${path}@${entry.version}: node ${range}`);
  }
  assert.deepEqual(refusing, [], `packages that refuse Node ${floor.version}`);
});

test('the Node running the tests is one our engines field admits', () => {
  assert.ok(semver.satisfies(process.versions.node, manifest.engines.node), process.versions.node);
});
