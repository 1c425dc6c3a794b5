import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isChurnwatchError } from '../errors.js';
import { parseRateLimit } from './client-access-config.js';
import { DEFAULT_SERVE_CONFIG, resolveServeConfig } from './config.js';

const A = 'aaaaaaaaaaaaaaaa1';
const B = 'bbbbbbbbbbbbbbbb2';
const C = 'cccccccccccccccc3';

const refusal = (pattern: RegExp) => (error: unknown) =>
  isChurnwatchError(error) && error.code === 'CW_SERVE_BAD_OPTION' && pattern.test(error.message);

describe('client access configuration', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'churnwatch-tokens-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('is off by default', () => {
    assert.deepEqual(DEFAULT_SERVE_CONFIG.apiTokens, []);
    assert.equal(DEFAULT_SERVE_CONFIG.rateLimit, undefined);
    const config = resolveServeConfig({}, {});
    assert.deepEqual(config.apiTokens, []);
    assert.equal(config.rateLimit, undefined);
  });

  it('reads tokens from CHURNWATCH_API_TOKENS (commas or newlines) and a file (one a line, # comments)', async () => {
    assert.deepEqual(resolveServeConfig({}, { CHURNWATCH_API_TOKENS: ` ${A}, ${B}\n` }).apiTokens, [A, B]);
    const file = join(dir, 'tokens');
    await writeFile(file, `# rotated 2024-05\n${B}\n\n${C}\n`);
    assert.deepEqual(resolveServeConfig({ apiTokensFile: file }, { CHURNWATCH_API_TOKENS: A }).apiTokens, [
      A,
      B,
      C,
    ]);
    assert.deepEqual(resolveServeConfig({}, { CHURNWATCH_API_TOKENS_FILE: file }).apiTokens, [B, C]);
  });

  it('refuses bad tokens naming where they are, never showing them', async () => {
    const short = 'short-token';
    assert.throws(
      () => resolveServeConfig({}, { CHURNWATCH_API_TOKENS: `${A},${short}` }),
      (e: unknown) =>
        refusal(/^CHURNWATCH_API_TOKENS, entry 2: a token must be at least 16 characters, got 11$/)(e) &&
        !(e as Error).message.includes(short),
    );
    assert.throws(
      () => resolveServeConfig({}, { CHURNWATCH_API_TOKENS: 'has"quote"0123456789' }),
      refusal(/entry 1: a token may hold only/),
    );
    assert.throws(() => resolveServeConfig({}, { CHURNWATCH_API_TOKENS: ' , ' }), refusal(/holds no token/));
    const empty = join(dir, 'empty');
    await writeFile(empty, '# nothing yet\n');
    assert.throws(
      () => resolveServeConfig({ apiTokensFile: empty }, {}),
      refusal(/^--api-tokens-file .*empty holds no token/),
    );
    assert.throws(
      () => resolveServeConfig({}, { CHURNWATCH_API_TOKENS_FILE: join(dir, 'missing') }),
      refusal(/^CHURNWATCH_API_TOKENS_FILE .*missing cannot be read/),
    );
  });

  it('reads the rate limit as requests per window', () => {
    assert.deepEqual(parseRateLimit('100/s'), { max: 100, windowMs: 1000 });
    assert.deepEqual(parseRateLimit('6000/min'), { max: 6000, windowMs: 60_000 });
    assert.deepEqual(parseRateLimit('6000/m'), { max: 6000, windowMs: 60_000 });
    assert.deepEqual(parseRateLimit(' 500 / 10s '), { max: 500, windowMs: 10_000 });
    assert.deepEqual(parseRateLimit('1000/h'), { max: 1000, windowMs: 3_600_000 });
    for (const bad of ['100', '0/s', '100/0.5s', '100/2h', '-1/s', '100/d', 'fast'])
      assert.equal(parseRateLimit(bad), undefined, bad);
    assert.deepEqual(resolveServeConfig({}, { CHURNWATCH_RATE_LIMIT: '50/s' }).rateLimit, {
      max: 50,
      windowMs: 1000,
    });
    assert.throws(
      () => resolveServeConfig({ rateLimit: '100' }, {}),
      refusal(/^--rate-limit must be requests per window such as 100\/s.*got "100"/),
    );
    assert.throws(
      () => resolveServeConfig({}, { CHURNWATCH_RATE_LIMIT: '100/d' }),
      refusal(/^CHURNWATCH_RATE_LIMIT must be/),
    );
  });
});
