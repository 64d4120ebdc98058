import { serve } from '@hono/node-server';
import { createApp } from './app.js';
import { ConfigError, loadConfig } from './config.js';
import { buildDeps } from './deps.js';

/** The only file that starts and stops the process. */

const SHUTDOWN_DEADLINE_MS = 10_000;

async function main(): Promise<void> {
  const config = loadConfig();
  const deps = await buildDeps(config);
  const app = createApp(deps);
  const server = serve({ fetch: app.fetch, hostname: config.host, port: config.port }, (info) => {
    const database = config.databaseUrl.startsWith('sqlite:') ? config.databaseUrl : config.databaseUrl.replace(/\/\/[^@/]*@/, '//***@');
    console.log(`Moderation API listening on http://${info.address.includes(':') ? `[${info.address}]` : info.address}:${info.port}`);
    console.log(`  API docs: http://${config.host}:${info.port}/docs   database: ${database}   image provider: ${deps.imageModerator.name}   text provider: ${deps.textModerator.name}`);
    console.log(`  video: ${deps.ffmpegVersion} (${deps.ffmpeg.origin})`);
  });

  server.on('error', (error: NodeJS.ErrnoException) => {
    const why = error.code === 'EADDRINUSE' ? 'the port is already in use' : error.code === 'EADDRNOTAVAIL' || error.code === 'ENOTFOUND' ? 'this machine has no such address' : error.message;
    console.error(`Cannot listen on ${config.host}:${config.port} (PORT, HOST): ${why}.`);
    void deps.close().finally(() => process.exit(1));
  });
  if (!isLoopback(config.host)) {
    console.warn(
      `Warning: listening on ${config.host} without authentication: anyone who can reach this port can use the service (and its provider credit). Bind HOST to 127.0.0.1 or put it behind an authenticating proxy.`,
    );
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

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    console.error(error.message);
  } else {
    console.error('Start-up failed:', error instanceof Error ? error.message : error);
  }
  process.exit(1);
});
