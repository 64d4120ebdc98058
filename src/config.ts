import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { ApiKey } from './http/auth.js';
import { z } from 'zod';
import type { VideoLimits } from './moderation/analyse-video.js';
import { parseThresholdOverrides, type Decision, type ThresholdTable, defaultThresholds } from './providers/thresholds.js';
import { parseCidrList, type CidrRange } from './media/address-policy.js';
import { localImageModels, type LocalImageModel } from './providers/local/local-image-model.js';
import type { ProviderLimits } from './providers/provider-limiter.js';
import type { CircuitBreakerSettings } from './providers/circuit-breaker.js';
import { logLevels, type LogSettings } from './logging.js';
import { sqliteFilePath } from './store/database-url.js';

/**
 * The one place that reads process.env. Everything else receives a typed Config.
 * Every variable here is documented in README.md and .env.example.
 */

/** What PUBLIC_ENDPOINTS may list: endpoints that then need no API key. */
export const publicEndpointNames = ['docs', 'health', 'metrics', 'dashboard'] as const;
export type PublicEndpoint = (typeof publicEndpointNames)[number];

const integer = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const boolean = z
  .enum(['true', 'false', '1', '0', 'yes', 'no', 'on', 'off'])
  .transform((value) => ['true', '1', 'yes', 'on'].includes(value));

