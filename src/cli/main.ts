/**
 * The `churnwatch` command line. Each subcommand lives in commands/<name>.ts and exports a function
 * that registers it on the program; its work is done by a `runX()` that returns a result and never
 * exits. This file is the one place that sets the exit code.
 */
import { Command } from 'commander';
import { registerDataCommand } from './commands/data.js';
import { registerDemoCommand } from './commands/demo.js';
import { registerMonitorCommand } from './commands/monitor.js';
import { registerPredictCommand } from './commands/predict.js';
import { registerProvisionCommand } from './commands/provision.js';
import { registerReportCommand } from './commands/report.js';
import { registerServeCommand } from './commands/serve.js';
import { registerSimulateCommand } from './commands/simulate.js';
import { registerTrainCommand } from './commands/train.js';
import { formatError } from './report-error.js';

const program = new Command()
  .name('churnwatch')
  .description('Train, serve and monitor a churn model with Prometheus, the Pushgateway and Grafana.')
  .version('0.1.0')
  .showHelpAfterError('(add --help for the options)');

// Subcommands register here, one line each, in data-flow order (as --help lists them).
registerDataCommand(program);
registerTrainCommand(program);
registerPredictCommand(program);
registerServeCommand(program);
registerMonitorCommand(program);
registerReportCommand(program);
registerSimulateCommand(program);
registerDemoCommand(program);
registerProvisionCommand(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  process.stderr.write(`${formatError(error)}\n`);
  process.exitCode = process.exitCode && process.exitCode !== 0 ? process.exitCode : 1;
}
