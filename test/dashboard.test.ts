import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { daysIn, dayRange } from '../src/dashboard/dashboard-page.js';
import { html } from '../src/dashboard/html.js';
import { buildDeps, type Deps } from '../src/deps.js';
import type { ModerationLogEntry } from '../src/store/store.js';
import { databaseBackends, type TestDatabase } from './helpers/databases.js';

/** GET /dashboard on both databases: the figures of the analyst views, as a self-contained page. */

const SCRIPT_USER = '<script>alert(1)</script>';
const KEY = 'ops-key-0123456789abcdef';

type Row = Omit<ModerationLogEntry, 'requestId'>;

const image = (row: Partial<Row>): Row => ({ contentType: 'image', userUuid: 'carol', decision: 'pass', provider: 'sightengine', httpStatus: 200, latencyMs: 1, ...row });

// Today: 8 answers, 3 from the store; image latencies 10..300 ms (p95 of six is the sixth), text 50 and 60.
const todayRows: Row[] = [
  image({ source: 'provider', latencyMs: 100 }),
  image({ source: 'provider', latencyMs: 200 }),
  image({ source: 'provider', latencyMs: 300 }),
  image({ source: 'cache_exact', latencyMs: 10 }),
  image({ source: 'cache_exact', latencyMs: 20 }),
  image({ source: 'cache_near', decision: 'flagged', userUuid: SCRIPT_USER, latencyMs: 30 }),
  { contentType: 'text', userUuid: 'dave', decision: 'error', reason: 'API_REQUEST_FAILED', source: 'error', provider: 'gemini', httpStatus: 200, latencyMs: 50 },
  { contentType: 'text', userUuid: 'dave', decision: 'pass', source: 'provider', provider: 'gemini', httpStatus: 200, latencyMs: 60 },
  // Refused: no decision, counts nowhere.
  { contentType: 'image', userUuid: 'carol', httpStatus: 422, latencyMs: 1, error: 'invalid_request: url' },
];

const tile = (label: string, value: string) => new RegExp(`<dt>${label}</dt><dd>${value.replace(/[()]/g, '\\$&')}</dd>`);

/** `YYYY-MM-DD HH:MM:SS.sss` in UTC, as created_at is stored. */
const storedTime = (time: number) => new Date(time).toISOString().replace('T', ' ').replace('Z', '');