const envSchema = z.object({
  PORT: integer(0, 65535).default(8080),
  API_KEYS: z.string().optional(),
  API_KEYS_FILE: z.string().optional(),
  ALLOW_UNAUTHENTICATED: boolean.default(false),
  PUBLIC_ENDPOINTS: z
    .string()
    .default('docs,health,metrics')
    .transform((value) => value.split(',').map((part) => part.trim()).filter(Boolean))
    .pipe(z.array(z.enum(publicEndpointNames))),
  RATE_LIMIT_PER_SECOND: z.coerce.number().min(0).max(100_000).default(10),
  RATE_LIMIT_BURST: integer(1, 100_000).default(50),
  MAX_CONCURRENT_ANALYSES: integer(1, 10_000).default(16),
  MAX_QUEUED_ANALYSES: integer(0, 100_000).default(100),
  HOST: z.string().min(1).default('127.0.0.1'),
  DATABASE_URL: z
    .string()
    .default('sqlite:./data/moderation.sqlite')
    .refine((value) => /^(mysql|mariadb):\/\//.test(value) || value.startsWith('sqlite:'), {
      message: 'must start with mysql://, mariadb:// or sqlite:',
    }),
  DATABASE_POOL_SIZE: integer(1, 200).default(10),
  DATABASE_TIMEOUT_MS: integer(100, 600_000).default(5_000),
  AUDIT_SPOOL_PATH: z.string().optional(),
  AUDIT_SPOOL_MAX_BYTES: integer(0, Number.MAX_SAFE_INTEGER).default(256 * 1024 * 1024),
  MAX_BODY_BYTES: integer(1024, 100 * 1024 * 1024).default(1024 * 1024),
  SHUTDOWN_TIMEOUT_MS: integer(0, 3_600_000).default(10_000),

  LOG_LEVEL: z.enum(logLevels).default('info'),
  LOG_FORMAT: z.enum(['auto', 'json', 'pretty']).default('auto'),

  IMAGE_PROVIDER: z.enum(['auto', 'sightengine', 'local']).default('auto'),
  LOCAL_IMAGE_MODEL: z.enum(localImageModels).default('MobileNetV2Mid'),
  LOCAL_IMAGE_MODEL_PATH: z.string().optional(),
  LOCAL_IMAGE_CONCURRENCY: integer(1, 64).default(1),
  SIGHTENGINE_API_USER: z.string().optional(),
  SIGHTENGINE_API_SECRET: z.string().optional(),
  SIGHTENGINE_BASE_URL: z.url().default('https://api.sightengine.com/1.0'),
  SIGHTENGINE_MODELS: z
    .string()
    .default('nudity-2.1,weapon,recreational_drug,gore-2.0,offensive-2.0,self-harm')
    .transform((value) => value.split(',').map((model) => model.trim()).filter(Boolean))
    .refine((models) => models.length > 0, { message: 'must name at least one model' }),
  SIGHTENGINE_TIMEOUT_MS: integer(100, 600_000).default(20_000),
  SIGHTENGINE_MAX_CONCURRENT: integer(1, 1000).default(10),
  SIGHTENGINE_MAX_RPS: z.coerce.number().min(0).max(10_000).default(0),

  TEXT_PROVIDER: z.enum(['auto', 'gemini', 'local']).default('auto'),
  GEMINI_API_KEY: z.string().optional(),
  GEMINI_MODEL: z.string().regex(/^[\w.-]+$/, 'must be a model name such as gemini-2.5-flash').default('gemini-2.5-flash'),
  GEMINI_BASE_URL: z.url().default('https://generativelanguage.googleapis.com'),
  GEMINI_TIMEOUT_MS: integer(100, 600_000).default(15_000),
  GEMINI_MAX_CONCURRENT: integer(1, 1000).default(10),
  GEMINI_MAX_RPS: z.coerce.number().min(0).max(10_000).default(0),
  TEXT_MAX_CHARS: integer(1, 1_000_000).default(10_000),
  TEXT_CONTEXT_MAX_MESSAGES: integer(0, 1000).default(20),
  TEXT_CONTEXT_MAX_CHARS: integer(0, 1_000_000).default(20_000),
  LOG_TEXT_CONTENT: boolean.default(true),

  PROVIDER_MAX_RETRIES: integer(0, 10).default(2),
  PROVIDER_RETRY_BASE_MS: integer(0, 60_000).default(300),
  PROVIDER_DEADLINE_MS: integer(100, 600_000).default(30_000),
  CIRCUIT_BREAKER_FAILURES: integer(0, 1000).default(5),
  CIRCUIT_BREAKER_COOLDOWN_MS: integer(10, 3_600_000).default(30_000),
  PROVIDER_OUTAGE_DECISION: z.enum(['review', 'flagged', 'pass']).default('review'),

  MODERATION_REVIEW_THRESHOLD: z.coerce.number().min(0).max(1).default(0.5),
  MODERATION_FLAG_THRESHOLD: z.coerce.number().min(0).max(1).default(0.85),
  MODERATION_THRESHOLDS: z.string().default(''),

  FETCH_ALLOW_PRIVATE: z.string().default(''),
  FETCH_MAX_BYTES: integer(1024, 1024 * 1024 * 1024).default(20 * 1024 * 1024),
  FETCH_TIMEOUT_MS: integer(100, 600_000).default(15_000),
  FETCH_MAX_REDIRECTS: integer(0, 20).default(5),
  IMAGE_MAX_PIXELS: integer(1, 1_000_000_000).default(50_000_000),

  VIDEO_MAX_BYTES: integer(1024, 10 * 1024 * 1024 * 1024).default(200 * 1024 * 1024),
  VIDEO_FETCH_TIMEOUT_MS: integer(100, 3_600_000).default(120_000),
  VIDEO_MAX_DURATION_S: z.coerce.number().positive().max(86_400).default(600),
  VIDEO_MAX_PIXELS: integer(1, 100_000_000).default(3840 * 2160),
  VIDEO_SAMPLE_INTERVAL_S: z.coerce.number().min(0.1).max(3600).default(3),
  VIDEO_MAX_FRAMES: integer(1, 10_000).default(200),
  VIDEO_FRAME_SIZE: integer(64, 4096).default(512),
  VIDEO_FRAME_CONCURRENCY: integer(1, 64).default(4),
  VIDEO_DECODE_TIMEOUT_MS: integer(1000, 3_600_000).default(120_000),
  VIDEO_DUPLICATE_MIN_MATCH: z.coerce.number().gt(0).max(1).default(0.8),
  VIDEO_TEMP_DIR: z.string().optional(),
  FFMPEG_PATH: z.string().optional(),
  FFPROBE_PATH: z.string().optional(),

  DEDUPE_PASS_MAX_DISTANCE: integer(0, 15).default(6),
  DEDUPE_FLAGGED_MAX_DISTANCE: integer(0, 15).default(12),
  DEDUPE_MIN_DETAIL: z.coerce.number().min(0).max(255).default(8),
});

