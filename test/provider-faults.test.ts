import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { failureBody, lowScores, type SightengineModelScores } from './fakes/fake-sightengine.js';
import { startFakeGemini, type FakeGemini, type GeminiScript } from './fakes/fake-gemini.js';
import { createSqliteDatabase, databaseBackends, type TestDatabase } from './helpers/databases.js';
import { startImageService, type ImageService } from './helpers/image-service.js';
import { patternImage } from './helpers/images.js';
import { captureLogs } from './helpers/log-capture.js';
import { makeVideo } from './helpers/videos.js';

/**
 * How the service behaves when its paid providers misbehave, end to end: fake SightEngine and
 * Gemini servers on loopback scripted to fail, a real database, the production wiring. Every
 * failure must end in the contract's answer (the outage decision for images and videos, `error`
 * for text) with its moderation_log row, never in a 5xx.
 */

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

const flagged = new Set<string>();
const scorer = (media: Buffer): SightengineModelScores =>
  flagged.has(sha256(media)) ? { ...lowScores(), weapon: { classes: { firearm: 0.97, knife: 0.01 } } } : lowScores();

const overloaded: GeminiScript = { kind: 'error', status: 503, grpcStatus: 'UNAVAILABLE', message: 'The model is overloaded. Please try again later.' };
const apiError = () => ({ kind: 'json' as const, status: 503, body: failureBody('api_error', 500, 'Service temporarily unavailable') });
const badCredentials = () => ({ kind: 'json' as const, status: 401, body: failureBody('credentials_error', 1, 'Incorrect API user or API secret') });

/** The value of one sample of the Prometheus text format with exactly these labels. */
function sample(metrics: string, name: string, labels: Record<string, string>): number | undefined {
  const wanted = `${name}{${Object.entries(labels).map(([key, value]) => `${key}="${value}"`).join(',')}} `;
  const line = metrics.split('\n').find((text) => text.startsWith(wanted));
  return line === undefined ? undefined : Number(line.slice(wanted.length));
}

type Started = { database: TestDatabase; gemini: FakeGemini; service: ImageService };

async function start(create: () => Promise<TestDatabase>, env: Record<string, string>, options: Parameters<typeof startImageService>[1] = {}): Promise<Started> {
  const database = await create();
  const gemini = await startFakeGemini({
    judge: ({ userText }) =>
      userText.includes('free crypto') ? { decision: 'flagged', reason: 'A crypto scam.', categories: ['scam'] } : { decision: 'pass', reason: 'Fine.', categories: [] },
  });
  const service = await startImageService(database, {
    ...options,
    scorer,
    env: { GEMINI_API_KEY: gemini.apiKey, GEMINI_BASE_URL: gemini.baseUrl, ...env, ...options.env },
  });
  return { database, gemini, service };
}

async function stop(started: Partial<Started>): Promise<void> {
  await started.service?.close();
  await started.gemini?.close();
  await started.database?.drop();
}

