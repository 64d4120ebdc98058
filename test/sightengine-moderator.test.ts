import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { SightengineModerator, type SightengineOptions } from '../src/providers/sightengine/sightengine-moderator.js';
import { ProviderError } from '../src/providers/provider-error.js';
import { defaultThresholds } from '../src/providers/thresholds.js';
import {
  failureBody,
  lowScores,
  startFakeSightengine,
  type FakeSightengine,
  type SightengineModelScores,
} from './fakes/fake-sightengine.js';
import { rejection } from './helpers/rejection.js';
import { ProviderLimiter } from '../src/providers/provider-limiter.js';

const MODELS = ['nudity-2.1', 'weapon', 'recreational_drug', 'gore-2.0', 'offensive-2.0', 'self-harm'];

// The fake scores by content, so each test picks its verdict through the bytes it uploads.
const scoresByContent: Record<string, (clean: SightengineModelScores) => SightengineModelScores> = {
  nudity: (clean) => ({ ...clean, nudity: { ...(clean.nudity as object), sexual_display: 0.93, none: 0.02 } }),
  weapon: (clean) => ({ ...clean, weapon: { classes: { firearm: 0.97, knife: 0.01 } } }),
  'hate symbol': (clean) => ({ ...clean, offensive: { ...(clean.offensive as object), nazi: 0.91 } }),
  'some gore': (clean) => ({ ...clean, gore: { prob: 0.6, classes: { slightly_bloody: 0.6 } } }),
  partial: () => ({
    nudity: { sexual_activity: 0.9 },
    weapon: { firearm_action: {} },
    recreational_drug: { classes: {} },
    gore: {},
    offensive: { middle_finger: 'high' },
    'self-harm': null,
  }),
  'one model missing': (clean) => Object.fromEntries(Object.entries(clean).filter(([key]) => key !== 'weapon')),
};

const image = (content: string) => ({ bytes: new Uint8Array(Buffer.from(content)), mime: 'image/png' });

let fake: FakeSightengine;
const moderators: SightengineModerator[] = [];

function moderator(overrides: Partial<SightengineOptions> = {}): SightengineModerator {
  const created = new SightengineModerator({
    baseUrl: fake.baseUrl,
    apiUser: fake.apiUser,
    apiSecret: fake.apiSecret,
    models: MODELS,
    // Far beyond the tests' own limits, so an error that only comes from waiting out the timeout fails.
    timeoutMs: 20_000,
    thresholds: defaultThresholds({ review: 0.5, flag: 0.85 }),
    retry: { maxRetries: 2, baseDelayMs: 1 },
    limiter: new ProviderLimiter({ maxConcurrent: 10 }),
    ...overrides,
  });
  moderators.push(created);
  return created;
}

/** Requests that reached the fake while `action` ran; the fake is shared, so counts are deltas. */
async function callsDuring(action: () => Promise<void>): Promise<number> {
  const before = fake.callCount;
  await action();
  return fake.callCount - before;
}

const providerError = (promise: Promise<unknown>) => rejection(promise, ProviderError);

beforeAll(async () => {
  fake = await startFakeSightengine({
    scorer: (media) => scoresByContent[media.toString()]?.(lowScores()) ?? lowScores(),
  });
});

afterAll(async () => {
  await Promise.all(moderators.map((created) => created.close()));
  await fake.close();
});

describe('SightengineModerator request', () => {
  it('uploads the bytes as multipart media with models and credentials as form fields, never in the URL', async () => {
    const input = image('clean');
    await moderator().moderate(input);

    const sent = fake.requests.at(-1);
    expect(sent?.method).toBe('POST');
    expect(sent?.path).toBe('/1.0/check.json');
    expect(sent?.fields).toEqual({ models: MODELS.join(','), api_user: fake.apiUser, api_secret: fake.apiSecret });
    expect(sent?.media?.bytes.equals(Buffer.from(input.bytes))).toBe(true);
    expect(sent?.media?.contentType).toBe('image/png');
    expect(sent?.path).not.toContain(fake.apiSecret);
  });
});

describe('SightengineModerator decisions', () => {
  it('passes a clean image', async () => {
    const result = await moderator().moderate(image('clean'));
    expect(result).toMatchObject({ decision: 'pass', details: {}, provider: 'sightengine', cacheable: true });
    expect(result.scores.sexual).toBeLessThan(0.5);
    expect(result.rawResponse).toMatchObject({ status: 'success', request: { operations: MODELS.length } });
  });

  it.each([
    ['nudity', 'sexual'],
    ['weapon', 'weapon'],
    ['hate symbol', 'hate_symbols'],
  ] as const)('flags %s and names %s in the details', async (content, category) => {
    const result = await moderator().moderate(image(content));
    expect(result.decision).toBe('flagged');
    expect(result.details[category]).toMatchObject({ level: 'flagged', threshold: 0.85 });
    expect(Object.keys(result.details)).toEqual([category]);
  });

  it('asks for review when a score sits between the review and flag thresholds', async () => {
    const result = await moderator().moderate(image('some gore'));
    expect(result.decision).toBe('review');
    expect(result.details).toEqual({ gore: { score: 0.6, level: 'review', threshold: 0.5 } });
  });

  it('scores only the models it asked for', async () => {
    const result = await moderator({ models: ['nudity-2.1'] }).moderate(image('weapon'));
    expect(result.decision).toBe('pass');
    expect(Object.keys(result.scores).sort()).toEqual(['sexual', 'suggestive']);
  });

  it('tolerates missing and malformed sub-fields: the category is just absent', async () => {
    const result = await moderator().moderate(image('partial'));
    expect(result.scores).toEqual({ sexual: 0.9 });
    expect(result.decision).toBe('flagged');
  });
});