/** Every variable the service reads; README.md and .env.example document each of them. */
export const configVariables = Object.keys(envSchema.shape);

export type Config = {
  port: number;
  host: string;
  apiKeys: ApiKey[];
  publicEndpoints: PublicEndpoint[];
  rateLimit: { perSecond: number; burst: number } | null;
  analyses: { maxConcurrent: number; maxQueued: number };
  databaseUrl: string;
  databasePoolSize: number;
  /** Longest a request waits for the database (MySQL: a connection and the query; SQLite: another process's write lock). */
  databaseTimeoutMs: number;
  /** Where moderation_log rows wait while the database cannot take them; maxBytes 0 turns the spool off. */
  auditSpool: { path: string; maxBytes: number };
  maxBodyBytes: number;
  shutdownTimeoutMs: number;
  log: LogSettings;
  imageProvider: 'auto' | 'sightengine' | 'local';
  localImage: { model: LocalImageModel; modelPath: string | undefined; concurrency: number };
  sightengine: {
    apiUser: string | undefined;
    apiSecret: string | undefined;
    baseUrl: string;
    models: string[];
    timeoutMs: number;
    limits: ProviderLimits;
  };
  textProvider: 'auto' | 'gemini' | 'local';
  gemini: { apiKey: string | undefined; model: string; baseUrl: string; timeoutMs: number; limits: ProviderLimits };
  text: { maxChars: number; contextMaxMessages: number; contextMaxChars: number; logContent: boolean };
  retry: { maxRetries: number; baseDelayMs: number };
  /** What bounds a paid provider's failures, and what an image or video gets when its provider fails. */
  providerFaults: { deadlineMs: number; circuitBreaker: CircuitBreakerSettings; outageDecision: Decision };
  thresholds: ThresholdTable;
  fetch: {
    allowPrivate: CidrRange[];
    maxBytes: number;
    timeoutMs: number;
    maxRedirects: number;
  };
  imageMaxPixels: number;
  video: VideoLimits;
  ffmpeg: { ffmpegPath: string | undefined; ffprobePath: string | undefined };
  dedupe: {
    passMaxDistance: number;
    flaggedMaxDistance: number;
    minDetail: number;
  };
};

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

const MIN_KEY_LENGTH = 16;

/**
 * `name:key` entries separated by commas or new lines (# starts a comment). A key without a name is
 * named after its position. Keys shorter than 16 characters are refused: they can be guessed.
 */
