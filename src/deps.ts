import type { Config } from './config.js';
import { AddressPolicy } from './media/address-policy.js';
import { Downloader } from './media/download.js';
import { GeminiModerator } from './providers/gemini/gemini-moderator.js';
import type { ImageModerator } from './providers/image-moderator.js';
import { LocalTextModerator } from './providers/local/local-text-moderator.js';
import { SightengineModerator } from './providers/sightengine/sightengine-moderator.js';
import type { TextModerator } from './providers/text-moderator.js';
import { UnconfiguredImageModerator } from './providers/unconfigured-image-moderator.js';
import type { RouteDeps } from './routes/index.js';
import { openStore } from './store/open-store.js';

/** Everything the app needs, built once at start-up from the configuration. */
export type Deps = RouteDeps & { close(): Promise<void> };

export function selectImageModerator(config: Config): ImageModerator & { close?(): Promise<void> } {
  const { apiUser, apiSecret } = config.sightengine;
  const useSightengine = config.imageProvider === 'sightengine' || (config.imageProvider === 'auto' && apiUser && apiSecret);
  if (useSightengine && apiUser && apiSecret) {
    return new SightengineModerator({
      baseUrl: config.sightengine.baseUrl,
      apiUser,
      apiSecret,
      models: config.sightengine.models,
      timeoutMs: config.sightengine.timeoutMs,
      thresholds: config.thresholds,
      retry: config.retry,
    });
  }
  return new UnconfiguredImageModerator();
}

export function selectTextModerator(config: Config): TextModerator {
  const { apiKey } = config.gemini;
  if (config.textProvider !== 'local' && apiKey) {
    return new GeminiModerator({ apiKey, model: config.gemini.model, baseUrl: config.gemini.baseUrl, timeoutMs: config.gemini.timeoutMs, retry: config.retry });
  }
  return new LocalTextModerator();
}

/** Opens the store and applies migrations; the caller owns `close()`. */
export async function buildDeps(config: Config): Promise<Deps> {
  const store = openStore(config.databaseUrl, { poolSize: config.databasePoolSize });
  try {
    await store.migrate();
  } catch (error) {
    await store.close().catch(() => undefined);
    throw error;
  }
  const downloader = new Downloader({
    policy: new AddressPolicy(config.fetch.allowPrivate),
    maxBytes: config.fetch.maxBytes,
    timeoutMs: config.fetch.timeoutMs,
    maxRedirects: config.fetch.maxRedirects,
  });
  const imageModerator = selectImageModerator(config);
  return {
    store,
    downloader,
    imageModerator,
    textModerator: selectTextModerator(config),
    textLimits: config.text,
    maxBodyBytes: config.maxBodyBytes,
    dedupe: config.dedupe,
    imageMaxPixels: config.imageMaxPixels,
    async close() {
      await Promise.allSettled([downloader.close(), imageModerator.close?.(), store.close()]);
    },
  };
}