describe('SightengineModerator failures', () => {
  it('refuses a success that answers none of the requested models, rather than passing the image', async () => {
    fake.enqueue({ kind: 'json', status: 200, body: { status: 'success', request: { id: 'r', timestamp: 1, operations: 0 }, media: { id: 'm', uri: null } } });
    const error = await providerError(moderator().moderate(image('clean')));
    expect(error.details).toMatchObject({ kind: 'invalid_response', retryable: false });
  });

  it('refuses a success that leaves out one requested model: that risk was never judged', async () => {
    const error = await providerError(moderator().moderate(image('one model missing')));
    expect(error.details).toMatchObject({ kind: 'invalid_response', retryable: false });
    expect(error.message).toContain('weapon');
  });

  it('treats status "failure" on HTTP 200 as an error', async () => {
    fake.enqueue({ kind: 'json', status: 200, body: failureBody('argument_error', 51, 'Missing models parameter') });
    const error = await providerError(moderator().moderate(image('clean')));
    expect(error.details).toMatchObject({ kind: 'argument_error', httpStatus: 200, retryable: false });
  });

  it('retries a 503 and then succeeds', async () => {
    fake.enqueue({ kind: 'json', status: 503, body: failureBody('api_error', 500, 'Service temporarily unavailable') });
    const calls = await callsDuring(async () => {
      await expect(moderator().moderate(image('clean'))).resolves.toMatchObject({ decision: 'pass' });
    });
    expect(calls).toBe(2);
  });

  it('retries the throughput limit (usage_limit 37)', async () => {
    fake.enqueue({ kind: 'json', status: 429, body: failureBody('usage_limit', 37, 'Too many concurrent requests') });
    const calls = await callsDuring(async () => {
      await expect(moderator().moderate(image('clean'))).resolves.toMatchObject({ decision: 'pass' });
    });
    expect(calls).toBe(2);
  });

  it('does not retry bad credentials', async () => {
    const wrong = moderator({ apiSecret: 'wrong-secret' });
    const calls = await callsDuring(async () => {
      const error = await providerError(wrong.moderate(image('clean')));
      expect(error.retryable).toBe(false);
      expect(error.details).toMatchObject({ kind: 'credentials_error', httpStatus: 401 });
    });
    expect(calls).toBe(1);
  });

  it('does not retry the daily limit (usage_limit 32)', async () => {
    fake.enqueue({ kind: 'json', status: 429, body: failureBody('usage_limit', 32, 'Daily usage limit reached') });
    const calls = await callsDuring(async () => {
      const error = await providerError(moderator().moderate(image('clean')));
      expect(error.details).toMatchObject({ kind: 'usage_limit', retryable: false });
    });
    expect(calls).toBe(1);
  });

  it.each([
    ['an HTML 502 page', { kind: 'html', status: 502 }],
    ['truncated JSON', { kind: 'truncated' }],
    ['an empty 200', { kind: 'empty' }],
    ['a reset connection', { kind: 'reset' }],
  ] as const)('turns %s into a retryable ProviderError without waiting for the timeout', async (_, scripted) => {
    fake.enqueue(scripted);
    const calls = await callsDuring(async () => {
      const error = await providerError(moderator({ retry: { maxRetries: 0, baseDelayMs: 1 } }).moderate(image('clean')));
      expect(error.retryable).toBe(true);
      expect(error.details.kind).not.toBe('timeout');
    });
    expect(calls).toBe(1);
  }, 5_000);

  it('retries a reset connection and then succeeds', async () => {
    fake.enqueue({ kind: 'reset' });
    const calls = await callsDuring(async () => {
      await expect(moderator().moderate(image('clean'))).resolves.toMatchObject({ decision: 'pass' });
    });
    expect(calls).toBe(2);
  });

  it('marks an error that blames the image as no fault of the provider', async () => {
    fake.enqueue({ kind: 'json', status: 400, body: failureBody('media_error', 21, 'Image could not be decoded') });
    const error = await providerError(moderator().moderate(image('clean')));
    expect(error.details).toMatchObject({ kind: 'media_error', retryable: false });
    expect(error.providerFault).toBe(false);
  });

  it('gives up at the deadline while still waiting for a call slot, without blaming the provider', async () => {
    // Two moderators share one slot: the first holds it with a slow call, the second waits past its deadline.
    const limiter = new ProviderLimiter({ maxConcurrent: 1 });
    fake.enqueue({ kind: 'delay', ms: 1_000 });
    const calls = await callsDuring(async () => {
      const slow = moderator({ limiter }).moderate(image('clean'));
      const error = await providerError(moderator({ limiter, deadlineMs: 150 }).moderate(image('clean')));
      expect(error.details).toMatchObject({ kind: 'deadline', retryable: false });
      expect(error.message).toMatch(/no free call slot within the deadline of 150 ms/);
      expect(error.providerFault).toBe(false);
      await expect(slow).resolves.toMatchObject({ decision: 'pass' });
    });
    // Only the slow call reached the provider.
    expect(calls).toBe(1);
  });

  it('gives up with a timeout error when no answer arrives within timeoutMs', async () => {
    fake.enqueue({ kind: 'delay', ms: 2_000 });
    const error = await providerError(moderator({ timeoutMs: 100, retry: { maxRetries: 0, baseDelayMs: 1 } }).moderate(image('clean')));
    expect(error.details).toMatchObject({ kind: 'timeout', retryable: true });
  });
});
