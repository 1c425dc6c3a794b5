import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Command } from 'commander';
import { hiddenAlias } from '../cli/hidden-alias.js';
import { isChurnwatchError } from '../errors.js';
import {
  createOptionReader,
  flagName,
  optionValue,
  parseChoice,
  parseDuration,
  parseDurationRange,
  parseInteger,
  parseNumber,
  parseTime,
} from './option-values.js';

const code = 'CW_TRAIN_BAD_OPTION' as const;

/** Matches a refusal with `code` whose message matches `message` (and hint, when given). */
const refusal = (message: RegExp, hint?: RegExp) => (error: unknown) =>
  isChurnwatchError(error) &&
  error.code === code &&
  message.test(error.message) &&
  (hint === undefined || hint.test(error.hint ?? ''));

describe('parseInteger', () => {
  it('reads whole numbers, with spaces and exponents', () => {
    assert.equal(parseInteger('--rows', '42', { code }), 42);
    assert.equal(parseInteger('--rows', ' 7 ', { code }), 7);
    assert.equal(parseInteger('--rows', '1e3', { code }), 1000);
    assert.equal(parseInteger('--port', '0', { code, min: 0, max: 65535 }), 0);
  });

  it('refuses fractions, words, empty text and hex, naming the flag and the value', () => {
    for (const raw of ['80.5', 'ten', '', ' ', '0x10', 'Infinity', '9007199254740993']) {
      assert.throws(
        () => parseInteger('--rows', raw, { code }),
        refusal(/^--rows must be an integer, got "/),
      );
    }
  });

  it('refuses values out of range, saying the range', () => {
    assert.throws(
      () => parseInteger('--port', '70000', { code, min: 0, max: 65535 }),
      refusal(/--port must be an integer from 0 to 65535, got "70000"/),
    );
    assert.throws(
      () => parseInteger('--poll-ms', '99', { code, min: 100, example: '2000' }),
      refusal(/--poll-ms must be an integer ≥ 100/, /^e\.g\. --poll-ms 2000$/),
    );
    assert.throws(() => parseInteger('--n', '11', { code, max: 10 }), refusal(/--n must be an integer ≤ 10/));
  });
});

describe('parseNumber', () => {
  it('reads decimals', () => {
    assert.equal(parseNumber('--rate', '2.5', { code }), 2.5);
    assert.equal(parseNumber('--rate', '.5', { code }), 0.5);
    assert.equal(parseNumber('--rate', '-3', { code }), -3);
  });

  it('refuses non-numbers and values outside open or closed bounds', () => {
    assert.throws(
      () => parseNumber('--rate', 'fast', { code }),
      refusal(/--rate must be a number, got "fast"/),
    );
    assert.throws(
      () => parseNumber('--share', '0.9', { code, above: 0, below: 0.9 }),
      refusal(/--share must be a number in \(0, 0\.9\)/),
    );
    assert.equal(parseNumber('--share', '0.89', { code, above: 0, below: 0.9 }), 0.89);
    assert.throws(
      () => parseNumber('--threshold', '1.5', { code, min: 0, max: 1 }),
      refusal(/--threshold must be a number in \[0, 1\]/),
    );
    assert.throws(
      () => parseNumber('--speed', '0', { code, above: 0 }),
      refusal(/--speed must be a number > 0/),
    );
  });

  it('uses the hint it is given unless an example makes a better one', () => {
    assert.throws(
      () => parseNumber('--x', 'y', { code, hint: 'see --help' }),
      refusal(/--x/, /^see --help$/),
    );
    assert.throws(
      () => parseNumber('--x', 'y', { code, hint: 'see --help', example: '3' }),
      refusal(/--x/, /^e\.g\. --x 3$/),
    );
  });
});

describe('parseDuration and parseTime', () => {
  it('reads durations in s, m, h, d, w; zero only when allowed', () => {
    assert.equal(parseDuration('--chunk', '90s', { code }), 90_000);
    assert.equal(parseDuration('--chunk', '1.5h', { code }), 5_400_000);
    assert.equal(parseDuration('--after', '0', { code, allowZero: true }), 0);
    assert.equal(parseDuration('--after', '0s', { code, allowZero: true }), 0);
    assert.throws(() => parseDuration('--chunk', '0s', { code }), refusal(/--chunk must be a duration/));
    assert.throws(() => parseDuration('--chunk', '0', { code }), refusal(/--chunk must be a duration/));
    assert.throws(
      () => parseDuration('--chunk', '5 parsecs', { code }),
      refusal(/got "5 parsecs"/, /--chunk 1h/),
    );
  });

  it('reads ranges of durations whose lower bound may be zero', () => {
    assert.deepEqual(parseDurationRange('--delay', '0s..1s', { code }), { minMs: 0, maxMs: 1000 });
    assert.deepEqual(parseDurationRange('--delay', '0..1s', { code }), { minMs: 0, maxMs: 1000 });
    assert.deepEqual(parseDurationRange('--delay', '30s..10m', { code }), { minMs: 30_000, maxMs: 600_000 });
    assert.deepEqual(parseDurationRange('--delay', '2m', { code }), { minMs: 120_000, maxMs: 120_000 });
    for (const raw of ['5s..1s', '1s..2s..3s', 'soon', '..1s', '-1s..1s']) {
      assert.throws(
        () => parseDurationRange('--delay', raw, { code }),
        refusal(/^--delay must be a range min\.\.max of durations with min ≤ max/, /--delay 30s\.\.10m/),
        raw,
      );
    }
  });

  it('reads ISO 8601 times and epoch milliseconds', () => {
    assert.equal(parseTime('--from', '2026-01-31T00:00:00Z', { code }), Date.UTC(2026, 0, 31));
    assert.equal(parseTime('--from', '1700000000000', { code }), 1_700_000_000_000);
    assert.throws(
      () => parseTime('--from', 'yesterday', { code }),
      refusal(/--from must be an ISO 8601 time/),
    );
  });
});

describe('parseChoice', () => {
  it('reads one of the listed words, spaces trimmed', () => {
    const choices = ['info', 'debug'] as const;
    assert.equal(parseChoice('--log-level', 'debug', { code, choices }), 'debug');
    assert.equal(parseChoice('--log-level', ' info ', { code, choices }), 'info');
  });

  it('refuses any other word (case counts), listing the choices and naming the flag', () => {
    for (const raw of ['loud', 'DEBUG', '', 'info,debug']) {
      assert.throws(
        () => parseChoice('--log-level', raw, { code, choices: ['info', 'debug'], hint: 'see --help' }),
        refusal(/^--log-level must be one of info, debug, got "/, /^see --help$/),
      );
    }
  });
});

describe('option values from flags and the environment', () => {
  it('prefers a non-empty flag, then a non-empty variable, and names the source', () => {
    const env = { CHURNWATCH_ROWS: '5', CHURNWATCH_EMPTY: '' };
    assert.deepEqual(optionValue({ maxRows: '3' }, 'maxRows', env, 'CHURNWATCH_ROWS'), {
      name: '--max-rows',
      value: '3',
    });
    assert.deepEqual(optionValue({ maxRows: '' }, 'maxRows', env, 'CHURNWATCH_ROWS'), {
      name: 'CHURNWATCH_ROWS',
      value: '5',
    });
    assert.equal(optionValue({}, 'x', env, 'CHURNWATCH_EMPTY'), undefined);
    assert.equal(optionValue({ x: true }, 'x', env), undefined);
    assert.equal(flagName('learningRate'), '--learning-rate');
  });

  it('reads the first variable set of a canonical name and its older spellings', () => {
    const names = ['CHURNWATCH_DATA', 'CHURNWATCH_SIM_DATA'];
    assert.deepEqual(optionValue({}, 'data', { CHURNWATCH_SIM_DATA: 'old.csv' }, names), {
      name: 'CHURNWATCH_SIM_DATA',
      value: 'old.csv',
    });
    assert.equal(
      optionValue({}, 'data', { CHURNWATCH_DATA: 'new.csv', CHURNWATCH_SIM_DATA: 'old.csv' }, names)?.value,
      'new.csv',
    );
  });

  it('takes a hidden alias as the canonical option, which wins when both are given', async () => {
    const seen: Record<string, unknown>[] = [];
    const program = new Command().exitOverride();
    const cmd = program
      .command('split')
      .option('--data <file>', 'input')
      .option('--output <file>', 'written', 'out.csv')
      .action((flags: Record<string, unknown>) => {
        seen.push({ data: flags.data, output: flags.output });
      });
    hiddenAlias(cmd, '--input <file>', 'data');
    hiddenAlias(cmd, '--out <file>', 'output');
    await program.parseAsync(['split', '--input', 'a.csv', '--out', 'b.csv'], { from: 'user' });
    await program.parseAsync(['split', '--input', 'a.csv', '--data', 'c.csv'], { from: 'user' });
    assert.deepEqual(seen, [
      { data: 'a.csv', output: 'b.csv' },
      { data: 'c.csv', output: 'out.csv' },
    ]);
    assert.doesNotMatch(cmd.helpInformation(), /--input|--out\b/);
    assert.match(cmd.helpInformation(), /--data <file>[\s\S]*--output <file>/);
  });

  it('parses through one reader and refuses with the command code, naming the variable when it was the source', () => {
    const opt = createOptionReader(
      { trees: '9' },
      { CHURNWATCH_DEPTH: 'deep' },
      { code, hint: 'see --help' },
    );
    assert.equal(opt.integer('trees', 'CHURNWATCH_TREES'), 9);
    assert.equal(opt.number('rate', 'CHURNWATCH_RATE'), undefined);
    assert.throws(
      () => opt.integer('depth', 'CHURNWATCH_DEPTH'),
      refusal(/^CHURNWATCH_DEPTH must be an integer, got "deep"$/, /^see --help$/),
    );
    assert.equal(opt.choice('trees', undefined, ['9', '10']), '9');
    assert.equal(opt.choice('mode', 'CHURNWATCH_MODE', ['a']), undefined);
    assert.throws(
      () => opt.choice('depth', 'CHURNWATCH_DEPTH', ['shallow']),
      refusal(/^CHURNWATCH_DEPTH must be one of shallow, got "deep"$/),
    );
    const error = opt.error('no training data given');
    assert.equal(error.code, code);
    assert.equal(error.hint, 'see --help');
  });
});
