/**
 * The `churnwatch` command line. Each subcommand lives in commands/<name>.ts and exports a function
 * that registers it on the program; its work is done by a `runX()` that returns a result and never
 * exits. This file is the one place that sets the exit code.
 */
import { Command } from 'commander';
import { formatError } from './report-error.js';

const program = new Command()
  .name('churnwatch')
  .description('Train, serve and monitor a churn model with Prometheus, the Pushgateway and Grafana.')
  .version('0.1.0')
  .showHelpAfterError('(add --help for the options)');

// Subcommands register here, one line each.

try {
  await program.parseAsync(process.argv);
} catch (error) {
  process.stderr.write(`${formatError(error)}\n`);
  process.exitCode = process.exitCode && process.exitCode !== 0 ? process.exitCode : 1;
}
