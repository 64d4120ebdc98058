import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSqliteDatabase, type TestDatabase } from './helpers/databases.js';
import { exitOf, startServiceProcess, type ServiceProcess } from './helpers/service-process.js';
import { startThrowawayMariadb, throwawayMariadbAvailable, type ThrowawayMariadb } from './helpers/throwaway-mariadb.js';

/**
 * Real database outages against the real process: a private MariaDB server stopped and started
 * under the service, and a SQLite file whose write lock another process holds. Checks the answers
 * during the outage, readiness, the audit spool, and that every request leaves exactly one
 * moderation_log row once the database is back.
 */

const mysqlRequired = process.env.REQUIRE_MYSQL === '1';
if (!throwawayMariadbAvailable && mysqlRequired) throw new Error('REQUIRE_MYSQL=1 but no MariaDB server binaries were found for the outage tests.');

// Images are never sent here; a remote image provider spares loading the offline model.
const serviceEnv = {
  LOG_FORMAT: 'json',
  TEXT_PROVIDER: 'local',
  IMAGE_PROVIDER: 'sightengine',
  SIGHTENGINE_API_USER: 'user',
  SIGHTENGINE_API_SECRET: 'secret',
  SIGHTENGINE_BASE_URL: 'http://127.0.0.1:9/1.0',
};

type Answer = { status: number; body: Record<string, any>; retryAfter: string | null };

let textCounter = 0;
async function postText(service: ServiceProcess): Promise<Answer> {
  textCounter++;
  const response = await fetch(`${service.origin}/analyse/text`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ text: `an ordinary message about the weather, number ${textCounter} ${Math.random()}`, user_uuid: 'outage-user' }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, any>, retryAfter: response.headers.get('retry-after') };
}

async function readiness(service: ServiceProcess): Promise<{ status: number; body: Record<string, any> }> {
  const response = await fetch(`${service.origin}/readyz`);
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}

/** Polls `check` until it returns true; the test's own timeout bounds the wait. */
async function eventually(check: () => Promise<boolean> | boolean): Promise<void> {
  while (!(await check())) await new Promise((resolve) => setTimeout(resolve, 100));
}

async function metric(service: ServiceProcess, line: RegExp): Promise<number | null> {
  const text = await (await fetch(`${service.origin}/metrics`)).text();
  const match = new RegExp(`^${line.source} (\\S+)$`, 'm').exec(text);
  return match ? Number(match[1]) : null;
}

function spooledRequestIds(path: string): string[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => (JSON.parse(line) as { request_id: string }).request_id);
}

/** Everything spooled has been replayed: no spool rows left, and the files are gone or empty. */
async function spoolDrained(service: ServiceProcess, path: string): Promise<boolean> {
  if ((await metric(service, /moderation_audit_spool_rows/)) !== 0) return false;
  return spooledRequestIds(path).length === 0 && !existsSync(`${path}.replaying`);
}

