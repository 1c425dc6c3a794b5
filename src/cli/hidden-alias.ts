import { type Command, Option } from 'commander';

/**
 * An older spelling of an option (`--input` for `--data`, `--out` for `--output`), accepted but hidden
 * from --help: its value becomes the canonical option's (`key`) unless that one was given too.
 */
export function hiddenAlias(command: Command, flags: string, key: string): Command {
  const alias = new Option(flags).hideHelp();
  return command.addOption(alias).hook('preAction', (cmd) => {
    const value = cmd.getOptionValue(alias.attributeName());
    if (value !== undefined && cmd.getOptionValueSource(key) !== 'cli') cmd.setOptionValue(key, value);
  });
}
