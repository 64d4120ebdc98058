import { createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { buildDeps, type Deps } from '../../src/deps.js';
import type { Logger } from '../../src/logging.js';
import { startFakeSightengine, type FakeSightengine, type SightengineModelScores } from '../fakes/fake-sightengine.js';
import { startContentServer, type ContentServer } from './content-server.js';
import type { TestDatabase } from './databases.js';

/**
 * The service as the image tests need it: a real store, a loopback server for the images, and a
 * fake SightEngine as the provider, wired through the production configuration and dependencies.
 */

export type Json = Record<string, any>;

export type ImageService = {
  content: ContentServer;
  fake: FakeSightengine;
  deps: Deps;
  app: ReturnType<typeof createApp>;
  /** POSTs JSON (or `raw` text) to `path` and returns the status, parsed body and X-Request-Id. */
  post(path: string, body: unknown, raw?: string): Promise<{ status: number; body: Json; requestId: string | null }>;
  close(): Promise<void>;
};

export async function startImageService(
  database: TestDatabase,
  options: {
    scorer?: (media: Buffer) => SightengineModelScores | Promise<SightengineModelScores>;
    env?: Record<string, string>;
    logger?: Logger;
  } = {},
): Promise<ImageService> {
  const content = await startContentServer();
  const fake = await startFakeSightengine(options.scorer ? { scorer: options.scorer } : {});
  const deps = await buildDeps(
    loadConfig({
      LOG_LEVEL: 'error',
      DATABASE_URL: database.url,
      SIGHTENGINE_API_USER: fake.apiUser,
      SIGHTENGINE_API_SECRET: fake.apiSecret,
      SIGHTENGINE_BASE_URL: fake.baseUrl,
      FETCH_ALLOW_PRIVATE: '127.0.0.1/32',
      PROVIDER_RETRY_BASE_MS: '1',
      ...options.env,
    }),
    options.logger ? { logger: options.logger } : {},
  );
  const app = createApp(deps);
  return {
    content,
    fake,
    deps,
    app,
    async post(path, body, raw) {
      const response = await app.request(path, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: raw ?? JSON.stringify(body),
      });
      return { status: response.status, body: (await response.json()) as Json, requestId: response.headers.get('x-request-id') };
    },
    async close() {
      await deps.close();
      await fake.close();
      await content.close();
    },
  };
}
