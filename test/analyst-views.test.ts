import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../src/store/open-store.js';
import type { ModerationLogEntry, Store } from '../src/store/store.js';
import { databaseBackends, type TestDatabase } from './helpers/databases.js';

/**
 * The analyst views (sql/<dialect>/0004_analyst_views.sql) on known moderation_log rows, written
 * through the Store and then dated, with the same figures expected from both engines.
 */

type Row = Omit<ModerationLogEntry, 'requestId'> & { at: string };

const DAY1 = '2025-03-01';
const DAY2 = '2025-03-02';
const DAY3 = '2025-03-03';
const SCRIPT_USER = '<script>alert(1)</script>';

function knownRows(): Row[] {
  const rows: Row[] = [];
  // Day 1, images: 20 answers with latencies 10, 20, ... 200 ms.
  for (let i = 0; i < 20; i++) {
    const source = i < 8 ? 'provider' : i < 14 ? 'cache_exact' : i < 18 ? 'cache_near' : 'error';
    const decision = source === 'error' ? 'review' : [0, 1, 8].includes(i) ? 'flagged' : [2, 3, 14].includes(i) ? 'review' : 'pass';
    const userUuid = i <= 2 ? 'alice' : i === 3 ? SCRIPT_USER : i === 8 || i === 14 ? 'bob' : 'carol';
    rows.push({
      contentType: 'image',
      userUuid,
      decision,
      source,
      provider: 'sightengine',
      httpStatus: 200,
      latencyMs: (i + 1) * 10,
      ...(source === 'error' && { error: 'SightEngine answered HTTP 503' }),
      // The last one a millisecond before midnight: still day 1.
      at: i === 19 ? `${DAY1} 23:59:59.999` : `${DAY1} 10:00:${String(i).padStart(2, '0')}.000`,
    });
  }
  // Day 1, text: a provider failure (the contract's decision "error"), a pass, a cached flag.
  rows.push(
    { contentType: 'text', userUuid: 'dave', decision: 'error', reason: 'API_REQUEST_FAILED', source: 'error', provider: 'gemini', httpStatus: 200, latencyMs: 5, error: 'gemini: HTTP 500', at: `${DAY1} 11:00:00.000` },
    { contentType: 'text', userUuid: 'dave', decision: 'pass', source: 'provider', provider: 'gemini', httpStatus: 200, latencyMs: 7, at: `${DAY1} 11:00:01.000` },
    { contentType: 'text', userUuid: 'alice', decision: 'flagged', source: 'cache_exact', provider: 'gemini', httpStatus: 200, latencyMs: 100, at: `${DAY1} 12:00:00.000` },
  );
  // Refused requests have no decision and count nowhere.
  rows.push(
    { contentType: 'image', userUuid: 'alice', httpStatus: 422, latencyMs: 1, error: 'invalid_request: url', at: `${DAY1} 13:00:00.000` },
    { contentType: 'text', httpStatus: 401, latencyMs: 1, error: 'unauthorized: no key', at: `${DAY1} 13:00:01.000` },
  );
  // Day 2, from midnight on.
  rows.push(
    { contentType: 'image', userUuid: 'alice', decision: 'pass', source: 'local', provider: 'nsfwjs', httpStatus: 200, latencyMs: 42, at: `${DAY2} 00:00:00.000` },
    { contentType: 'video', userUuid: 'bob', decision: 'flagged', source: 'provider', provider: 'sightengine', httpStatus: 200, latencyMs: 3000, at: `${DAY2} 08:00:00.000` },
  );
  // Day 3: latencies 1..100 ms in a scrambled order; p95 is 95, the mean 50.5.
  for (let i = 0; i < 100; i++) {
    rows.push({ contentType: 'video', userUuid: 'erin', decision: 'pass', source: 'cache_near', provider: 'sightengine', httpStatus: 200, latencyMs: ((i * 37) % 100) + 1, at: `${DAY3} 06:00:00.000` });
  }
  return rows;
}

/** Numbers as numbers: MySQL returns SUM, AVG and ratios as DECIMAL strings. */
const numeric = (rows: Record<string, unknown>[]) =>
  rows.map((row) => Object.fromEntries(Object.entries(row).map(([key, value]) => [key, typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value) ? Number(value) : value])));

