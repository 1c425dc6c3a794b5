import { type Logger, pino } from 'pino';

/**
 * The CLI's logger: pino JSON lines on stderr (stdout is kept for command results), level from
 * CHURNWATCH_LOG_LEVEL (default info).
 */
export function createCliLogger(name: string, level = process.env.CHURNWATCH_LOG_LEVEL ?? 'info'): Logger {
  return pino({ name, level }, pino.destination({ fd: 2, sync: true }));
}
