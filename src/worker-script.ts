/**
 * How to start a worker thread whose entry sits beside the calling module. From `dist/` it is the
 * compiled `.js` file. From TypeScript sources (tests, tsx) a worker does not inherit a loader
 * registered in-process, so it registers tsx itself before importing the `.ts` entry.
 */
export function workerScript(callerUrl: string, entryName: string): { script: string | URL; eval: boolean } {
  const url = new URL(callerUrl);
  if (!url.pathname.endsWith('.ts')) return { script: new URL(`./${entryName}.js`, url), eval: false };
  const target = new URL(`./${entryName}.ts`, url).href;
  const tsx = import.meta.resolve('tsx/esm/api');
  const code = `(async () => { const { register } = await import(${JSON.stringify(tsx)}); register(); await import(${JSON.stringify(target)}); })();`;
  return { script: code, eval: true };
}
