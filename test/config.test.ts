import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError, configVariables, loadConfig } from '../src/config.js';

describe('configuration', () => {
  it('runs with no configuration at all: loopback, SQLite, no provider', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ host: '127.0.0.1', port: 8080, databaseUrl: 'sqlite:./data/moderation.sqlite', imageProvider: 'auto' });
    expect(config.dedupe).toEqual({ passMaxDistance: 6, flaggedMaxDistance: 12, minDetail: 8 });
  });

  it('treats an empty variable as unset', () => {
    expect(loadConfig({ PORT: '', DATABASE_URL: '' }).port).toBe(8080);
  });

  it.each([
    [{ PORT: 'eighty' }, 'PORT'],
    [{ DATABASE_URL: 'postgres://x/y' }, 'DATABASE_URL'],
    [{ IMAGE_PROVIDER: 'magic' }, 'IMAGE_PROVIDER'],
    [{ IMAGE_PROVIDER: 'sightengine' }, 'IMAGE_PROVIDER'],
    [{ DEDUPE_PASS_MAX_DISTANCE: '16' }, 'DEDUPE_PASS_MAX_DISTANCE'],
    [{ FETCH_ALLOW_PRIVATE: '10.0.0.0/33' }, 'FETCH_ALLOW_PRIVATE'],
    [{ MODERATION_THRESHOLDS: 'weapon=0.9:0.5' }, 'MODERATION_THRESHOLDS'],
    [{ MODERATION_THRESHOLDS: 'unicorns=0.1:0.2' }, 'MODERATION_THRESHOLDS'],
    [{ MODERATION_REVIEW_THRESHOLD: '0.9', MODERATION_FLAG_THRESHOLD: '0.5' }, 'MODERATION_REVIEW_THRESHOLD'],
    [{ SIGHTENGINE_BASE_URL: 'not a url' }, 'SIGHTENGINE_BASE_URL'],
    [{ TEXT_PROVIDER: 'gemini' }, 'TEXT_PROVIDER'],
    [{ LOG_TEXT_CONTENT: 'maybe' }, 'LOG_TEXT_CONTENT'],
    [{ TEXT_MAX_CHARS: '0' }, 'TEXT_MAX_CHARS'],
    [{ GEMINI_MODEL: 'models/../x' }, 'GEMINI_MODEL'],
    [{ VIDEO_SAMPLE_INTERVAL_S: '0' }, 'VIDEO_SAMPLE_INTERVAL_S'],
    [{ VIDEO_DUPLICATE_MIN_MATCH: '1.5' }, 'VIDEO_DUPLICATE_MIN_MATCH'],
    [{ VIDEO_MAX_DURATION_S: '-1' }, 'VIDEO_MAX_DURATION_S'],
    [{ LOG_LEVEL: 'verbose' }, 'LOG_LEVEL'],
    [{ LOG_FORMAT: 'xml' }, 'LOG_FORMAT'],
    [{ SHUTDOWN_TIMEOUT_MS: '-5' }, 'SHUTDOWN_TIMEOUT_MS'],
    [{ PROVIDER_OUTAGE_DECISION: 'allow' }, 'PROVIDER_OUTAGE_DECISION'],
    [{ PROVIDER_DEADLINE_MS: '0' }, 'PROVIDER_DEADLINE_MS'],
    [{ CIRCUIT_BREAKER_FAILURES: '-1' }, 'CIRCUIT_BREAKER_FAILURES'],
  ])('refuses %o with a message naming %s', (env, variable) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(variable);
  });

  it('applies per-category threshold overrides on top of the global ones', () => {
    const config = loadConfig({ MODERATION_FLAG_THRESHOLD: '0.9', MODERATION_THRESHOLDS: 'sexual=0.3:0.6' });
    expect(config.thresholds.sexual).toEqual({ review: 0.3, flag: 0.6 });
    expect(config.thresholds.weapon).toEqual({ review: 0.5, flag: 0.9 });
  });

  it('reads text settings, with the message kept in the log by default', () => {
    expect(loadConfig({}).text).toEqual({ maxChars: 10_000, contextMaxMessages: 20, contextMaxChars: 20_000, logContent: true });
    expect(loadConfig({ LOG_TEXT_CONTENT: 'false', TEXT_MAX_CHARS: '500' }).text).toMatchObject({ maxChars: 500, logContent: false });
  });

  it('holds content for review when a provider fails, unless told otherwise', () => {
    expect(loadConfig({}).providerFaults).toEqual({ deadlineMs: 30_000, circuitBreaker: { failureThreshold: 5, cooldownMs: 30_000 }, outageDecision: 'review' });
    expect(
      loadConfig({ PROVIDER_OUTAGE_DECISION: 'flagged', PROVIDER_DEADLINE_MS: '5000', CIRCUIT_BREAKER_FAILURES: '0', CIRCUIT_BREAKER_COOLDOWN_MS: '200' }).providerFaults,
    ).toEqual({ deadlineMs: 5_000, circuitBreaker: { failureThreshold: 0, cooldownMs: 200 }, outageDecision: 'flagged' });
  });

  it('reads logging and shutdown settings', () => {
    expect(loadConfig({})).toMatchObject({ log: { level: 'info', format: 'auto' }, shutdownTimeoutMs: 10_000 });
    expect(loadConfig({ LOG_LEVEL: 'debug', LOG_FORMAT: 'json', SHUTDOWN_TIMEOUT_MS: '2500' })).toMatchObject({
      log: { level: 'debug', format: 'json' },
      shutdownTimeoutMs: 2500,
    });
  });

  it('documents every variable, and only those, in .env.example and the README configuration table', () => {
    const example = readFileSync(new URL('../.env.example', import.meta.url), 'utf8');
    const inExample = [...example.matchAll(/^([A-Z][A-Z0-9_]+)=/gm)].map((match) => match[1]);
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const start = readme.indexOf('\n## Configuration');
    const section = readme.slice(start, readme.indexOf('\n## ', start + 1));
    const inReadme = [...section.matchAll(/^\|([^|]+)\|/gm)].flatMap((row) => [...(row[1] ?? '').matchAll(/`([A-Z][A-Z0-9_]+)`/g)].map((match) => match[1]));
    expect(new Set(inExample)).toEqual(new Set(configVariables));
    expect(new Set(inReadme)).toEqual(new Set(configVariables));
  });

  it('chooses SightEngine automatically when both credentials are set', () => {
    const config = loadConfig({ SIGHTENGINE_API_USER: 'u', SIGHTENGINE_API_SECRET: 's', SIGHTENGINE_MODELS: 'nudity-2.1, weapon' });
    expect(config.sightengine).toMatchObject({ apiUser: 'u', models: ['nudity-2.1', 'weapon'] });
  });
});

describe('provider selection', () => {
  it('uses Gemini and SightEngine when their credentials are set, the local classifiers otherwise or when told to', async () => {
    const { selectTextModerator, imageProviderKind } = await import('../src/deps.js');
    expect(selectTextModerator(loadConfig({})).name).toBe('local');
    expect(selectTextModerator(loadConfig({ GEMINI_API_KEY: 'k' })).name).toBe('gemini');
    expect(selectTextModerator(loadConfig({ GEMINI_API_KEY: 'k', TEXT_PROVIDER: 'local' })).name).toBe('local');
    expect(imageProviderKind(loadConfig({}))).toBe('local');
    expect(imageProviderKind(loadConfig({ SIGHTENGINE_API_USER: 'u', SIGHTENGINE_API_SECRET: 's' }))).toBe('sightengine');
    expect(imageProviderKind(loadConfig({ SIGHTENGINE_API_USER: 'u', SIGHTENGINE_API_SECRET: 's', IMAGE_PROVIDER: 'local' }))).toBe('local');
  });
});
