import { Writable } from 'node:stream';
import { createLogger, type Logger, type LogLevel } from '../../src/logging.js';

/** A JSON logger whose output the test reads back, exactly as it would reach stdout. */
export type LogCapture = { logger: Logger; text(): string; lines(): Record<string, any>[] };

export function captureLogs(level: LogLevel = 'info'): LogCapture {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      text += chunk.toString();
      done();
    },
  });
  return {
    logger: createLogger({ level, format: 'json' }, stream),
    text: () => text,
    lines: () =>
      text
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, any>),
  };
}