describe.each(databaseBackends)('provider faults on $name', ({ name, create, available }) => {
  // Skipped only when no MySQL server is reachable and REQUIRE_MYSQL is not set (see helpers/databases.ts).
  describe.skipIf(!available)(name, () => {
    describe('retries and the deadline', () => {
      let started: Started;
      let service: ImageService;
      let gemini: FakeGemini;
      let seed = 1_000;
      const image = async (options: { flagged?: boolean } = {}) => {
        const bytes = await patternImage(seed++);
        if (options.flagged) flagged.add(sha256(bytes));
        return service.content.serve(`/faults/${seed}.jpg`, bytes, 'image/jpeg');
      };
      const analyseImage = async (url: string) => service.post('/analyse/image', { url, user_uuid: 'u' });
      const analyseText = async (text: string) => service.post('/analyse/text', { text, user_uuid: 'u' });
      const logRow = (requestId: string) => service.deps.store.findLogByRequestId(requestId);

      beforeAll(async () => {
        started = await start(create, {
          // Long enough for a 1 s Retry-After and the retry after it; per-attempt timeouts far beyond
          // it, so only the deadline can cut a hung call. The breaker is off: every call reaches the fakes.
          PROVIDER_DEADLINE_MS: '2500',
          SIGHTENGINE_TIMEOUT_MS: '60000',
          GEMINI_TIMEOUT_MS: '60000',
          CIRCUIT_BREAKER_FAILURES: '0',
        });
        ({ service, gemini } = started);
      });

      afterAll(() => stop(started ?? {}));

      it('honours SightEngine\'s Retry-After: one retry, and the answer comes from it', async () => {
        const url = await image({ flagged: true });
        service.fake.enqueue({ kind: 'json', status: 429, body: failureBody('usage_limit', 37, 'Too many requests'), headers: { 'retry-after': '1' } });
        const calls = service.fake.callCount;
        const response = await analyseImage(url);
        expect(response.status).toBe(200);
        expect(response.body).toMatchObject({ decision: 'flagged', source: 'provider' });
        expect(service.fake.callCount - calls).toBe(2);
      });

      it('answers at once when Retry-After asks for a wait that would end past the deadline', async () => {
        const url = await image({ flagged: true });
        service.fake.enqueue({ kind: 'json', status: 429, body: failureBody('usage_limit', 37, 'Too many requests'), headers: { 'retry-after': '10' } });
        const calls = service.fake.callCount;
        const response = await analyseImage(url);
        expect(response.body).toMatchObject({ decision: 'review', source: 'error', is_duplicate: false });
        expect(service.fake.callCount - calls).toBe(1);
        expect(await logRow(response.body.request_id)).toMatchObject({ decision: 'review', source: 'error', httpStatus: 200, error: expect.stringContaining('usage_limit 37') });
      });

      it('honours Gemini\'s RetryInfo delay, and answers error at once when it would pass the deadline', async () => {
        gemini.enqueue({ kind: 'rateLimited', retryDelay: '1s' });
        let calls = gemini.callCount;
        const retried = await analyseText('get free crypto here');
        expect(retried.body).toMatchObject({ decision: 'flagged', source: 'provider' });
        expect(gemini.callCount - calls).toBe(2);

        gemini.enqueue({ kind: 'rateLimited', retryDelay: '10s' });
        calls = gemini.callCount;
        const failed = await analyseText('a message during a quota squeeze');
        expect(failed.status).toBe(200);
        expect(failed.body).toMatchObject({ decision: 'error', reason: 'API_REQUEST_FAILED', source: 'error' });
        expect(failed.body.details).toMatch(/429 RESOURCE_EXHAUSTED/);
        expect(gemini.callCount - calls).toBe(1);
      });

      it('cuts a SightEngine call that hangs at the deadline: outage decision, the request aborted, no further attempt', async () => {
        const url = await image();
        service.fake.enqueue({ kind: 'delay', ms: 60_000 });
        const calls = service.fake.callCount;
        const unanswered = service.fake.unansweredCount;
        const response = await analyseImage(url);
        expect(response.status).toBe(200);
        expect(response.body).toMatchObject({ decision: 'review', source: 'error' });
        expect(response.body.reason).toMatch(/deadline of 2500 ms/);
        expect(await logRow(response.body.request_id)).toMatchObject({ decision: 'review', source: 'error', error: expect.stringContaining('PROVIDER_DEADLINE_MS') });
        // The fake sees its connection closed by the client: the call was abandoned, not left running.
        await vi.waitFor(() => expect(service.fake.unansweredCount).toBe(unanswered + 1));
        expect(service.fake.callCount - calls).toBe(1);
      });

      it('cuts a Gemini call that hangs at the deadline: error, the request aborted, no further attempt', async () => {
        gemini.enqueue({ kind: 'delay', ms: 60_000 });
        const calls = gemini.callCount;
        const unanswered = gemini.unansweredCount;
        const response = await analyseText('a message nobody answers');
        expect(response.body).toMatchObject({ decision: 'error', reason: 'API_REQUEST_FAILED', source: 'error' });
        expect(response.body.details).toMatch(/deadline of 2500 ms/);
        await vi.waitFor(() => expect(gemini.unansweredCount).toBe(unanswered + 1));
        expect(gemini.callCount - calls).toBe(1);
      });

      it('retries a reset connection, and maps one that keeps resetting to the outage decision', async () => {
        service.fake.enqueue({ kind: 'reset' });
        let calls = service.fake.callCount;
        expect((await analyseImage(await image())).body).toMatchObject({ decision: 'pass', source: 'provider' });
        expect(service.fake.callCount - calls).toBe(2);

        service.fake.enqueue({ kind: 'reset' }, { kind: 'reset' }, { kind: 'reset' });
        calls = service.fake.callCount;
        const response = await analyseImage(await image());
        expect(response.body).toMatchObject({ decision: 'review', source: 'error' });
        expect(service.fake.callCount - calls).toBe(3);
        expect(await logRow(response.body.request_id)).toMatchObject({ source: 'error', error: expect.stringContaining('network error') });
      });

      it('maps unreadable answers (truncated JSON, an HTML error page, malformed model output) to the contract, never to a 5xx', async () => {
        service.fake.enqueue({ kind: 'truncated' }, { kind: 'html', status: 502 }, { kind: 'empty' });
        const response = await analyseImage(await image());
        expect(response.status).toBe(200);
        expect(response.body).toMatchObject({ decision: 'review', source: 'error' });
        expect(await logRow(response.body.request_id)).toMatchObject({ source: 'error', error: expect.stringContaining('not JSON') });

        gemini.enqueue({ kind: 'answer', text: '{"decision": "pass", "reas' });
        const text = await analyseText('a message with a broken answer');
        expect(text.status).toBe(200);
        expect(text.body).toMatchObject({ decision: 'error', reason: 'API_REQUEST_FAILED', source: 'error' });
        expect(await logRow(text.body.request_id)).toMatchObject({ decision: 'error', source: 'error', error: expect.stringContaining('not valid JSON') });
      });
    });

    describe('the circuit breaker', () => {
      let started: Started;
      let service: ImageService;
      let gemini: FakeGemini;
      let url: string;
      const analyseImage = () => service.post('/analyse/image', { url, user_uuid: 'u' });
      const scrape = async () => (await service.app.request('/metrics')).text();
      const circuit = async (provider: string) => sample(await scrape(), 'moderation_provider_circuit_state', { provider });

      beforeAll(async () => {
        started = await start(create, { CIRCUIT_BREAKER_FAILURES: '3', CIRCUIT_BREAKER_COOLDOWN_MS: '200', PROVIDER_MAX_RETRIES: '0' });
        ({ service, gemini } = started);
        url = service.content.serve('/breaker.jpg', await patternImage(2_000), 'image/jpeg');
      });

      afterAll(() => stop(started ?? {}));

      /** Sends requests until one reaches the fake (the probe); those before it failed fast. */
      async function untilProbed(send: () => Promise<{ body: Record<string, any> }>, reached: () => number) {
        const before = reached();
        let last: { body: Record<string, any> } | undefined;
        await vi.waitFor(
          async () => {
            last = await send();
            expect(reached()).toBeGreaterThan(before);
          },
          { timeout: 10_000, interval: 20 },
        );
        expect(reached()).toBe(before + 1);
        return last as { body: Record<string, any> };
      }

      it('opens after 3 failures in a row; then SightEngine is not called and the answer is the outage decision', async () => {
        expect(await circuit('sightengine')).toBe(0);
        service.fake.enqueue(apiError(), apiError(), apiError());
        const calls = service.fake.callCount;
        for (let i = 0; i < 3; i++) expect((await analyseImage()).body).toMatchObject({ decision: 'review', source: 'error' });
        expect(service.fake.callCount - calls).toBe(3);
        expect(await circuit('sightengine')).toBe(2);

        const refused = await analyseImage();
        expect(refused.status).toBe(200);
        expect(refused.body).toMatchObject({ decision: 'review', source: 'error' });
        expect(refused.body.reason).toMatch(/circuit open/);
        expect(service.fake.callCount - calls).toBe(3);
        expect(await service.deps.store.findLogByRequestId(refused.body.request_id)).toMatchObject({ source: 'error', error: expect.stringMatching(/^circuit open/) });
        expect(sample(await scrape(), 'moderation_provider_circuit_rejections_total', { provider: 'sightengine' })).toBeGreaterThanOrEqual(1);
      });

      it('stays ready while a circuit is open: the service still answers, with the outage decision', async () => {
        expect(await circuit('sightengine')).toBe(2);
        const ready = await service.app.request('/readyz');
        expect(ready.status).toBe(200);
      });

      it('lets one probe through after the cooldown, and closes when it succeeds', async () => {
        const probe = await untilProbed(analyseImage, () => service.fake.callCount);
        expect(probe.body).toMatchObject({ decision: 'pass', source: 'provider' });
        expect(await circuit('sightengine')).toBe(0);
      });

      it('opens again when the probe fails', async () => {
        const other = service.content.serve('/breaker-2.jpg', await patternImage(2_001), 'image/jpeg');
        const analyseOther = () => service.post('/analyse/image', { url: other, user_uuid: 'u' });
        service.fake.enqueue(apiError(), apiError(), apiError());
        for (let i = 0; i < 3; i++) await analyseOther();
        expect(await circuit('sightengine')).toBe(2);

        service.fake.enqueue(badCredentials());
        const failedProbe = await untilProbed(analyseOther, () => service.fake.callCount);
        expect(failedProbe.body).toMatchObject({ decision: 'review', source: 'error' });
        expect(await circuit('sightengine')).toBe(2);
        const calls = service.fake.callCount;
        expect((await analyseOther()).body.reason).toMatch(/circuit open/);
        expect(service.fake.callCount).toBe(calls);

        expect((await untilProbed(analyseOther, () => service.fake.callCount)).body).toMatchObject({ decision: 'pass', source: 'provider' });
        expect(await circuit('sightengine')).toBe(0);
      });

      it('keeps one breaker per provider: Gemini\'s opens and closes on its own', async () => {
        gemini.enqueue(overloaded, overloaded, overloaded);
        const calls = gemini.callCount;
        for (let i = 0; i < 3; i++) await service.post('/analyse/text', { text: `outage ${i}`, user_uuid: 'u' });
        expect(await circuit('gemini')).toBe(2);
        const refused = await service.post('/analyse/text', { text: 'one more', user_uuid: 'u' });
        expect(refused.body).toMatchObject({ decision: 'error', reason: 'API_REQUEST_FAILED', source: 'error' });
        expect(refused.body.details).toMatch(/^gemini: circuit open/);
        expect(gemini.callCount - calls).toBe(3);

        // SightEngine is not affected.
        const image = service.content.serve('/breaker-3.jpg', await patternImage(2_002), 'image/jpeg');
        expect((await service.post('/analyse/image', { url: image, user_uuid: 'u' })).body).toMatchObject({ source: 'provider' });

        let attempt = 0;
        const probe = await untilProbed(() => service.post('/analyse/text', { text: `after the outage ${attempt++}`, user_uuid: 'u' }), () => gemini.callCount);
        expect(probe.body).toMatchObject({ decision: 'pass', source: 'provider' });
        expect(await circuit('gemini')).toBe(0);
      });
    });

    describe('PROVIDER_OUTAGE_DECISION=flagged', () => {
      let started: Started;
      let service: ImageService;
      let folder: string;

      beforeAll(async () => {
        started = await start(create, { PROVIDER_OUTAGE_DECISION: 'flagged', PROVIDER_MAX_RETRIES: '0' });
        ({ service } = started);
        folder = mkdtempSync(join(tmpdir(), 'provider-faults-'));
      });

      afterAll(async () => {
        await stop(started ?? {});
        if (folder) rmSync(folder, { recursive: true, force: true });
      });

      it('flags an image the provider could not judge, logs it as such, and caches nothing', async () => {
        const url = service.content.serve('/outage-flagged.jpg', await patternImage(3_000), 'image/jpeg');
        service.fake.enqueue(badCredentials());
        const response = await service.post('/analyse/image', { url, user_uuid: 'u' });
        expect(response.status).toBe(200);
        expect(response.body).toMatchObject({ decision: 'flagged', source: 'error', is_duplicate: false });
        expect(response.body.reason).toMatch(/could not judge the image .*credentials_error.*treated as flagged/);
        expect(await service.deps.store.findLogByRequestId(response.body.request_id)).toMatchObject({
          decision: 'flagged',
          source: 'error',
          httpStatus: 200,
          error: expect.stringContaining('credentials_error'),
        });
        expect((await service.post('/analyse/image', { url, user_uuid: 'u' })).body).toMatchObject({ decision: 'pass', source: 'provider' });
      });

      it('applies to batch items and videos too', async () => {
        const url = service.content.serve('/outage-batch.jpg', await patternImage(3_001), 'image/jpeg');
        service.fake.enqueue(badCredentials());
        const batch = await service.post('/analyse/images/batch', { images: [{ url, user_uuid: 'u' }] });
        expect(batch.body.results[0]).toMatchObject({ status: 'success', decision: 'flagged', source: 'error' });

        const video = await makeVideo(join(folder, 'clip.mp4'), [{ source: 'bars', seconds: 2 }]);
        const videoUrl = service.content.serve('/outage.mp4', readFileSync(video), 'video/mp4');
        service.fake.enqueue(badCredentials());
        const response = await service.post('/analyse/video', { url: videoUrl, user_uuid: 'u' });
        expect(response.status).toBe(200);
        expect(response.body).toMatchObject({ decision: 'flagged', source: 'error' });
        // No frame was found flagged: there is no moment to point at.
        expect(response.body.flagged_at_timestamp).toBeUndefined();
        expect(await service.deps.store.findLogByRequestId(response.body.request_id)).toMatchObject({ decision: 'flagged', source: 'error' });
      });

      it('leaves text to the contract: a Gemini failure is still decision "error"', async () => {
        started.gemini.enqueue(overloaded);
        const response = await service.post('/analyse/text', { text: 'hello during an outage', user_uuid: 'u' });
        expect(response.body).toMatchObject({ decision: 'error', reason: 'API_REQUEST_FAILED', source: 'error' });
      });
    });
  });
});