describe.skipIf(!throwawayMariadbAvailable)('a MariaDB outage', () => {
  let mariadb: ThrowawayMariadb;
  let folder: string;
  let spoolPath: string;
  let service: ServiceProcess;
  let databaseUrl: string;
  /** Every request answered so far; each must end up with exactly one moderation_log row. */
  const answered = new Map<string, number>();

  const logRows = async (): Promise<{ request_id: string; http_status: number; rows: number }[]> => {
    const connection = await mysql.createConnection({ uri: databaseUrl });
    try {
      const [rows] = await connection.query('SELECT request_id, MIN(http_status) AS http_status, COUNT(*) AS copies FROM moderation_log GROUP BY request_id');
      return (rows as { request_id: string; http_status: number; copies: number }[]).map((row) => ({ request_id: row.request_id, http_status: Number(row.http_status), rows: Number(row.copies) }));
    } finally {
      await connection.end();
    }
  };

  const send = async (): Promise<Answer> => {
    const answer = await postText(service);
    answered.set(answer.body.request_id as string, answer.status);
    return answer;
  };

  const expectEveryAnswerLoggedOnce = async () => {
    const rows = await logRows();
    expect(rows.filter((row) => row.rows !== 1)).toEqual([]);
    expect(new Map(rows.map((row) => [row.request_id, row.http_status]))).toEqual(answered);
  };

  beforeAll(async () => {
    mariadb = await startThrowawayMariadb();
    const admin = await mysql.createConnection({ uri: mariadb.url });
    await admin.query('CREATE DATABASE moderation CHARACTER SET utf8mb4');
    await admin.end();
    databaseUrl = `${mariadb.url}moderation`;
    folder = mkdtempSync(join(tmpdir(), 'outage-test-'));
    spoolPath = join(folder, 'audit-spool.jsonl');
    await mariadb.stop();
  });

  afterAll(async () => {
    if (service?.child.exitCode === null) service.child.kill('SIGKILL');
    await mariadb?.destroy();
    if (folder) rmSync(folder, { recursive: true, force: true });
  });

  const start = () => startServiceProcess({ ...serviceEnv, DATABASE_URL: databaseUrl, AUDIT_SPOOL_PATH: spoolPath, DATABASE_TIMEOUT_MS: '2000' });

  it('starts while the database is down: alive, not ready, and /analyse answers 503 database_unavailable', async () => {
    service = await start();
    expect((await fetch(`${service.origin}/healthz`)).status).toBe(200);
    const ready = await readiness(service);
    expect(ready).toMatchObject({ status: 503, body: { status: 'unavailable', checks: { database: 'failed' } } });
    expect(ready.body.detail).toContain('has not been reached since start-up');

    for (let i = 0; i < 3; i++) {
      const answer = await send();
      expect(answer.status).toBe(503);
      expect(answer.body).toMatchObject({ code: 'database_unavailable' });
      expect(Number(answer.retryAfter)).toBeGreaterThanOrEqual(1);
    }
    // Each refusal left its row in the spool, fsynced before the answer.
    expect(spooledRequestIds(spoolPath).sort()).toEqual([...answered.keys()].sort());
    expect(await metric(service, /moderation_audit_spool_rows/)).toBe(3);
    expect(await metric(service, /moderation_database_up/)).toBe(0);
    expect(service.output()).toContain('Cannot reach the database; retrying in the background.');
  });

  it('becomes ready when the database comes up, migrates, and replays the spooled rows once', async () => {
    await mariadb.start();
    await eventually(async () => (await readiness(service)).status === 200);
    await eventually(() => spoolDrained(service, spoolPath));
    await expectEveryAnswerLoggedOnce();
    expect(await metric(service, /moderation_audit_replayed_rows_total\{outcome="inserted"\}/)).toBe(3);
    expect(await metric(service, /moderation_database_up/)).toBe(1);

    const answer = await send();
    expect(answer.status).toBe(200);
    await expectEveryAnswerLoggedOnce();
  });

  it('during an outage answers 503 without hanging, spools the rows, and recovers without a restart', async () => {
    await mariadb.stop();
    const during: Answer[] = [];
    for (let i = 0; i < 4; i++) during.push(await send());
    for (const answer of during) expect(answer).toMatchObject({ status: 503, body: { code: 'database_unavailable' } });
    expect(await readiness(service)).toMatchObject({ status: 503, body: { checks: { database: 'failed' } } });
    expect(spooledRequestIds(spoolPath)).toEqual(during.map((answer) => answer.body.request_id));
    expect(service.output()).toContain('The database is unavailable');

    await mariadb.start();
    await eventually(async () => (await readiness(service)).status === 200);
    await eventually(() => spoolDrained(service, spoolPath));
    expect((await send()).status).toBe(200);
    await expectEveryAnswerLoggedOnce();
  });

  it('survives a crashed database server the same way', async () => {
    await mariadb.stop({ kill: true });
    const answer = await send();
    expect(answer).toMatchObject({ status: 503, body: { code: 'database_unavailable' } });
    await mariadb.start();
    await eventually(async () => (await readiness(service)).status === 200);
    await eventually(() => spoolDrained(service, spoolPath));
    await expectEveryAnswerLoggedOnce();
  });

  it('answers a server that stops answering (frozen) with 503 after DATABASE_TIMEOUT_MS instead of hanging', async () => {
    mariadb.freeze();
    let during: Answer[];
    try {
      // Concurrent requests, each waiting on the hung server (or refused once it is known to be gone).
      during = await Promise.all([send(), send(), send()]);
      expect(await readiness(service)).toMatchObject({ status: 503, body: { checks: { database: 'failed' } } });
    } finally {
      mariadb.thaw();
    }
    for (const answer of during) expect(answer).toMatchObject({ status: 503, body: { code: 'database_unavailable' } });
    expect(service.output()).toContain('The database did not answer within 2000 ms (DATABASE_TIMEOUT_MS).');
    await eventually(async () => (await readiness(service)).status === 200);
    await eventually(() => spoolDrained(service, spoolPath));
    expect((await send()).status).toBe(200);
    await expectEveryAnswerLoggedOnce();
  });

  it('replays a spool left by a killed process at the next start, once, and sets a torn line aside', async () => {
    await mariadb.stop();
    for (let i = 0; i < 2; i++) expect((await send()).status).toBe(503);
    service.child.kill('SIGKILL');
    await exitOf(service.child);

    // As a crash leaves it: a row already stored (killed between the insert and the deletion of the
    // replayed file) and the torn end of an append.
    const [storedId, storedStatus] = [...answered].find(([, status]) => status === 200) as [string, number];
    const storedLine = JSON.stringify({ request_id: storedId, created_at: '2026-01-01 00:00:00.000', content_type: 'text', http_status: storedStatus, latency_ms: 1 });
    appendFileSync(spoolPath, `${storedLine}\n{"request_id":"0f0e`);

    await mariadb.start();
    service = await start();
    await eventually(async () => (await readiness(service)).status === 200);
    await eventually(async () => !existsSync(spoolPath) && !existsSync(`${spoolPath}.replaying`) && (await metric(service, /moderation_audit_spool_rows/)) === 0);
    await expectEveryAnswerLoggedOnce();
    expect(readFileSync(`${spoolPath}.corrupt`, 'utf8')).toBe('{"request_id":"0f0e\n');
    expect(await metric(service, /moderation_audit_replayed_rows_total\{outcome="duplicate"\}/)).toBe(1);
    expect(await metric(service, /moderation_audit_replayed_rows_total\{outcome="set_aside"\}/)).toBe(1);
    expect(service.output()).toContain('moved aside');
  });

  it('still refuses to start when the database answers but the database named does not exist', async () => {
    const refused = await startServiceProcess({ ...serviceEnv, DATABASE_URL: `${mariadb.url}no_such_database`, AUDIT_SPOOL_PATH: join(folder, 'other.jsonl') }).then(
      () => 'started',
      (error: Error) => error.message,
    );
    expect(refused).toContain('exited with 1');
    expect(refused).toContain("Unknown database 'no_such_database'");
  });
});

