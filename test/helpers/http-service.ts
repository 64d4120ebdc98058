import { serve } from '@hono/node-server';
import { createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { buildDeps, type Deps } from '../../src/deps.js';
import type { TestDatabase } from './databases.js';

/**
 * The service on a real socket (127.0.0.1, a free port) inside the test process, for clients that
 * speak HTTP themselves: the typed client, a browser. Offline text rules, so no provider is needed.
 */

export type HttpService = { origin: string; deps: Deps; close(): Promise<void> };

export async function startHttpService(database: TestDatabase, env: Record<string, string> = {}): Promise<HttpService> {
  const deps = await buildDeps(loadConfig({ DATABASE_URL: database.url, TEXT_PROVIDER: 'local', ...env }));
  const app = createApp(deps);
  const { server, port } = await new Promise<{ server: ReturnType<typeof serve>; port: number }>((resolve, reject) => {
    const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, (info) => resolve({ server, port: info.port }));
    server.once('error', reject);
  });
  return {
    origin: `http://127.0.0.1:${port}`,
    deps,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Browsers keep idle connections open; closing them lets close() finish.
        if ('closeAllConnections' in server) server.closeAllConnections();
      });
      await deps.close();
    },
  };
}
