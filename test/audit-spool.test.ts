import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logging.js';
import { AuditLog, type ReplayOutcome } from '../src/store/audit-log.js';
import { AuditSpool, AuditSpoolUnavailableError, databaseTimestamp, fromSpoolLine, toSpoolLine } from '../src/store/audit-spool.js';
import { openStore } from '../src/store/open-store.js';
import type { DelayedLogEntry, ModerationLogEntry, Store } from '../src/store/store.js';
import { databaseBackends, type TestDatabase } from './helpers/databases.js';

/** The audit spool's file format and crash rules, and the replay into both real databases. */

const entry = (overrides: Partial<ModerationLogEntry> = {}): ModerationLogEntry => ({
  requestId: randomUUID(),
  contentType: 'text',
  userUuid: 'spool-user',
  contentIdentifier: 'f'.repeat(64),
  contentText: 'a message with "quotes", a new\nline and ünïcödé',
  decision: 'pass',
  reason: 'no rule matched',
  source: 'local',
  provider: 'local',
  httpStatus: 200,
  latencyMs: 12,
  rawResponse: { categories: [], nested: { ok: true } },
  ...overrides,
});

const lines = (path: string) => readFileSync(path, 'utf8').split('\n').filter(Boolean);

describe('the audit spool file', () => {
  let folder: string;
  let path: string;

  beforeEach(() => {
    folder = mkdtempSync(join(tmpdir(), 'spool-test-'));
    path = join(folder, 'spool', 'audit-spool.jsonl');
  });
  afterEach(() => rmSync(folder, { recursive: true, force: true }));

  it('writes one JSON line per row, in column names, that reads back as the same row', async () => {
    const spool = await AuditSpool.open({ path, maxBytes: 1024 * 1024 });
    const row = entry({ batchId: randomUUID(), matchedItemId: 7, matchedDistance: 3 });
    await spool.append(row, new Date('2026-03-04T05:06:07.089Z'));
    await spool.close();
    const [line] = lines(path);
    expect(JSON.parse(line as string)).toMatchObject({ request_id: row.requestId, created_at: '2026-03-04 05:06:07.089', content_type: 'text', http_status: 200, matched_distance: 3 });
    expect(fromSpoolLine(line as string)).toEqual({ ...row, createdAt: '2026-03-04 05:06:07.089' });
  });

  it('answers many appends at once, each on its own whole line', async () => {
    const spool = await AuditSpool.open({ path, maxBytes: 1024 * 1024 });
    const rows = Array.from({ length: 200 }, () => entry());
    await Promise.all(rows.map((row) => spool.append(row)));
    expect(spool.backlog()).toEqual({ rows: 200, bytes: readFileSync(path).length });
    await spool.close();
    expect(lines(path).map((line) => fromSpoolLine(line)?.requestId).sort()).toEqual(rows.map((row) => row.requestId).sort());
  });

  it('refuses rows past AUDIT_SPOOL_MAX_BYTES and keeps the ones that fit', async () => {
    const oneLine = Buffer.byteLength(`${toSpoolLine(entry(), databaseTimestamp(new Date()))}\n`);
    const spool = await AuditSpool.open({ path, maxBytes: oneLine * 2 + 10 });
    const results = await Promise.allSettled([spool.append(entry()), spool.append(entry()), spool.append(entry())]);
    expect(results.map((result) => result.status)).toEqual(['fulfilled', 'fulfilled', 'rejected']);
    expect((results[2] as PromiseRejectedResult).reason).toBeInstanceOf(AuditSpoolUnavailableError);
    expect((results[2] as PromiseRejectedResult).reason.message).toContain('AUDIT_SPOOL_MAX_BYTES');
    expect(lines(path)).toHaveLength(2);
    await spool.close();
  });

  it('is off with AUDIT_SPOOL_MAX_BYTES=0', async () => {
    const spool = await AuditSpool.open({ path, maxBytes: 0 });
    await expect(spool.append(entry())).rejects.toThrow('The audit spool is off');
    expect(existsSync(path)).toBe(false);
  });

  it('starts the next row on a fresh line after a torn one', async () => {
    const kept = entry();
    writeFileSync(join(folder, 'audit-spool.jsonl'), `${toSpoolLine(kept, '2026-01-01 00:00:00.000')}\n{"request_id":"cut-off-her`);
    const spool = await AuditSpool.open({ path: join(folder, 'audit-spool.jsonl'), maxBytes: 1024 * 1024 });
    expect(spool.backlog().rows).toBe(2);
    const next = entry();
    await spool.append(next);
    await spool.close();
    const written = lines(join(folder, 'audit-spool.jsonl'));
    expect(written).toHaveLength(3);
    expect(written.map((line) => fromSpoolLine(line)?.requestId ?? null)).toEqual([kept.requestId, null, next.requestId]);
  });

  it('reads no row from a line that is not one', () => {
    for (const line of ['', 'null', '[]', '{"request_id":"x"}', '{"request_id":"x","content_type":"text","http_status":200,"latency_ms":1,"created_at":"yesterday"}']) {
      expect(fromSpoolLine(line), line).toBeNull();
    }
  });

  it('cannot be opened in a folder that cannot exist', async () => {
    writeFileSync(join(folder, 'a-file'), '');
    await expect(AuditSpool.open({ path: join(folder, 'a-file', 'audit-spool.jsonl'), maxBytes: 1024 })).rejects.toThrow();
  });

  it('lives beside the SQLite file unless AUDIT_SPOOL_PATH says otherwise', () => {
    expect(loadConfig({}).auditSpool).toEqual({ path: './data/audit-spool.jsonl', maxBytes: 256 * 1024 * 1024 });
    expect(loadConfig({ DATABASE_URL: 'sqlite:/var/lib/moderation/db.sqlite' }).auditSpool.path).toBe('/var/lib/moderation/audit-spool.jsonl');
    expect(loadConfig({ DATABASE_URL: 'mysql://u:p@db:3306/moderation' }).auditSpool.path).toBe('./data/audit-spool.jsonl');
    expect(loadConfig({ AUDIT_SPOOL_PATH: '/spool/x.jsonl', AUDIT_SPOOL_MAX_BYTES: '0' }).auditSpool).toEqual({ path: '/spool/x.jsonl', maxBytes: 0 });
    expect(loadConfig({}).databaseTimeoutMs).toBe(5000);
  });
});

