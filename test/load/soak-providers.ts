import { createHash } from 'node:crypto';
import { startFakeGemini, type FakeGemini, type GeminiScript } from '../fakes/fake-gemini.js';
import { failureBody, lowScores, startFakeSightengine, type FakeSightengine, type ScriptedResponse } from '../fakes/fake-sightengine.js';
import { seededRandom } from '../helpers/realistic-hashes.js';

/**
 * The two paid providers as loopback fakes that misbehave at configured rates: each request draws
 * from a seeded generator whether it gets an error (5xx or an HTML error page), a 429 with a retry
 * delay, a reset connection, or an answer later than the service's timeout; otherwise it is
 * answered normally after a short random latency. Every injected fault is counted.
 */

export type FaultRates = {
  /** 5xx answers: half JSON error bodies, half HTML pages from a proxy. */
  serverError: number;
  /** 429 with a retry delay (SightEngine: Retry-After; Gemini: RetryInfo). */
  rateLimited: number;
  /** The connection is destroyed without an answer. */
  reset: number;
  /** The answer comes after the service's provider timeout. */
  timeout: number;
};

export const defaultFaultRates: FaultRates = { serverError: 0.05, rateLimited: 0.03, reset: 0.02, timeout: 0.01 };

export type FaultKind = keyof FaultRates | 'none';

export type SoakProviders = {
  sightengine: FakeSightengine;
  gemini: FakeGemini;
  /** Injected faults per provider and kind ('none': answered normally). */
  injected: { sightengine: Record<FaultKind, number>; gemini: Record<FaultKind, number> };
  /** Settings the service needs to reach the fakes, with timeouts the `timeout` faults exceed. */
  serviceEnv: Record<string, string>;
  /** Drops the recorded requests (they hold every uploaded image). */
  forgetRequests(): void;
  close(): Promise<void>;
};

const providerTimeoutMs = 1500;
const retryAfterSeconds = 1;

function emptyCounts(): Record<FaultKind, number> {
  return { none: 0, serverError: 0, rateLimited: 0, reset: 0, timeout: 0 };
}

function drawFault(random: () => number, rates: FaultRates): FaultKind {
  let roll = random();
  for (const kind of ['serverError', 'rateLimited', 'reset', 'timeout'] as const) {
    if (roll < rates[kind]) return kind;
    roll -= rates[kind];
  }
  return 'none';
}

/** A score for the bytes: most pictures are harmless, about one in twenty is flagged, one in twenty held for review. */
function scoresFor(media: Buffer): Record<string, unknown> {
  const scores = lowScores() as { weapon: { classes: Record<string, number> } } & Record<string, unknown>;
  const byte = createHash('sha256').update(media).digest()[0] as number;
  if (byte < 13) scores.weapon.classes.firearm = 0.95;
  else if (byte < 26) scores.weapon.classes.knife = 0.6;
  return scores;
}

export async function startSoakProviders(options: { seed: number; faults: FaultRates }): Promise<SoakProviders> {
  const random = seededRandom(options.seed);
  const latency = () => Math.round(10 + random() * 140);
  const injected = { sightengine: emptyCounts(), gemini: emptyCounts() };

  const sightengine = await startFakeSightengine({ scorer: scoresFor });
  sightengine.setLatency(latency);
  sightengine.setScript((): ScriptedResponse | undefined => {
    const fault = drawFault(random, options.faults);
    injected.sightengine[fault]++;
    switch (fault) {
      case 'none':
        return undefined;
      case 'serverError':
        return random() < 0.5 ? { kind: 'json', status: 503, body: failureBody('api_error', 0, 'Service temporarily unavailable') } : { kind: 'html', status: 502 };
      case 'rateLimited':
        return {
          kind: 'json',
          status: 429,
          body: failureBody('usage_limit', 37, 'Too many concurrent requests'),
          headers: { 'retry-after': String(retryAfterSeconds) },
        };
      case 'reset':
        return { kind: 'reset' };
      case 'timeout':
        return { kind: 'delay', ms: providerTimeoutMs + 1000 };
    }
  });

  const gemini = await startFakeGemini({
    // One message in ten flagged, one in ten held for review, the same way every time it is asked.
    judge: ({ userText }) => {
      const byte = createHash('sha256').update(userText).digest()[0] as number;
      if (byte < 26) return { decision: 'flagged', reason: 'harassment', categories: ['harassment'] };
      if (byte < 52) return { decision: 'review', reason: 'possibly spam', categories: ['spam'] };
      return { decision: 'pass', reason: 'fine', categories: [] };
    },
  });
  gemini.setScript((): GeminiScript | undefined => {
    const fault = drawFault(random, options.faults);
    injected.gemini[fault]++;
    switch (fault) {
      case 'none':
        return { kind: 'delay', ms: latency() };
      case 'serverError':
        return random() < 0.5 ? { kind: 'error', status: 503, grpcStatus: 'UNAVAILABLE', message: 'The model is overloaded. Please try again later.' } : { kind: 'html', status: 502 };
      case 'rateLimited':
        return { kind: 'rateLimited', retryDelay: `${retryAfterSeconds}s` };
      case 'reset':
        return { kind: 'reset' };
      case 'timeout':
        return { kind: 'delay', ms: providerTimeoutMs + 1000 };
    }
  });

  return {
    sightengine,
    gemini,
    injected,
    serviceEnv: {
      IMAGE_PROVIDER: 'sightengine',
      SIGHTENGINE_API_USER: sightengine.apiUser,
      SIGHTENGINE_API_SECRET: sightengine.apiSecret,
      SIGHTENGINE_BASE_URL: sightengine.baseUrl,
      SIGHTENGINE_TIMEOUT_MS: String(providerTimeoutMs),
      TEXT_PROVIDER: 'gemini',
      GEMINI_API_KEY: gemini.apiKey,
      GEMINI_BASE_URL: gemini.baseUrl,
      GEMINI_TIMEOUT_MS: String(providerTimeoutMs),
      PROVIDER_RETRY_BASE_MS: '50',
    },
    forgetRequests() {
      sightengine.requests.length = 0;
      gemini.requests.length = 0;
    },
    async close() {
      await sightengine.close();
      await gemini.close();
    },
  };
}