export function parseApiKeys(text: string, variable: string, options: { comments: boolean } = { comments: false }): ApiKey[] {
  const entries = text
    .split(/[,\n]/)
    // Comments only in files: in API_KEYS a '#' is part of a key, not the start of a comment.
    .map((line) => (options.comments ? line.replace(/(^|\s)#.*$/, '') : line).trim())
    .filter(Boolean);
  return entries.map((entry, index) => {
    const separator = entry.indexOf(':');
    const name = separator > 0 ? entry.slice(0, separator).trim() : `key-${index + 1}`;
    const key = separator > 0 ? entry.slice(separator + 1).trim() : entry;
    if (key.length < MIN_KEY_LENGTH) throw new Error(`${variable}: the key named "${name}" is shorter than ${MIN_KEY_LENGTH} characters`);
    if (!/^[\w.-]{1,64}$/.test(name)) throw new Error(`${variable}: "${name}" is not a valid key name (letters, digits, . _ -)`);
    return { name, key };
  });
}

/** Beside the SQLite file (in ./data by default); for MySQL in ./data. */
function defaultAuditSpoolPath(databaseUrl: string): string {
  const sqliteFile = sqliteFilePath(databaseUrl);
  if (sqliteFile === null || sqliteFile === ':memory:') return './data/audit-spool.jsonl';
  return join(dirname(sqliteFile), 'audit-spool.jsonl');
}

/** Parses and validates the environment; throws ConfigError naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // An empty variable (FOO= in a .env file) means "not set", not "set to the empty string".
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
  const parsed = envSchema.safeParse(present);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  if (e.MODERATION_REVIEW_THRESHOLD > e.MODERATION_FLAG_THRESHOLD) {
    throw new ConfigError('Invalid configuration:\n  MODERATION_REVIEW_THRESHOLD: must not be above MODERATION_FLAG_THRESHOLD');
  }
  if (e.IMAGE_PROVIDER === 'sightengine' && !(e.SIGHTENGINE_API_USER && e.SIGHTENGINE_API_SECRET)) {
    throw new ConfigError(
      'Invalid configuration:\n  IMAGE_PROVIDER: is "sightengine" but SIGHTENGINE_API_USER and SIGHTENGINE_API_SECRET are not both set',
    );
  }
  if (e.TEXT_PROVIDER === 'gemini' && !e.GEMINI_API_KEY) {
    throw new ConfigError('Invalid configuration:\n  TEXT_PROVIDER: is "gemini" but GEMINI_API_KEY is not set');
  }
  let apiKeys: ApiKey[];
  try {
    apiKeys = parseApiKeys(e.API_KEYS ?? '', 'API_KEYS');
    if (e.API_KEYS_FILE) {
      const fromFile = parseApiKeys(readFileSync(e.API_KEYS_FILE, 'utf8'), 'API_KEYS_FILE', { comments: true });
      apiKeys.push(...fromFile.map((key) => (/^key-\d+$/.test(key.name) ? { ...key, name: `file-${key.name}` } : key)));
    }
    // Two keys with one name could not be told apart in the log, and would share a rate limit.
    const names = apiKeys.map((key) => key.name);
    const duplicateName = names.find((name, index) => names.indexOf(name) !== index);
    if (duplicateName) throw new Error(`API_KEYS: the key name "${duplicateName}" is used twice`);
    const secrets = apiKeys.map((key) => key.key);
    if (secrets.some((key, index) => secrets.indexOf(key) !== index)) throw new Error('API_KEYS: the same key is listed twice');
  } catch (error) {
    throw new ConfigError(`Invalid configuration:\n  ${(error as Error).message}`);
  }
  if (apiKeys.length === 0 && !isLoopback(e.HOST) && !e.ALLOW_UNAUTHENTICATED) {
    throw new ConfigError(
      `Invalid configuration:\n  HOST: is ${e.HOST}, reachable from other machines, but no API_KEYS or API_KEYS_FILE is set.\n` +
        '  Anyone who could reach the port could then make the service fetch URLs inside your network and spend your provider credit.\n' +
        '  Set API_KEYS (name:key,...), bind HOST=127.0.0.1, or, behind an authenticating proxy only, set ALLOW_UNAUTHENTICATED=true.',
    );
  }
  let thresholds: ThresholdTable;
  let allowPrivate: CidrRange[];
  try {
    thresholds = parseThresholdOverrides(
      defaultThresholds({ review: e.MODERATION_REVIEW_THRESHOLD, flag: e.MODERATION_FLAG_THRESHOLD }),
      e.MODERATION_THRESHOLDS,
    );
  } catch (error) {
    throw new ConfigError(`Invalid configuration:\n  MODERATION_THRESHOLDS: ${(error as Error).message}`);
  }
  try {
    allowPrivate = parseCidrList(e.FETCH_ALLOW_PRIVATE);
  } catch (error) {
    throw new ConfigError(`Invalid configuration:\n  FETCH_ALLOW_PRIVATE: ${(error as Error).message}`);
  }

  return {
    port: e.PORT,
    host: e.HOST,
    apiKeys,
    publicEndpoints: e.PUBLIC_ENDPOINTS,
    rateLimit: e.RATE_LIMIT_PER_SECOND > 0 ? { perSecond: e.RATE_LIMIT_PER_SECOND, burst: e.RATE_LIMIT_BURST } : null,
    analyses: { maxConcurrent: e.MAX_CONCURRENT_ANALYSES, maxQueued: e.MAX_QUEUED_ANALYSES },
    databaseUrl: e.DATABASE_URL,
    databasePoolSize: e.DATABASE_POOL_SIZE,
    databaseTimeoutMs: e.DATABASE_TIMEOUT_MS,
    auditSpool: { path: e.AUDIT_SPOOL_PATH ?? defaultAuditSpoolPath(e.DATABASE_URL), maxBytes: e.AUDIT_SPOOL_MAX_BYTES },
    maxBodyBytes: e.MAX_BODY_BYTES,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    log: { level: e.LOG_LEVEL, format: e.LOG_FORMAT },
    imageProvider: e.IMAGE_PROVIDER,
    localImage: { model: e.LOCAL_IMAGE_MODEL, modelPath: e.LOCAL_IMAGE_MODEL_PATH, concurrency: e.LOCAL_IMAGE_CONCURRENCY },
    sightengine: {
      apiUser: e.SIGHTENGINE_API_USER,
      apiSecret: e.SIGHTENGINE_API_SECRET,
      baseUrl: e.SIGHTENGINE_BASE_URL.replace(/\/+$/, ''),
      models: e.SIGHTENGINE_MODELS,
      timeoutMs: e.SIGHTENGINE_TIMEOUT_MS,
      // 0 means no requests-per-second limit.
      limits: { maxConcurrent: e.SIGHTENGINE_MAX_CONCURRENT, maxPerSecond: e.SIGHTENGINE_MAX_RPS || undefined },
    },
    textProvider: e.TEXT_PROVIDER,
    gemini: {
      apiKey: e.GEMINI_API_KEY,
      model: e.GEMINI_MODEL,
      baseUrl: e.GEMINI_BASE_URL.replace(/\/+$/, ''),
      timeoutMs: e.GEMINI_TIMEOUT_MS,
      limits: { maxConcurrent: e.GEMINI_MAX_CONCURRENT, maxPerSecond: e.GEMINI_MAX_RPS || undefined },
    },
    text: {
      maxChars: e.TEXT_MAX_CHARS,
      contextMaxMessages: e.TEXT_CONTEXT_MAX_MESSAGES,
      contextMaxChars: e.TEXT_CONTEXT_MAX_CHARS,
      logContent: e.LOG_TEXT_CONTENT,
    },
    retry: { maxRetries: e.PROVIDER_MAX_RETRIES, baseDelayMs: e.PROVIDER_RETRY_BASE_MS },
    providerFaults: {
      deadlineMs: e.PROVIDER_DEADLINE_MS,
      circuitBreaker: { failureThreshold: e.CIRCUIT_BREAKER_FAILURES, cooldownMs: e.CIRCUIT_BREAKER_COOLDOWN_MS },
      outageDecision: e.PROVIDER_OUTAGE_DECISION,
    },
    thresholds,
    fetch: {
      allowPrivate,
      maxBytes: e.FETCH_MAX_BYTES,
      timeoutMs: e.FETCH_TIMEOUT_MS,
      maxRedirects: e.FETCH_MAX_REDIRECTS,
    },
    imageMaxPixels: e.IMAGE_MAX_PIXELS,
    video: {
      maxBytes: e.VIDEO_MAX_BYTES,
      fetchTimeoutMs: e.VIDEO_FETCH_TIMEOUT_MS,
      maxDurationSeconds: e.VIDEO_MAX_DURATION_S,
      maxPixels: e.VIDEO_MAX_PIXELS,
      sampleIntervalSeconds: e.VIDEO_SAMPLE_INTERVAL_S,
      maxFrames: e.VIDEO_MAX_FRAMES,
      frameSize: e.VIDEO_FRAME_SIZE,
      frameConcurrency: e.VIDEO_FRAME_CONCURRENCY,
      decodeTimeoutMs: e.VIDEO_DECODE_TIMEOUT_MS,
      duplicateMinMatch: e.VIDEO_DUPLICATE_MIN_MATCH,
      tempDir: e.VIDEO_TEMP_DIR ?? tmpdir(),
    },
    ffmpeg: { ffmpegPath: e.FFMPEG_PATH, ffprobePath: e.FFPROBE_PATH },
    dedupe: {
      passMaxDistance: e.DEDUPE_PASS_MAX_DISTANCE,
      flaggedMaxDistance: e.DEDUPE_FLAGGED_MAX_DISTANCE,
      minDetail: e.DEDUPE_MIN_DETAIL,
    },
  };
}