describe.each(databaseBackends)('Analyst views on $name', ({ name, create, available }) => {
  describe.skipIf(!available)(name, () => {
    let database: TestDatabase;
    let store: Store;
    const view = async (sql: string) => numeric(await database.query(sql));

    beforeAll(async () => {
      database = await create();
      store = openStore(database.url, { poolSize: 4 });
      await store.migrate();
      const byTime = new Map<string, string[]>();
      for (const { at, ...row } of knownRows()) {
        const requestId = randomUUID();
        await store.appendLog({ requestId, ...row });
        byTime.set(at, [...(byTime.get(at) ?? []), requestId]);
      }
      for (const [at, ids] of byTime) {
        await database.query(`UPDATE moderation_log SET created_at = ? WHERE request_id IN (${ids.map(() => '?').join(', ')})`, [at, ...ids]);
      }
    });

    afterAll(async () => {
      await store?.close();
      await database?.drop();
    });

    it('counts answered requests per UTC day, content type and decision', async () => {
      expect(await view('SELECT day, content_type, decision, requests FROM moderation_decisions_daily ORDER BY day, content_type, decision')).toEqual([
        { day: DAY1, content_type: 'image', decision: 'flagged', requests: 3 },
        { day: DAY1, content_type: 'image', decision: 'pass', requests: 12 },
        { day: DAY1, content_type: 'image', decision: 'review', requests: 5 },
        { day: DAY1, content_type: 'text', decision: 'error', requests: 1 },
        { day: DAY1, content_type: 'text', decision: 'flagged', requests: 1 },
        { day: DAY1, content_type: 'text', decision: 'pass', requests: 1 },
        { day: DAY2, content_type: 'image', decision: 'pass', requests: 1 },
        { day: DAY2, content_type: 'video', decision: 'flagged', requests: 1 },
        { day: DAY3, content_type: 'video', decision: 'pass', requests: 100 },
      ]);
    });

    it('gives the cache hit ratio and the provider calls saved per day', async () => {
      expect(await view('SELECT * FROM moderation_cache_daily ORDER BY day, content_type')).toEqual([
        { day: DAY1, content_type: 'image', answered: 20, cache_exact: 6, cache_near: 4, provider: 8, local: 0, error: 2, provider_calls_saved: 10, cache_hit_ratio: 0.5 },
        { day: DAY1, content_type: 'text', answered: 3, cache_exact: 1, cache_near: 0, provider: 1, local: 0, error: 1, provider_calls_saved: 1, cache_hit_ratio: 0.3333 },
        { day: DAY2, content_type: 'image', answered: 1, cache_exact: 0, cache_near: 0, provider: 0, local: 1, error: 0, provider_calls_saved: 0, cache_hit_ratio: 0 },
        { day: DAY2, content_type: 'video', answered: 1, cache_exact: 0, cache_near: 0, provider: 1, local: 0, error: 0, provider_calls_saved: 0, cache_hit_ratio: 0 },
        { day: DAY3, content_type: 'video', answered: 100, cache_exact: 0, cache_near: 100, provider: 0, local: 0, error: 0, provider_calls_saved: 100, cache_hit_ratio: 1 },
      ]);
    });

    it('gives the provider failure rate per day and provider, counting only requests that asked it', async () => {
      expect(await view('SELECT * FROM moderation_provider_errors_daily ORDER BY day, provider')).toEqual([
        { day: DAY1, provider: 'gemini', provider_requests: 2, failures: 1, error_rate: 0.5 },
        { day: DAY1, provider: 'sightengine', provider_requests: 10, failures: 2, error_rate: 0.2 },
        { day: DAY2, provider: 'nsfwjs', provider_requests: 1, failures: 0, error_rate: 0 },
        { day: DAY2, provider: 'sightengine', provider_requests: 1, failures: 0, error_rate: 0 },
      ]);
    });

    it('gives nearest-rank p95 and mean latency per day and content type', async () => {
      expect(await view('SELECT * FROM moderation_latency_daily ORDER BY day, content_type')).toEqual([
        // 20 values: rank ceil(19) = 19, so 190 ms. Three values: rank ceil(2.85) = 3.
        { day: DAY1, content_type: 'image', requests: 20, avg_latency_ms: 105, p95_latency_ms: 190 },
        { day: DAY1, content_type: 'text', requests: 3, avg_latency_ms: 37, p95_latency_ms: 100 },
        { day: DAY2, content_type: 'image', requests: 1, avg_latency_ms: 42, p95_latency_ms: 42 },
        { day: DAY2, content_type: 'video', requests: 1, avg_latency_ms: 3000, p95_latency_ms: 3000 },
        // 1..100: rank 95 is 95 ms; the mean 50.5 rounds half away from zero in both engines.
        { day: DAY3, content_type: 'video', requests: 100, avg_latency_ms: 51, p95_latency_ms: 95 },
      ]);
    });

    it('lists users per day and the most-flagged users over all time', async () => {
      expect(await view(`SELECT * FROM moderation_users_daily WHERE day = '${DAY1}' ORDER BY user_uuid`)).toEqual([
        { day: DAY1, user_uuid: SCRIPT_USER, flagged: 0, review: 1, total: 1, last_flagged_at: null },
        { day: DAY1, user_uuid: 'alice', flagged: 3, review: 1, total: 4, last_flagged_at: `${DAY1} 12:00:00.000` },
        { day: DAY1, user_uuid: 'bob', flagged: 1, review: 1, total: 2, last_flagged_at: `${DAY1} 10:00:08.000` },
        { day: DAY1, user_uuid: 'carol', flagged: 0, review: 2, total: 14, last_flagged_at: null },
        { day: DAY1, user_uuid: 'dave', flagged: 0, review: 0, total: 2, last_flagged_at: null },
      ]);
      expect(await view('SELECT * FROM moderation_flagged_users ORDER BY flagged DESC, review DESC, user_uuid')).toEqual([
        { user_uuid: 'alice', flagged: 3, review: 1, total: 5, last_flagged_at: `${DAY1} 12:00:00.000` },
        { user_uuid: 'bob', flagged: 2, review: 1, total: 3, last_flagged_at: `${DAY2} 08:00:00.000` },
        { user_uuid: 'carol', flagged: 0, review: 2, total: 14, last_flagged_at: null },
        { user_uuid: SCRIPT_USER, flagged: 0, review: 1, total: 1, last_flagged_at: null },
      ]);
    });

    it('reads the views for a range of days through the store', async () => {
      const summary = await store.dashboardSummary({ firstDay: DAY1, lastDay: DAY2 }, { topUsers: 3 });
      expect(summary.decisions).toHaveLength(8);
      expect(summary.decisions.every((row) => row.day === DAY1 || row.day === DAY2)).toBe(true);
      expect(summary.cache[1]).toEqual({
        day: DAY1,
        contentType: 'text',
        answered: 3,
        cacheExact: 1,
        cacheNear: 0,
        provider: 1,
        local: 0,
        error: 1,
        providerCallsSaved: 1,
        cacheHitRatio: 0.3333,
      });
      expect(summary.latency.map((row) => [row.day, row.contentType, row.p95LatencyMs])).toEqual([
        [DAY1, 'image', 190],
        [DAY1, 'text', 100],
        [DAY2, 'image', 42],
        [DAY2, 'video', 3000],
      ]);
      expect(summary.providerErrors[1]).toEqual({ day: DAY1, provider: 'sightengine', providerRequests: 10, failures: 2, errorRate: 0.2 });
      expect(summary.flaggedUsers).toEqual([
        { userUuid: 'alice', flagged: 3, review: 1, total: 5, lastFlaggedAt: `${DAY1} 12:00:00.000` },
        { userUuid: 'bob', flagged: 2, review: 1, total: 3, lastFlaggedAt: `${DAY2} 08:00:00.000` },
        { userUuid: 'carol', flagged: 0, review: 2, total: 14, lastFlaggedAt: null },
      ]);

      const secondDay = await store.dashboardSummary({ firstDay: DAY2, lastDay: DAY2 }, { topUsers: 10 });
      expect(secondDay.decisions.map((row) => row.requests)).toEqual([1, 1]);
      expect(secondDay.flaggedUsers).toEqual([{ userUuid: 'bob', flagged: 1, review: 0, total: 1, lastFlaggedAt: `${DAY2} 08:00:00.000` }]);
      expect(await store.dashboardSummary({ firstDay: '2025-02-01', lastDay: '2025-02-28' }, { topUsers: 10 })).toEqual({
        decisions: [],
        cache: [],
        latency: [],
        providerErrors: [],
        flaggedUsers: [],
      });
    });

    it.runIf(name === 'sqlite')('reaches the day index from a date range on every daily view', async () => {
      for (const daily of ['moderation_decisions_daily', 'moderation_cache_daily', 'moderation_provider_errors_daily', 'moderation_latency_daily', 'moderation_users_daily']) {
        const plan = await database.query(`EXPLAIN QUERY PLAN SELECT * FROM ${daily} WHERE day BETWEEN ? AND ?`, [DAY1, DAY2]);
        const details = plan.map((step) => String(step.detail)).join('\n');
        expect(details, daily).toMatch(/SEARCH moderation_log USING (COVERING )?INDEX ix_moderation_log_day_\w+ \(created_day>\? AND created_day<\?\)/);
      }
    });

    it.runIf(name === 'mysql')('completes a half-applied migration when it runs again', async () => {
      // MySQL commits each DDL statement: a crash after the new column, before the views, leaves the
      // migration unrecorded. Running it again must step over the column and indexes it already made.
      await database.query('DROP VIEW moderation_latency_daily');
      await database.query('DELETE FROM schema_migrations WHERE version = 4');
      await store.migrate();
      expect(await database.query('SELECT version FROM schema_migrations WHERE version = 4')).toHaveLength(1);
      expect(await view(`SELECT p95_latency_ms FROM moderation_latency_daily WHERE day = '${DAY3}'`)).toEqual([{ p95_latency_ms: 95 }]);
    });
  });
});