describe.each(databaseBackends)('GET /dashboard on $name', ({ name, create, available }) => {
  describe.skipIf(!available)(name, () => {
    let database: TestDatabase;
    let deps: Deps;
    let app: ReturnType<typeof createApp>;

    const get = async (path: string, headers: Record<string, string> = {}, application = app) => {
      const response = await application.request(path, { headers });
      return { status: response.status, headers: response.headers, text: await response.text() };
    };

    beforeAll(async () => {
      database = await create();
      // SightEngine configured (and never called) so no local model is loaded for a page of SQL.
      deps = await buildDeps(
        loadConfig({
          DATABASE_URL: database.url,
          SIGHTENGINE_API_USER: 'user',
          SIGHTENGINE_API_SECRET: 'secret',
          SIGHTENGINE_BASE_URL: 'http://127.0.0.1:9',
        }),
      );
      app = createApp(deps);
      for (const row of todayRows) await deps.store.appendLog({ requestId: randomUUID(), ...row });
      // One answer 20 days ago: outside the default 14 days, inside 30.
      const old = randomUUID();
      await deps.store.appendLog({ requestId: old, ...image({ source: 'provider', decision: 'flagged', userUuid: 'old-user', latencyMs: 5000 }) });
      await database.query('UPDATE moderation_log SET created_at = ? WHERE request_id = ?', [storedTime(Date.now() - 20 * 86_400_000), old]);
    });

    afterAll(async () => {
      await deps?.close();
      await database?.drop();
    });

    it('shows the figures of the last 14 days as HTML', async () => {
      const page = await get('/dashboard');
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toMatch(/^text\/html/);
      expect(page.text).toMatch(/the last 14 days/);
      expect(page.text).toMatch(tile('Requests answered', '8'));
      expect(page.text).toMatch(tile('Cache hit ratio', '37.5 %'));
      expect(page.text).toMatch(tile('Provider calls saved', '3'));
      expect(page.text).toMatch(tile('Highest daily p95 latency', '300 ms'));
      // Five requests asked a provider (three SightEngine, two Gemini); one Gemini call failed.
      expect(page.text).toMatch(tile('Provider failures', '1 (20.0 %)'));
      expect(page.text).toMatch(/<td>gemini<\/td><td class="number">2<\/td><td class="number">1<\/td><td class="number">50.0 %<\/td>/);
      expect(page.text).not.toContain('old-user');
      // Four charts, drawn inline.
      expect(page.text.match(/<svg /g)).toHaveLength(4);
    });

    it('loads nothing from elsewhere, runs no script, and escapes stored values', async () => {
      const page = await get('/dashboard');
      expect(page.text).not.toMatch(/<script/i);
      expect(page.text).not.toMatch(/https?:\/\//);
      expect(page.text).not.toMatch(/<link|<img|\ssrc=/i);
      expect(page.text).toContain('<td>&lt;script&gt;alert(1)&lt;/script&gt;</td>');
      expect(page.headers.get('content-security-policy')).toMatch(/default-src 'none'/);
    });

    it('takes the number of days from the query string', async () => {
      const month = await get('/dashboard?days=30');
      expect(month.status).toBe(200);
      expect(month.text).toMatch(tile('Requests answered', '9'));
      expect(month.text).toMatch(tile('Highest daily p95 latency', '5,000 ms'));
      expect(month.text).toContain('<td>old-user</td>');
      const today = await get('/dashboard?days=1');
      expect(today.text).toMatch(/the last 1 day\./);
    });

    it('refuses a number of days outside 1-90 with 422', async () => {
      for (const days of ['0', '91', '2.5', 'week']) {
        const page = await get(`/dashboard?days=${days}`);
        expect(page.status, days).toBe(422);
        expect(JSON.parse(page.text)).toMatchObject({ code: 'invalid_request', errors: [{ path: 'days' }] });
        expect(JSON.parse(page.text).detail).toMatch(/^The query string is invalid/);
      }
    });

    it('needs an API key when keys are configured, unless PUBLIC_ENDPOINTS lists dashboard', async () => {
      const locked = createApp({ ...deps, access: { apiKeys: [{ name: 'ops', key: KEY }], publicEndpoints: ['docs', 'health'], rateLimit: null } });
      const refused = await get('/dashboard', {}, locked);
      expect(refused.status).toBe(401);
      expect(JSON.parse(refused.text)).toMatchObject({ code: 'unauthorized' });
      expect((await get('/dashboard', { authorization: `Bearer ${KEY}` }, locked)).status).toBe(200);
      expect((await get('/dashboard', { 'x-api-key': KEY }, locked)).status).toBe(200);

      const open = createApp({ ...deps, access: { apiKeys: [{ name: 'ops', key: KEY }], publicEndpoints: ['dashboard'], rateLimit: null } });
      expect((await get('/dashboard', {}, open)).status).toBe(200);
      expect(loadConfig({ PUBLIC_ENDPOINTS: 'health,dashboard' }).publicEndpoints).toEqual(['health', 'dashboard']);
    });
  });
});

describe('dashboard building blocks', () => {
  it('counts days in UTC, today included', () => {
    expect(dayRange(1, new Date('2025-03-01T23:59:59.999Z'))).toEqual({ firstDay: '2025-03-01', lastDay: '2025-03-01' });
    expect(dayRange(14, new Date('2025-03-01T00:00:00.000Z'))).toEqual({ firstDay: '2025-02-16', lastDay: '2025-03-01' });
    expect(daysIn({ firstDay: '2024-02-28', lastDay: '2024-03-01' })).toEqual(['2024-02-28', '2024-02-29', '2024-03-01']);
  });

  it('escapes interpolated values in text and attributes, but not nested markup', () => {
    const value = `"><script>alert('x')</script>&`;
    const inner = html`<b>${value}</b>`;
    expect(html`<p title="${value}">${inner}${[value, 1]}${null}</p>`.value).toBe(
      '<p title="&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;"><b>&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;</b>&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;1</p>',
    );
  });
});
