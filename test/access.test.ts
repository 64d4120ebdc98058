import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/app.js';
import { ConfigError, loadConfig } from '../src/config.js';
import { buildDeps, type Deps } from '../src/deps.js';
import { TokenBuckets } from '../src/http/rate-limit.js';
import { WorkGate } from '../src/moderation/work-gate.js';
import { startContentServer, type ContentServer } from './helpers/content-server.js';
import { createSqliteDatabase, type TestDatabase } from './helpers/databases.js';
import { patternImage } from './helpers/images.js';

/** Who may call, how often, and how much at once. */

type Json = Record<string, any>;
const ALICE = 'alice-key-0123456789abcdef';
const BOB = 'bob-key-fedcba9876543210';

describe('API keys and rate limits', () => {
  let database: TestDatabase;
  let deps: Deps;
  let app: ReturnType<typeof createApp>;

  const ask = async (headers: Record<string, string>, path = '/analyse/text', body: unknown = { text: 'hello there', user_uuid: 'u' }) => {
    const response = await app.request(path, {
      method: path.startsWith('/analyse') ? 'POST' : 'GET',
      headers: { 'content-type': 'application/json', ...headers },
      ...(path.startsWith('/analyse') && { body: JSON.stringify(body) }),
    });
    return { status: response.status, headers: response.headers, body: (await response.json().catch(() => null)) as Json };
  };

  beforeAll(async () => {
    database = await createSqliteDatabase();
    deps = await buildDeps(loadConfig({ LOG_LEVEL: 'error', DATABASE_URL: database.url, API_KEYS: `alice:${ALICE},bob:${BOB}`, RATE_LIMIT_PER_SECOND: '4', RATE_LIMIT_BURST: '3' }));
    app = createApp(deps);
  });

  afterAll(async () => {
    await deps?.close();
    await database?.drop();
  });

  it('refuses a request without a key, or with a wrong one, with 401 and a log row', async () => {
    const missing = await ask({});
    expect(missing).toMatchObject({ status: 401, body: { code: 'unauthorized' } });
    expect(missing.headers.get('www-authenticate')).toBe('Bearer');
    expect(missing.body.detail).toMatch(/Authorization: Bearer/);
    const wrong = await ask({ authorization: `Bearer ${ALICE}x` });
    expect(wrong).toMatchObject({ status: 401, body: { code: 'unauthorized', detail: 'The API key is not valid.' } });
    const row = await deps.store.findLogByRequestId(wrong.body.request_id);
    expect(row).toMatchObject({ httpStatus: 401, client: null });
    expect(JSON.stringify(row)).not.toContain(ALICE);
  });

  it('accepts a key as Bearer or X-API-Key, and records its name, never the key', async () => {
    const bearer = await ask({ authorization: `Bearer ${ALICE}` });
    expect(bearer.status).toBe(200);
    expect(await deps.store.findLogByRequestId(bearer.body.request_id)).toMatchObject({ client: 'alice' });
    const header = await ask({ 'x-api-key': BOB });
    expect(header.status).toBe(200);
    const row = await deps.store.findLogByRequestId(header.body.request_id);
    expect(row).toMatchObject({ client: 'bob' });
    expect(JSON.stringify(row)).not.toContain(BOB);
  });

  it('keeps docs and health readable without a key', async () => {
    expect((await ask({}, '/healthz')).status).toBe(200);
    expect((await ask({}, '/readyz')).status).toBe(200);
    expect((await ask({}, '/openapi.json')).status).toBe(200);
    expect((await app.request('/docs')).status).toBe(200);
  });

  it('limits each key on its own, answers 429 with Retry-After and a log row, then recovers', async () => {
    // Alice has made 1 request so far in this file (and her bucket refills at 4/s), Bob 1.
    await sleep(1000);
    const burst = [];
    for (let i = 0; i < 4; i++) burst.push(await ask({ authorization: `Bearer ${ALICE}` }));
    expect(burst.map((response) => response.status)).toEqual([200, 200, 200, 429]);
    const limited = burst[3] as { headers: Headers; body: Json };
    expect(limited.body).toMatchObject({ code: 'rate_limited' });
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await deps.store.findLogByRequestId(limited.body.request_id)).toMatchObject({ httpStatus: 429, client: 'alice' });
    expect((await ask({ 'x-api-key': BOB })).status).toBe(200);
    await sleep(Number(limited.headers.get('retry-after')) * 1000);
    expect((await ask({ authorization: `Bearer ${ALICE}` })).status).toBe(200);
  });
});

describe('docs behind the key when told so', () => {
  it('requires the key on docs when PUBLIC_ENDPOINTS leaves them out', async () => {
    const database = await createSqliteDatabase();
    const deps = await buildDeps(loadConfig({ LOG_LEVEL: 'error', DATABASE_URL: database.url, API_KEYS: ALICE, PUBLIC_ENDPOINTS: 'health' }));
    try {
      const app = createApp(deps);
      expect((await app.request('/openapi.json')).status).toBe(401);
      expect((await app.request('/openapi.json', { headers: { 'x-api-key': ALICE } })).status).toBe(200);
      expect((await app.request('/healthz')).status).toBe(200);
    } finally {
      await deps.close();
      await database.drop();
    }
  });
});

