import { accessSync, constants, mkdirSync } from 'node:fs';
import type { Config } from './config.js';
import { AddressPolicy } from './media/address-policy.js';
import { Downloader } from './media/download.js';
import { CircuitBreaker } from './providers/circuit-breaker.js';
import { GeminiModerator } from './providers/gemini/gemini-moderator.js';
import type { ImageModerator } from './providers/image-moderator.js';
import { ProviderLimiter, type ProviderLimits } from './providers/provider-limiter.js';
import type { ProviderCallSettings } from './providers/provider-call.js';
import { LocalImageModerator } from './providers/local/local-image-moderator.js';
import { LocalTextModerator } from './providers/local/local-text-moderator.js';
import { SightengineModerator } from './providers/sightengine/sightengine-moderator.js';
import type { TextModerator } from './providers/text-moderator.js';
import { checkFfmpeg, locateFfmpeg, type FfmpegBinaries } from './media/ffmpeg.js';
import { createImageInFlight } from './moderation/analyse-image.js';
import { SingleFlight } from './moderation/single-flight.js';
import { WorkGate } from './moderation/work-gate.js';
import type { AppDeps } from './app.js';
import { createLogger, type Logger } from './logging.js';
import { Metrics } from './metrics.js';
import type { ProviderObserver } from './providers/provider-observer.js';
import { AuditLog } from './store/audit-log.js';
import { AuditSpool } from './store/audit-spool.js';
import { GuardedStore } from './store/guarded-store.js';
import { openStore } from './store/open-store.js';
import { messageOf } from './errors.js';

/** Everything the app needs, built once at start-up from the configuration. */
export type Deps = AppDeps & {
  /** The ffmpeg build found at start-up, for the start-up message. */
  ffmpegVersion: string;
  close(): Promise<void>;
};

/** Which image classifier the configuration asks for: SightEngine with credentials, else the local model. */
export function imageProviderKind(config: Config): 'sightengine' | 'local' {
  const { apiUser, apiSecret } = config.sightengine;
  if (config.imageProvider === 'sightengine') return 'sightengine';
  if (config.imageProvider === 'auto' && apiUser && apiSecret) return 'sightengine';
  return 'local';
}

function usableFfmpeg(config: Config): { ffmpeg: FfmpegBinaries; ffmpegVersion: string } {
  try {
    const ffmpeg = locateFfmpeg(config.ffmpeg);
    return { ffmpeg, ffmpegVersion: checkFfmpeg(ffmpeg) };
  } catch (error) {
    throw new Error(`ffmpeg is not usable: ${messageOf(error)}`, { cause: error });
  }
}

/** Checked at start-up, not on the first video: a missing or read-only folder would fail every video request. */
function checkVideoTempDir(folder: string): void {
  try {
    mkdirSync(folder, { recursive: true });
    accessSync(folder, constants.W_OK);
  } catch (error) {
    throw new Error(`VIDEO_TEMP_DIR (${folder}) is not a writable folder: ${messageOf(error)}`, { cause: error });
  }
}

/** The protection every paid provider's calls get (provider-call.ts), one set per provider. */
function providerCallSettings(
  config: Config,
  provider: 'sightengine' | 'gemini',
  limits: ProviderLimits,
  observer: ProviderObserver | undefined,
): ProviderCallSettings {
  return {
    retry: config.retry,
    limiter: new ProviderLimiter(limits),
    breaker: new CircuitBreaker(provider, config.providerFaults.circuitBreaker, observer),
    deadlineMs: config.providerFaults.deadlineMs,
    observer,
  };
}

async function createImageModerator(config: Config, observer: ProviderObserver): Promise<ImageModerator & { close?(): Promise<void> }> {
  const { apiUser, apiSecret } = config.sightengine;
  if (imageProviderKind(config) === 'sightengine' && apiUser && apiSecret) {
    return new SightengineModerator({
      baseUrl: config.sightengine.baseUrl,
      apiUser,
      apiSecret,
      models: config.sightengine.models,
      timeoutMs: config.sightengine.timeoutMs,
      thresholds: config.thresholds,
      ...providerCallSettings(config, 'sightengine', config.sightengine.limits, observer),
    });
  }
  // Loaded and warmed up before the service listens: readiness means the model answers.
  return LocalImageModerator.load({ ...config.localImage, thresholds: config.thresholds, observer });
}

