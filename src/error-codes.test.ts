import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ERROR_CODES, HTTP_API_CODES, isErrorCode } from './error-codes.js';

const root = new URL('..', import.meta.url).pathname;
const docs = readFileSync(join(root, 'docs/errors.md'), 'utf8');
const CODE = /\bCW_[A-Z0-9_]*[A-Z0-9]\b/g;

function sourceFiles(dir: string, out: string[] = []): string[] {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) sourceFiles(path, out);
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

describe('error codes', () => {
  it('are each documented in docs/errors.md', () => {
    const undocumented = ERROR_CODES.filter((code) => !docs.includes(`\`${code}\``));
    assert.deepEqual(undocumented, []);
  });

  it('are the only CW_ codes docs/errors.md lists (old names aside)', () => {
    const current = docs.split('\n## Renamed codes')[0]!;
    const stale = [...new Set(current.match(CODE) ?? [])].filter((code) => !isErrorCode(code));
    assert.deepEqual(stale, []);
  });

  it('cover every CW_ code written in src/', () => {
    const unknown: string[] = [];
    for (const file of sourceFiles(join(root, 'src'))) {
      for (const code of readFileSync(file, 'utf8').match(CODE) ?? []) {
        if (!isErrorCode(code)) unknown.push(`${file.slice(root.length)}: ${code}`);
      }
    }
    assert.deepEqual(unknown, []);
  });

  it('follow CW_<AREA>_<WHAT>, apart from the HTTP API codes clients already know', () => {
    const legacy: readonly string[] = HTTP_API_CODES;
    const areas = new Set(
      'ADMIN CLIENT DATA DEMO FEEDBACK LOG MODEL MONITOR PREDICT PROVISION REPORT SERVE SIM STORE TRAIN'.split(
        ' ',
      ),
    );
    const off = ERROR_CODES.filter((code) => {
      if (legacy.includes(code)) return false;
      const [, area, what] = /^CW_([A-Z]+)_([A-Z0-9_]+)$/.exec(code) ?? [];
      return !(area && what && areas.has(area));
    });
    assert.deepEqual(off, []);
  });

  it('are listed once', () => {
    assert.equal(new Set(ERROR_CODES).size, ERROR_CODES.length);
  });
});
