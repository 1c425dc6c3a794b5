import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { it } from 'node:test';
import { CHURNWATCH_VERSION } from './version.js';

it('the version the CLI, OpenAPI and GET / show is package.json’s', () => {
  const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  assert.equal(CHURNWATCH_VERSION, manifest.version);
});
