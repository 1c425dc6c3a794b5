/**
 * One word per idea across commands (README "Commands"): `--data <file>` for every input CSV and
 * `--output <file>` for every written file, env CHURNWATCH_DATA / CHURNWATCH_OUTPUT. For each row of the
 * table: the canonical flag is in --help, the old spelling still works but is hidden, and the variables
 * (canonical, then old names) work too. Each spelling is run through the real CLI and must reach the
 * file it names.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { writeSyntheticCsv } from '../../src/data/synthetic.js';
import { repoRoot } from '../helpers/shared-files.js';
import { trainSmallModel } from '../helpers/train-small-model.js';

const run = promisify(execFile);
/** Runs in the temporary directory, so default outputs (data/holdout.csv…) land there. */
const cli = (args: readonly string[], env: NodeJS.ProcessEnv = {}) =>
  run(process.execPath, [join(repoRoot, 'bin', 'churnwatch.js'), ...args], {
    cwd: dir,
    env: { ...process.env, CHURNWATCH_LOG_LEVEL: 'warn', ...env },
  });

interface Row {
  readonly command: readonly string[];
  /** The canonical flag, shown in --help. */
  readonly flag: string;
  /** The old spelling: accepted, hidden. */
  readonly alias: string;
  /** The canonical variable, then older names still read. */
  readonly envs: readonly string[];
  /** What the value is: a file read (must be named in the error for a missing one) or a file written. */
  readonly role: 'read' | 'written';
  /** The other arguments the command needs to run. */
  readonly args: (fixture: Fixture) => string[];
}

interface Fixture {
  readonly csv: string;
  readonly model: string;
}

const VOCABULARY: readonly Row[] = [
  {
    command: ['data', 'split'],
    flag: '--data',
    alias: '--input',
    envs: ['CHURNWATCH_DATA', 'CHURNWATCH_DATA_FILE'],
    role: 'read',
    args: () => [],
  },
  {
    command: ['data', 'split'],
    flag: '--train-output',
    alias: '--train-out',
    envs: [],
    role: 'written',
    args: (f) => ['--data', f.csv],
  },
  {
    command: ['data', 'split'],
    flag: '--holdout-output',
    alias: '--holdout-out',
    envs: [],
    role: 'written',
    args: (f) => ['--data', f.csv],
  },
  {
    command: ['data', 'generate'],
    flag: '--output',
    alias: '--out',
    envs: ['CHURNWATCH_OUTPUT', 'CHURNWATCH_DATA_FILE'],
    role: 'written',
    args: () => ['--rows', '20'],
  },
  {
    command: ['train'],
    flag: '--data',
    alias: '--input',
    envs: ['CHURNWATCH_DATA'],
    role: 'read',
    args: () => [],
  },
  {
    command: ['predict'],
    flag: '--data',
    alias: '--input',
    envs: ['CHURNWATCH_DATA'],
    role: 'read',
    args: (f) => ['--model', f.model],
  },
  {
    command: ['predict'],
    flag: '--output',
    alias: '--out',
    envs: ['CHURNWATCH_OUTPUT'],
    role: 'written',
    args: (f) => ['--model', f.model, '--data', f.csv],
  },
  {
    command: ['simulate', 'predictions'],
    flag: '--data',
    alias: '--input',
    envs: ['CHURNWATCH_DATA', 'CHURNWATCH_SIM_DATA'],
    role: 'read',
    args: () => [],
  },
];

let dir: string;
let fixture: Fixture;

before(async () => {
  const models = await trainSmallModel();
  dir = await mkdtemp(join(tmpdir(), 'churnwatch-vocabulary-'));
  fixture = { csv: join(dir, 'small.csv'), model: join(models, 'latest') };
  await writeSyntheticCsv(fixture.csv, { rows: 50, seed: 5 });
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Runs `row` with its value given one way, and checks the command used the file it named. */
async function check(
  row: Row,
  tag: string,
  given: (path: string) => { args?: string[]; env?: NodeJS.ProcessEnv },
) {
  const path = join(dir, `${row.command.join('-')}${row.flag}-${tag}.csv`);
  const how = given(path);
  const quiet = row.command[0] === 'predict' ? [] : ['--quiet'];
  const args = [...row.command, ...row.args(fixture), ...(how.args ?? []), ...quiet];
  if (row.role === 'read') {
    await assert.rejects(cli(args, how.env), (error: { stderr?: string }) => {
      assert.match(
        error.stderr ?? '',
        new RegExp(`CW_DATA_CSV_NOT_FOUND: ${path}`),
        `${tag}: ${args.join(' ')}`,
      );
      return true;
    });
  } else {
    await cli(args, how.env);
    assert.ok(existsSync(path), `${tag}: ${args.join(' ')} did not write ${path}`);
  }
}

describe('one vocabulary across commands', () => {
  for (const row of VOCABULARY) {
    const name = `${row.command.join(' ')} ${row.flag}`;
    it(`${name}: in --help; ${row.alias} works, hidden; ${row.envs.join(', ') || 'no variable'}`, async () => {
      const { stdout: help } = await cli([...row.command, '--help']);
      assert.match(help, new RegExp(`^\\s+${row.flag} <`, 'm'), `${name} --help`);
      assert.doesNotMatch(help, new RegExp(`${row.alias}\\b`), `${row.alias} is hidden`);
      const [canonical, ...old] = row.envs;
      if (canonical) assert.ok(help.includes(canonical), `${name} --help names ${canonical}`);
      for (const env of old) assert.ok(!help.includes(env), `${name} --help hides the old ${env}`);
      await Promise.all([
        check(row, 'flag', (path) => ({ args: [row.flag, path] })),
        check(row, 'alias', (path) => ({ args: [row.alias, path] })),
        ...row.envs.map((env) => check(row, env, (path) => ({ env: { [env]: path } }))),
      ]);
    });
  }
});
