import type { Server } from 'node:http';
import { serve } from '@hono/node-server';
import { createApp } from './app.js';
import { ConfigError, isLoopback, loadConfig, type Config } from './config.js';
import { buildDeps, type Deps } from './deps.js';
import { createLogger, type Logger } from './logging.js';
import { messageOf } from './errors.js';

/** The only file that starts and stops the process. */

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    // Plain text on stderr: the logging settings may be the very thing that is wrong.
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  const logger = createLogger(config.log);
  let deps: Deps;
  // The database came up but cannot be used (found by the background attempts): what start-up refuses.
  const onDatabaseFatal = (error: unknown) => {
    const message = messageOf(error);
    logger.fatal({ error: message }, `Start-up failed: ${message}`);
    void Promise.resolve(deps?.close()).finally(() => process.exit(1));
  };
  try {
    deps = await buildDeps(config, { logger, onDatabaseFatal });
  } catch (error) {
    const message = messageOf(error);
    logger.fatal({ error: message }, `Start-up failed: ${message}`);
    process.exit(1);
  }
  const app = createApp(deps);
  const server = serve({ fetch: app.fetch, hostname: config.host, port: config.port }, (info) => {
    const address = info.address.includes(':') ? `[${info.address}]` : info.address;
    logger.info(
      {
        url: `http://${address}:${info.port}`,
        docs: `http://${config.host}:${info.port}/docs`,
        database: describeDatabase(config.databaseUrl),
        image_provider: deps.imageModerator.name,
        text_provider: deps.textModerator.name,
        ffmpeg: `${deps.ffmpegVersion} (${deps.ffmpeg.origin})`,
      },
      `Moderation API listening on http://${address}:${info.port}`,
    );
  }) as Server;

  server.on('error', (error: NodeJS.ErrnoException) => {
    const why = error.code === 'EADDRINUSE' ? 'the port is already in use' : error.code === 'EADDRNOTAVAIL' || error.code === 'ENOTFOUND' ? 'this machine has no such address' : error.message;
    logger.fatal({ host: config.host, port: config.port }, `Cannot listen on ${config.host}:${config.port} (PORT, HOST): ${why}.`);
    void deps.close().finally(() => process.exit(1));
  });
  if (config.apiKeys.length === 0 && !isLoopback(config.host)) {
    logger.warn({ host: config.host }, `ALLOW_UNAUTHENTICATED is set and HOST is ${config.host}: anyone who can reach this port can use the service.`);
  }

  // server.close() drops only the keep-alive connections that are idle at that moment; one that
  // finishes its request later would hold the exit back until its keep-alive timeout.
  server.on('request', (_request, response) => {
    response.on('finish', () => {
      if (deps.lifecycle.draining) setImmediate(() => server.closeIdleConnections());
    });
  });

  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  let stopping = false;
  function stop(signal: string): void {
    if (stopping) return;
    stopping = true;
    shutDown(server, deps, logger, { signal, timeoutMs: config.shutdownTimeoutMs });
  }
}

/**
 * Stops accepting connections at once, lets the requests in flight finish (up to the deadline),
 * then closes the database pool and the provider clients, and exits 0. At the deadline the process
 * exits 1 at once, cutting off the requests still open.
 */
function shutDown(server: Server, deps: Deps, logger: Logger, options: { signal: string; timeoutMs: number }): void {
  deps.lifecycle.draining = true;
  const deadline = setTimeout(() => {
    // Past the deadline nothing is waited for: not even the connections' or the pool's goodbyes.
    logger.error({}, `Shutdown deadline (SHUTDOWN_TIMEOUT_MS=${options.timeoutMs}) passed; exiting with requests still open.`);
    process.exit(1);
  }, options.timeoutMs);
  deadline.unref();
  // The deadline also bounds closing the pool and the clients: work shared with a caller who hung
  // up may still hold them.
  server.close(() => {
    void deps.close().then(() => {
      logger.info({}, 'Stopped.');
      process.exit(0);
    });
  });
  // Said once the listening socket is closed, so whoever reads it can rely on it.
  logger.info({ signal: options.signal, shutdown_timeout_ms: options.timeoutMs }, `${options.signal} received: no new connections; finishing in-flight requests, then closing.`);
}

/** The database URL without its password, for the start-up message. */
function describeDatabase(url: string): string {
  if (url.startsWith('sqlite:')) return url;
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'mysql (unparsable URL)';
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`Start-up failed: ${messageOf(error)}\n`);
  process.exit(1);
});
