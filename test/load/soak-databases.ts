import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import mysql from 'mysql2/promise';

/**
 * The database a soak runs against, seen from outside the service: its URL, the moderation_log
 * row count per request_id (read as an analyst would, with a connection of its own), and, for a
 * server the harness controls, a way to take it away and bring it back.
 */

export type SoakDatabase = {
  name: string;
  url: string;
  /** request_id -> number of moderation_log rows with it. */
  logRowsByRequestId(): Promise<Map<string, number>>;
  /** Present when the harness can stop and start the server (a throwaway MariaDB). */
  server?: { stop(): Promise<void>; start(): Promise<void> };
  close(): Promise<void>;
};

export async function sqliteSoakDatabase(): Promise<SoakDatabase> {
  const folder = mkdtempSync(join(tmpdir(), 'soak-sqlite-'));
  const path = join(folder, 'moderation.sqlite');
  return {
    name: 'sqlite',
    url: `sqlite:${path}`,
    async logRowsByRequestId() {
      const db = new Database(path, { readonly: true, timeout: 15_000 });
      try {
        const rows = db.prepare('SELECT request_id, COUNT(*) AS n FROM moderation_log GROUP BY request_id').all() as { request_id: string; n: number }[];
        return new Map(rows.map((row) => [row.request_id, Number(row.n)]));
      } finally {
        db.close();
      }
    },
    close: async () => rmSync(folder, { recursive: true, force: true }),
  };
}

/**
 * A fresh database on the MySQL/MariaDB server at `serverUrl` (`mysql://user@host:port/`), dropped
 * by close() unless the server is gone by then. Pass `server` when the harness may restart it.
 */
export async function mysqlSoakDatabase(
  serverUrl: string,
  options: { name?: string; server?: { stop(): Promise<void>; start(): Promise<void> } } = {},
): Promise<SoakDatabase> {
  const base = serverUrl.replace(/\/?$/, '/');
  const database = `moderation_soak_${randomBytes(5).toString('hex')}`;
  const admin = await mysql.createConnection({ uri: base });
  await admin.query(`CREATE DATABASE \`${database}\` CHARACTER SET utf8mb4`);
  await admin.end();
  return {
    name: options.name ?? 'mysql',
    url: `${base}${database}`,
    ...(options.server && { server: options.server }),
    async logRowsByRequestId() {
      const connection = await mysql.createConnection({ uri: `${base}${database}`, connectTimeout: 5000 });
      try {
        const [rows] = await connection.query('SELECT request_id, COUNT(*) AS n FROM moderation_log GROUP BY request_id');
        return new Map((rows as { request_id: string; n: number }[]).map((row) => [row.request_id, Number(row.n)]));
      } finally {
        await connection.end();
      }
    },
    async close() {
      try {
        const connection = await mysql.createConnection({ uri: base, connectTimeout: 5000 });
        await connection.query(`DROP DATABASE IF EXISTS \`${database}\``);
        await connection.end();
      } catch {
        // A throwaway server already destroyed takes its databases with it.
      }
    },
  };
}
