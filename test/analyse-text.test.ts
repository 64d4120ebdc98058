import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { buildDeps, type Deps } from '../src/deps.js';
import { textDigest } from '../src/dedupe/text-normalise.js';
import { createSqliteDatabase, databaseBackends, type TestDatabase } from './helpers/databases.js';
import { startFakeGemini, type FakeGemini } from './fakes/fake-gemini.js';

/** POST /analyse/text end to end: a real database, the real SDK, a fake Gemini on loopback. */

type Json = Record<string, any>;

async function postText(app: ReturnType<typeof createApp>, body: unknown) {
  const response = await app.request('/analyse/text', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Json };
}

describe.each(databaseBackends)('POST /analyse/text with Gemini on $name', ({ name, create, available }) => {
  // Skipped only when no MySQL server is reachable and REQUIRE_MYSQL is not set (see helpers/databases.ts).
  describe.skipIf(!available)(name, () => {
    let database: TestDatabase;
    let gemini: FakeGemini;
    let deps: Deps;
    let app: ReturnType<typeof createApp>;
    const ask = (body: unknown) => postText(app, body);

    beforeAll(async () => {
      database = await create();
      gemini = await startFakeGemini({
        judge: ({ userText }) =>
          userText.toLowerCase().includes('free crypto')
            ? { decision: 'flagged', reason: 'A crypto giveaway scam.', categories: ['scam', 'not_a_category'] }
            : { decision: 'pass', reason: 'An ordinary message.', categories: [] },
      });
      deps = await buildDeps(
        loadConfig({
          LOG_LEVEL: 'error',
          DATABASE_URL: database.url,
          GEMINI_API_KEY: gemini.apiKey,
          GEMINI_BASE_URL: gemini.baseUrl,
          PROVIDER_RETRY_BASE_MS: '1',
          TEXT_MAX_CHARS: '200',
          TEXT_CONTEXT_MAX_MESSAGES: '3',
          MAX_BODY_BYTES: '4096',
        }),
      );
      app = createApp(deps);
    });

    afterAll(async () => {
      await deps?.close();
      await gemini?.close();
      await database?.drop();
    });

    it('asks Gemini once, then answers the same normalised text in the same context from the store', async () => {
      const first = await ask({ text: 'Get FREE crypto now', user_uuid: 'author-1', thread_context: ['hi all'] });
      expect(first.status).toBe(200);
      expect(first.body).toMatchObject({ decision: 'flagged', categories: ['scam'], is_duplicate: false, source: 'provider', provider: 'gemini' });
      expect(gemini.callCount).toBe(1);
      const sent = JSON.parse(gemini.requests.at(-1)?.body.contents[0].parts[0].text);
      expect(sent).toEqual({ context: ['hi all'], message: 'Get FREE crypto now' });

      // NFKC folds the full-width letters; case and white space do not matter either.
      const again = await ask({ text: '  get ｆｒｅｅ   CRYPTO now ', user_uuid: 'author-2', thread_context: ['Hi   ALL'] });
      expect(again.body).toMatchObject({ decision: 'flagged', categories: ['scam'], is_duplicate: true, source: 'cache_exact', provider: 'gemini' });
      expect(gemini.callCount).toBe(1);

      const row = await deps.store.findLogByRequestId(again.body.request_id);
      expect(row).toMatchObject({
        contentType: 'text',
        contentIdentifier: textDigest('Get FREE crypto now'),
        contentText: '  get ｆｒｅｅ   CRYPTO now ',
        userUuid: 'author-2',
        source: 'cache_exact',
        decision: 'flagged',
        httpStatus: 200,
      });
    });

    it('asks again when the same words arrive in another conversation', async () => {
      const before = gemini.callCount;
      const response = await ask({ text: 'Get FREE crypto now', user_uuid: 'author-1', thread_context: ['a different thread'] });
      expect(response.body.is_duplicate).toBe(false);
      expect(gemini.callCount).toBe(before + 1);
    });

    it('answers decision "error" with API_REQUEST_FAILED when Gemini cannot answer, and caches nothing', async () => {
      gemini.enqueue({ kind: 'error', status: 400, grpcStatus: 'INVALID_ARGUMENT', message: 'API key not valid. Please pass a valid API key.', details: [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'API_KEY_INVALID' }] });
      const failed = await ask({ text: 'an outage message', user_uuid: 'u' });
      expect(failed.status).toBe(200);
      expect(failed.body).toMatchObject({ decision: 'error', reason: 'API_REQUEST_FAILED', source: 'error', is_duplicate: false, categories: [] });
      expect(failed.body.details).toMatch(/gemini: HTTP 400/);
      expect(failed.body.details).not.toContain(gemini.apiKey);
      const row = await deps.store.findLogByRequestId(failed.body.request_id);
      expect(row).toMatchObject({ decision: 'error', reason: 'API_REQUEST_FAILED', source: 'error', httpStatus: 200 });
      expect(JSON.stringify(row)).not.toContain(gemini.apiKey);

      const retried = await ask({ text: 'an outage message', user_uuid: 'u' });
      expect(retried.body).toMatchObject({ decision: 'pass', is_duplicate: false, source: 'provider' });
    });

    it('treats a safety block as a decision, not an error', async () => {
      gemini.enqueue({ kind: 'promptBlocked', blockReason: 'PROHIBITED_CONTENT' });
      const response = await ask({ text: 'something the provider refuses to read', user_uuid: 'u' });
      expect(response.body).toMatchObject({ decision: 'flagged', source: 'provider' });
      expect(response.body.reason).toMatch(/safety filter/);
    });

    it('answers 413 for a body over MAX_BODY_BYTES, before parsing it, with a log row', async () => {
      const response = await ask({ text: 'x'.repeat(5000), user_uuid: 'u' });
      expect(response.status).toBe(413);
      expect(response.body).toMatchObject({ code: 'body_too_large', detail: expect.stringContaining('MAX_BODY_BYTES') });
      expect(await deps.store.findLogByRequestId(response.body.request_id)).toMatchObject({ httpStatus: 413, contentType: 'text' });
    });

    it.each([
      [{ text: 'x'.repeat(201), user_uuid: 'u' }, 'text', /TEXT_MAX_CHARS \(200/],
      [{ text: 'hello', user_uuid: 'u', thread_context: ['a', 'b', 'c', 'd'] }, 'thread_context', /TEXT_CONTEXT_MAX_MESSAGES \(3\)/],
      [{ text: ' \n\t ', user_uuid: 'u' }, 'text', /white space/],
      [{ text: '', user_uuid: 'u' }, 'text', /too_small|at least|>=/i],
      [{ text: 'hello' }, 'user_uuid', /.+/],
    ])('answers 422 naming the limit or field for %o, with a log row', async (body, path, message) => {
      const before = gemini.callCount;
      const response = await ask(body);
      expect(response.status).toBe(422);
      expect(response.body.code).toBe('invalid_request');
      const field = (response.body.errors as Json[]).find((error) => error.path === path);
      expect(field?.message).toMatch(message);
      expect(gemini.callCount).toBe(before);
      expect(await deps.store.findLogByRequestId(response.body.request_id)).toMatchObject({ httpStatus: 422, contentType: 'text', contentText: null });
    });
  });
});

