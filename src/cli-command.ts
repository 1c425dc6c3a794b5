/**
 * How hints name a churnwatch command: as `npx churnwatch <args>`, which runs it as written in a clone
 * (npx finds the package's own bin), in a project that depends on churnwatch, and after a global install.
 * Plain `churnwatch …` is on the PATH only after a global install, so no hint says that.
 */
export function cliCommand(args: string): string {
  return `\`npx churnwatch ${args}\``;
}
