/** The levels `--log-level` / `CHURNWATCH_LOG_LEVEL` accept, most to least quiet but `silent` (nothing). */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