describe('POST /analyse/text without a Gemini key', () => {
  let database: TestDatabase;
  let deps: Deps;
  let app: ReturnType<typeof createApp>;

  beforeAll(async () => {
    database = await createSqliteDatabase();
    deps = await buildDeps(loadConfig({ LOG_LEVEL: 'error', DATABASE_URL: database.url, LOG_TEXT_CONTENT: 'false' }));
    app = createApp(deps);
  });

  afterAll(async () => {
    await deps?.close();
    await database?.drop();
  });

  it('answers offline, from the local rules, and caches the answer', async () => {
    const first = await postText(app, { text: "I'm going to kill you", user_uuid: 'u' });
    expect(first.body).toMatchObject({ decision: 'flagged', categories: ['threat'], provider: 'local', source: 'local', is_duplicate: false });
    const second = await postText(app, { text: "i'm going to KILL you", user_uuid: 'u' });
    expect(second.body).toMatchObject({ decision: 'flagged', is_duplicate: true, source: 'cache_exact', provider: 'local' });
    expect((await postText(app, { text: 'Lovely weather today', user_uuid: 'u' })).body).toMatchObject({ decision: 'pass', provider: 'local' });
  });

  it('keeps the message out of the log when LOG_TEXT_CONTENT is false, but keeps its digest', async () => {
    const response = await postText(app, { text: 'a private message', user_uuid: 'u' });
    const row = await deps.store.findLogByRequestId(response.body.request_id);
    expect(row).toMatchObject({ contentText: null, contentIdentifier: textDigest('a private message') });
  });
});
