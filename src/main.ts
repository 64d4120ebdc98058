import { serve } from '@hono/node-server';
import { createApp } from './app.js';
import { ConfigError, isLoopback, loadConfig } from './config.js';
import { buildDeps } from './deps.js';

/** The only file that starts and stops the process. */

const SHUTDOWN_DEADLINE_MS = 10_000;

async function main(): Promise<void> {
  const config = loadConfig();
  const deps = await buildDeps(config);
  const app = createApp(deps);
  const server = serve({ fetch: app.fetch, hostname: config.host, port: config.port }, (info) => {
    const database = describeDatabase(config.databaseUrl);
    console.log(`Moderation API listening on http://${info.address.includes(':') ? `[${info.address}]` : info.address}:${info.port}`);
    console.log(`  API docs: http://${config.host}:${info.port}/docs   database: ${database}   image provider: ${deps.imageModerator.name}   text provider: ${deps.textModerator.name}`);
    console.log(`  video: ${deps.ffmpegVersion} (${deps.ffmpeg.origin})`);
  });

  server.on('error', (error: NodeJS.ErrnoException) => {
    const why = error.code === 'EADDRINUSE' ? 'the port is already in use' : error.code === 'EADDRNOTAVAIL' || error.code === 'ENOTFOUND' ? 'this machine has no such address' : error.message;
    console.error(`Cannot listen on ${config.host}:${config.port} (PORT, HOST): ${why}.`);
    void deps.close().finally(() => process.exit(1));
  });
  if (config.apiKeys.length === 0 && !isLoopback(config.host)) {
    console.warn(`Warning: ALLOW_UNAUTHENTICATED is set and HOST is ${config.host}: anyone who can reach this port can use the service.`);
  }

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal} received: finishing in-flight requests, then closing.`);
    const deadline = setTimeout(() => {
      console.error('Shutdown deadline passed; exiting with requests still open.');
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS);
    deadline.unref();
    server.close(() => {
      void deps.close().then(() => process.exit(0));
    });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
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
  if (error instanceof ConfigError) {
    console.error(error.message);
  } else {
    console.error('Start-up failed:', error instanceof Error ? error.message : error);
  }
  process.exit(1);
});