describe.each(databaseBackends)('replaying the spool into $name', ({ name, create, available }) => {
  describe.skipIf(!available)(name, () => {
    let database: TestDatabase;
    let store: Store;
    let folder: string;

    beforeAll(async () => {
      database = await create();
      store = openStore(database.url, { poolSize: 2 });
      await store.migrate();
    });
    afterAll(async () => {
      await store?.close();
      await database?.drop();
    });
    beforeEach(() => {
      folder = mkdtempSync(join(tmpdir(), 'replay-test-'));
    });
    afterEach(() => rmSync(folder, { recursive: true, force: true }));

    const countOf = async (requestId: string) => Number((await database.query('SELECT COUNT(*) AS n FROM moderation_log WHERE request_id = ?', [requestId]))[0]?.n);

    it('inserts absent rows with their own created_at and skips present ones, also twice in one batch', async () => {
      const present = entry();
      await store.appendLog(present);
      const fresh = entry({ contentType: 'image', sha256: 'a'.repeat(64), phash: 'b'.repeat(64), matchedItemId: 4, matchedDistance: 2, source: 'cache_near' });
      const delayed = (row: ModerationLogEntry): DelayedLogEntry => ({ ...row, createdAt: '2026-02-03 04:05:06.789' });
      expect(await store.appendLogsIfAbsent([delayed(present), delayed(fresh), delayed(fresh)])).toBe(1);
      expect(await store.appendLogsIfAbsent([delayed(fresh)])).toBe(0);
      expect(await countOf(present.requestId)).toBe(1);
      expect(await countOf(fresh.requestId)).toBe(1);
      const stored = await store.findLogByRequestId(fresh.requestId);
      expect(stored).toMatchObject({ ...fresh, createdAt: expect.stringMatching(/^2026-02-03[ T]04:05:06\.789/) });
      // The analyst views see the row on the day of its request, not of its replay.
      const [day] = await database.query('SELECT created_day FROM moderation_log WHERE request_id = ?', [fresh.requestId]);
      expect(String(day?.created_day)).toMatch(/^2026-02-03/);
    });

    it('replays a spool and a file left by an interrupted replay exactly once, setting aside what is not a row', async () => {
      const path = join(folder, 'audit-spool.jsonl');
      const alreadyStored = entry();
      await store.appendLog(alreadyStored);
      const leftOver = [entry(), entry()];
      // An interrupted replay: its file holds a row stored before the crash and two that were not.
      writeFileSync(`${path}.replaying`, [alreadyStored, ...leftOver].map((row) => `${toSpoolLine(row, '2026-01-01 10:00:00.000')}\n`).join(''));
      const spool = await AuditSpool.open({ path, maxBytes: 1024 * 1024 });
      const spooled = [entry(), entry()];
      for (const row of spooled) await spool.append(row);
      // A row whose values the database cannot take: it must not hold back the others.
      const refused = { ...entry(), userUuid: 12345 } as unknown as ModerationLogEntry;
      await spool.append(refused);
      expect(spool.backlog().rows).toBe(6);

      const outcomes: Record<ReplayOutcome, number> = { inserted: 0, duplicate: 0, set_aside: 0 };
      const auditLog = new AuditLog({
        store,
        spool,
        logger: createLogger({ level: 'silent', format: 'json' }),
        observer: { auditRowsSpooled: () => undefined, auditRowsReplayed: (outcome, count) => (outcomes[outcome] += count) },
        databaseReady: () => true,
      });
      await auditLog.replay();
      await auditLog.replay();

      expect(outcomes).toEqual({ inserted: 4, duplicate: 1, set_aside: 1 });
      for (const row of [alreadyStored, ...leftOver, ...spooled]) expect(await countOf(row.requestId), row.requestId).toBe(1);
      expect(await countOf(refused.requestId)).toBe(0);
      const [setAside] = lines(spool.corruptPath);
      expect(JSON.parse(setAside as string)).toMatchObject({ request_id: refused.requestId, user_uuid: 12345, refused_by_database: expect.any(String) });
      expect(existsSync(path) || existsSync(`${path}.replaying`)).toBe(false);
      expect(spool.backlog()).toEqual({ rows: 0, bytes: 0 });
      await auditLog.close();
    });

    it('writes to the spool only what the database does not take', async () => {
      const path = join(folder, 'audit-spool.jsonl');
      const spool = await AuditSpool.open({ path, maxBytes: 1024 * 1024 });
      let spooledRows = 0;
      const auditLog = new AuditLog({
        store,
        spool,
        logger: createLogger({ level: 'silent', format: 'json' }),
        observer: { auditRowsSpooled: (count) => (spooledRows += count), auditRowsReplayed: () => undefined },
        databaseReady: () => true,
      });
      const row = entry();
      expect(await auditLog.write(row)).toBe('database');
      // The same request_id again: the unique key refuses it, so it is spooled rather than lost.
      expect(await auditLog.write(row)).toBe('spool');
      expect(spooledRows).toBe(1);
      expect(lines(path).map((line) => fromSpoolLine(line)?.requestId)).toEqual([row.requestId]);
      await auditLog.replay();
      expect(await countOf(row.requestId)).toBe(1);
      await auditLog.close();
    });
  });
});
