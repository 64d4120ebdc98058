import pino from 'pino';
import pretty from 'pino-pretty';

/**
 * The service's log: one JSON object per line on stdout (or a human-readable rendering for a
 * terminal). The only module that imports pino, so the rest of the code depends on `Logger` alone.
 */

export const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof logLevels)[number];
/** `auto`: pretty on a terminal, JSON otherwise (a container, a pipe, a file). */
type LogFormat = 'auto' | 'json' | 'pretty';
export type LogSettings = { level: LogLevel; format: LogFormat };

type LogFields = Record<string, unknown>;
type LogMethod = (fields: LogFields, message?: string) => void;

export interface Logger {
  fatal: LogMethod;
  error: LogMethod;
  warn: LogMethod;
  info: LogMethod;
  debug: LogMethod;
  child(fields: LogFields): Logger;
}

/**
 * A safety net only: log calls build their fields from an allow-list and never pass headers,
 * credentials or message text. Should one slip through under a usual name, it is censored.
 */
const redactPaths = [
  'authorization',
  'headers.authorization',
  '*.authorization',
  'x-api-key',
  'headers["x-api-key"]',
  '*["x-api-key"]',
  'apiKey',
  '*.apiKey',
  'api_key',
  '*.api_key',
  'apiSecret',
  '*.apiSecret',
  'api_secret',
  '*.api_secret',
  'password',
  '*.password',
  'text',
  '*.text',
  'contentText',
  '*.contentText',
  'thread_context',
  '*.thread_context',
];

export function createLogger(settings: LogSettings, destination: NodeJS.WritableStream = process.stdout): Logger {
  const isTerminal = destination === process.stdout && process.stdout.isTTY === true;
  const format = settings.format === 'auto' ? (isTerminal ? 'pretty' : 'json') : settings.format;
  const options: pino.LoggerOptions = {
    level: settings.level,
    base: undefined,
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    redact: { paths: redactPaths, censor: '[redacted]' },
  };
  const stream =
    format === 'pretty'
      ? pretty({
          destination,
          colorize: isTerminal,
          // Synchronous, so the last lines before process.exit are not lost.
          sync: true,
          translateTime: 'SYS:HH:MM:ss.l',
          ignore: 'pid,hostname',
          singleLine: true,
        })
      : destination;
  return pino(options, stream as pino.DestinationStream);
}