describe('a SQLite file locked by another process', () => {
  let database: TestDatabase;
  let service: ServiceProcess;
  let file: string;
  let spoolPath: string;

  beforeAll(async () => {
    database = await createSqliteDatabase();
    file = database.url.slice('sqlite:'.length);
    spoolPath = join(dirname(file), 'audit-spool.jsonl');
    service = await startServiceProcess({ ...serviceEnv, DATABASE_URL: database.url, DATABASE_TIMEOUT_MS: '300' });
  });

  afterAll(async () => {
    if (service?.child.exitCode === null) service.child.kill('SIGKILL');
    await database?.drop();
  });

  it('answers 503 while the write lock is held, spools beside the file, and replays once it is released', async () => {
    expect((await postText(service)).status).toBe(200);

    // What a backup tool, a migration by hand or an analyst's open write transaction does.
    const holder = new Database(file);
    holder.exec('BEGIN EXCLUSIVE');
    const during: Answer[] = [];
    try {
      // The first write waits DATABASE_TIMEOUT_MS for the lock; the next requests are refused at once.
      for (let i = 0; i < 3; i++) during.push(await postText(service));
      for (const answer of during) expect(answer).toMatchObject({ status: 503, body: { code: 'database_unavailable' } });
      expect(await readiness(service)).toMatchObject({ status: 503, body: { checks: { database: 'failed' } } });
      // The default spool lives beside the database file.
      expect(spooledRequestIds(spoolPath)).toEqual(during.map((answer) => answer.body.request_id));
    } finally {
      holder.exec('ROLLBACK');
      holder.close();
    }

    await eventually(async () => (await readiness(service)).status === 200);
    await eventually(() => spoolDrained(service, spoolPath));
    const ids = during.map((answer) => answer.body.request_id as string);
    const rows = await database.query(`SELECT request_id, COUNT(*) AS n, MIN(http_status) AS status FROM moderation_log WHERE request_id IN (${ids.map(() => '?').join(', ')}) GROUP BY request_id`, ids);
    expect(rows.map((row) => [row.request_id, row.n, row.status]).sort()).toEqual(ids.map((id) => [id, 1, 503]).sort());
    expect((await postText(service)).status).toBe(200);
  });
});