describe('PROVIDER_OUTAGE_DECISION=pass', () => {
  let started: Started;
  const logs = captureLogs('warn');

  beforeAll(async () => {
    started = await start(createSqliteDatabase, { PROVIDER_OUTAGE_DECISION: 'pass', PROVIDER_MAX_RETRIES: '0', LOG_LEVEL: 'warn' }, { logger: logs.logger });
  });

  afterAll(() => stop(started ?? {}));

  it('warns at start-up, and lets an image the provider could not judge through without caching it', async () => {
    expect(logs.lines()).toContainEqual(expect.objectContaining({ level: 'warn', provider_outage_decision: 'pass' }));
    const { service } = started;
    const url = service.content.serve('/outage-pass.jpg', await patternImage(4_000), 'image/jpeg');
    service.fake.enqueue(badCredentials());
    const response = await service.post('/analyse/image', { url, user_uuid: 'u' });
    expect(response.body).toMatchObject({ decision: 'pass', source: 'error' });
    expect(response.body.reason).toMatch(/let through without a judgement/);
    const calls = service.fake.callCount;
    expect((await service.post('/analyse/image', { url, user_uuid: 'u' })).body).toMatchObject({ decision: 'pass', source: 'provider' });
    expect(service.fake.callCount - calls).toBe(1);
  });
});