describe('cap on concurrent analyses', () => {
  let database: TestDatabase;
  let content: ContentServer;
  let deps: Deps;

  beforeAll(async () => {
    database = await createSqliteDatabase();
    content = await startContentServer();
    deps = await buildDeps(loadConfig({ LOG_LEVEL: 'error', DATABASE_URL: database.url, FETCH_ALLOW_PRIVATE: '127.0.0.1/32', MAX_CONCURRENT_ANALYSES: '1', MAX_QUEUED_ANALYSES: '1' }));
  });

  afterAll(async () => {
    await deps?.close();
    await content?.close();
    await database?.drop();
  });

  it('runs one, queues one, and refuses the next with 503 and Retry-After (and a log row)', async () => {
    const app = createApp(deps);
    const slowly = async (name: string) => {
      const image = await patternImage(name.length * 17);
      return content.handle(`/${name}.jpg`, (_request, response) => {
        setTimeout(() => response.writeHead(200).end(image), 400);
      });
    };
    const urls = [await slowly('first'), await slowly('second-one'), await slowly('third-image')];
    const responses = await Promise.all(
      urls.map(async (url) => {
        const response = await app.request('/analyse/image', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ url, user_uuid: 'u' }) });
        return { status: response.status, retryAfter: response.headers.get('retry-after'), body: (await response.json()) as Json };
      }),
    );
    expect(responses.map((response) => response.status).sort()).toEqual([200, 200, 503]);
    const refused = responses.find((response) => response.status === 503);
    expect(refused?.body).toMatchObject({ code: 'overloaded' });
    expect(refused?.retryAfter).toBe('5');
    expect(await deps.store.findLogByRequestId(refused?.body.request_id)).toMatchObject({ httpStatus: 503 });
  });
});

describe('token buckets and the work gate', () => {
  it('allows a burst, then one request per refill interval', () => {
    let now = 0;
    const buckets = new TokenBuckets(2, 3, () => now);
    expect([buckets.take('a'), buckets.take('a'), buckets.take('a')]).toEqual([0, 0, 0]);
    expect(buckets.take('a')).toBe(500);
    expect(buckets.take('b')).toBe(0);
    now += 500;
    expect(buckets.take('a')).toBe(0);
    expect(buckets.take('a')).toBe(500);
  });

  it('passes a freed slot to the first waiter, and refuses when the queue is full', async () => {
    const gate = new WorkGate(1, 1);
    const first = await gate.enter();
    const secondEntered = gate.enter();
    expect(await gate.enter()).toBe(false);
    expect(gate.load).toEqual({ running: 1, waiting: 1 });
    (first as () => void)();
    const second = await secondEntered;
    expect(gate.load).toEqual({ running: 1, waiting: 0 });
    (second as () => void)();
    expect(gate.load).toEqual({ running: 0, waiting: 0 });
  });
});

describe('key configuration', () => {
  it('reads name:key pairs from API_KEYS and API_KEYS_FILE, with comments', () => {
    const folder = mkdtempSync(join(tmpdir(), 'keys-'));
    try {
      const file = join(folder, 'keys');
      writeFileSync(file, `# partners\ncarol:${'c'.repeat(20)}\n\n${'d'.repeat(20)}  # unnamed\n`);
      const config = loadConfig({ API_KEYS: `alice:${ALICE}`, API_KEYS_FILE: file });
      expect(config.apiKeys.map((key) => key.name)).toEqual(['alice', 'carol', 'file-key-2']);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it.each([
    [{ API_KEYS: 'alice:short' }, /shorter than 16/],
    [{ API_KEYS: `bad name:${ALICE}` }, /not a valid key name/],
    [{ API_KEYS_FILE: '/nonexistent/keys' }, /ENOENT|no such file/],
    [{ API_KEYS: `alice:${ALICE},alice:${BOB}` }, /"alice" is used twice/],
    [{ API_KEYS: `alice:${ALICE},bob:${ALICE}` }, /same key is listed twice/],
    [{ HOST: '0.0.0.0' }, /HOST: is 0\.0\.0\.0, reachable from other machines, but no API_KEYS/],
  ])('refuses %o', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });

  it('keeps a # inside a key given in API_KEYS', () => {
    expect(loadConfig({ API_KEYS: 'partner:abc#def0123456789xyz' }).apiKeys).toEqual([{ name: 'partner', key: 'abc#def0123456789xyz' }]);
  });

  it('starts on a public address with keys, or with the explicit opt-out', () => {
    expect(loadConfig({ HOST: '0.0.0.0', API_KEYS: ALICE }).apiKeys).toHaveLength(1);
    expect(loadConfig({ HOST: '0.0.0.0', ALLOW_UNAUTHENTICATED: 'true' }).apiKeys).toEqual([]);
  });
});