export function selectTextModerator(config: Config, observer?: ProviderObserver): TextModerator {
  const { apiKey } = config.gemini;
  if (config.textProvider !== 'local' && apiKey) {
    return new GeminiModerator({
      apiKey,
      model: config.gemini.model,
      baseUrl: config.gemini.baseUrl,
      timeoutMs: config.gemini.timeoutMs,
      ...providerCallSettings(config, 'gemini', config.gemini.limits, observer),
    });
  }
  return new LocalTextModerator({ observer });
}

/** Settings that let content through unjudged are allowed, but never silently. */
function warnAboutOutageDecision(config: Config, logger: Logger): void {
  if (config.providerFaults.outageDecision !== 'pass') return;
  logger.warn(
    { provider_outage_decision: 'pass' },
    'PROVIDER_OUTAGE_DECISION=pass: while the image provider fails, images and videos are passed without being judged.',
  );
}

/**
 * Opens the store and applies migrations; the caller owns `close()`. The logger is made from the
 * configuration unless one is given (tests pass one that writes to a stream they read).
 *
 * A database that cannot be reached does not stop start-up: the store keeps trying in the
 * background and refuses requests until then. One that answers but cannot be used (credentials,
 * unknown database, a broken migration) does; `onDatabaseFatal` hears of it when that is found
 * out only later, in the background.
 */
export async function buildDeps(config: Config, options: { logger?: Logger; onDatabaseFatal?: (error: unknown) => void } = {}): Promise<Deps> {
  const logger = options.logger ?? createLogger(config.log);
  const store = new GuardedStore(openStore(config.databaseUrl, { poolSize: config.databasePoolSize, timeoutMs: config.databaseTimeoutMs, logger }), {
    timeoutMs: config.databaseTimeoutMs,
    logger,
    onFatal: options.onDatabaseFatal,
  });
  let spool: AuditSpool;
  try {
    spool = await AuditSpool.open(config.auditSpool);
  } catch (error) {
    await store.close().catch(() => undefined);
    throw new Error(`AUDIT_SPOOL_PATH (${config.auditSpool.path}) is not usable: ${(error as Error).message}`, { cause: error });
  }
  const databaseReady = () => store.state === 'ready';
  const metrics = new Metrics({ poolStats: store.poolStats, durability: { databaseReady, spoolBacklog: () => spool.backlog() } });
  const auditLog = new AuditLog({ store, spool, logger, observer: metrics, databaseReady });
  // Whenever the database answers (at start-up, after an outage) the rows spooled meanwhile go in.
  store.onReady(() => void auditLog.replay());
  // The replay stops before the store closes, so no row is mistaken for one the database refused.
  const closeStorage = async () => {
    await auditLog.close();
    await store.close();
  };
  // Everything below refuses start-up by throwing; storage opened above is closed on the way out.
  let imageModerator: Awaited<ReturnType<typeof createImageModerator>>;
  let ffmpeg: FfmpegBinaries;
  let ffmpegVersion: string;
  try {
    await store.start();
    auditLog.startReplaying();
    imageModerator = await createImageModerator(config, metrics);
    ({ ffmpeg, ffmpegVersion } = usableFfmpeg(config));
    checkVideoTempDir(config.video.tempDir);
  } catch (error) {
    await closeStorage().catch(() => undefined);
    throw error;
  }
  const downloader = new Downloader({
    policy: new AddressPolicy(config.fetch.allowPrivate),
    maxBytes: config.fetch.maxBytes,
    timeoutMs: config.fetch.timeoutMs,
    maxRedirects: config.fetch.maxRedirects,
  });
  warnAboutOutageDecision(config, logger);
  return {
    store,
    downloader,
    imageModerator,
    outageDecision: config.providerFaults.outageDecision,
    inFlight: createImageInFlight(),
    textModerator: selectTextModerator(config, metrics),
    textLimits: config.text,
    ffmpeg,
    ffmpegVersion,
    video: config.video,
    maxBodyBytes: config.maxBodyBytes,
    access: { apiKeys: config.apiKeys, publicEndpoints: config.publicEndpoints, rateLimit: config.rateLimit },
    workGate: new WorkGate(config.analyses.maxConcurrent, config.analyses.maxQueued),
    videosInFlight: new SingleFlight(),
    dedupe: config.dedupe,
    imageMaxPixels: config.imageMaxPixels,
    logger,
    metrics,
    videoObserver: metrics,
    lifecycle: { draining: false },
    databaseGate: store,
    auditLog,
    async close() {
      await Promise.allSettled([downloader.close(), imageModerator.close?.(), closeStorage()]);
    },
  };
}
