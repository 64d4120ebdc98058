import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import mysql from 'mysql2/promise';

/**
 * Real databases for tests: a fresh SQLite file in a temporary folder, and a fresh database on the
 * MySQL/MariaDB server at TEST_MYSQL_URL (default mysql://root@127.0.0.1:3306/), dropped afterwards.
 * Without a reachable server the MySQL suites are skipped with a message, unless REQUIRE_MYSQL=1
 * (set by .ci/run), in which case they fail.
 */

export const testMysqlUrl = (process.env.TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/').replace(/\/?$/, '/');
const mysqlRequired = process.env.REQUIRE_MYSQL === '1';

async function probeMysql(): Promise<boolean> {
  try {
    const connection = await mysql.createConnection({ uri: testMysqlUrl, connectTimeout: 3000 });
    await connection.end();
    return true;
  } catch (error) {
    if (mysqlRequired) throw new Error(`REQUIRE_MYSQL=1 but ${testMysqlUrl} is unreachable: ${(error as Error).message}`);
    console.warn(`MySQL tests skipped: ${testMysqlUrl} is unreachable (${(error as Error).message}). Set REQUIRE_MYSQL=1 to make this an error.`);
    return false;
  }
}

export const mysqlAvailable = await probeMysql();

export type TestDatabase = {
  name: 'sqlite' | 'mysql';
  url: string;
  /** Counts the rows of a table with its own connection, as an analyst would. */
  countRows(table: string): Promise<number>;
  /** Runs one statement with its own connection, as an analyst would; the rows of a SELECT, else []. */
  query(sql: string, params?: unknown[]): Promise<Record<string, unknown>[]>;
  drop(): Promise<void>;
};

export async function createSqliteDatabase(): Promise<TestDatabase> {
  const directory = mkdtempSync(join(tmpdir(), 'moderation-test-'));
  const path = join(directory, 'moderation.sqlite');
  return {
    name: 'sqlite',
    url: `sqlite:${path}`,
    async countRows(table) {
      const db = new Database(path, { readonly: true });
      try {
        return (db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
      } finally {
        db.close();
      }
    },
    async query(sql, params = []) {
      const db = new Database(path, { timeout: 15_000 });
      try {
        const statement = db.prepare(sql);
        if (statement.reader) return statement.all(...params) as Record<string, unknown>[];
        statement.run(...params);
        return [];
      } finally {
        db.close();
      }
    },
    async drop() {
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

export async function createMysqlDatabase(): Promise<TestDatabase> {
  const database = `moderation_test_${randomBytes(6).toString('hex')}`;
  const admin = await mysql.createConnection({ uri: testMysqlUrl });
  await admin.query(`CREATE DATABASE \`${database}\` CHARACTER SET utf8mb4`);
  await admin.end();
  return {
    name: 'mysql',
    url: `${testMysqlUrl}${database}`,
    async countRows(table) {
      const connection = await mysql.createConnection({ uri: `${testMysqlUrl}${database}` });
      try {
        const [rows] = await connection.query(`SELECT COUNT(*) AS n FROM \`${table}\``);
        return Number((rows as { n: number }[])[0]?.n);
      } finally {
        await connection.end();
      }
    },
    async query(sql, params = []) {
      // UTC, as the service's own connections: created_at values are compared as UTC text.
      const connection = await mysql.createConnection({ uri: `${testMysqlUrl}${database}`, timezone: 'Z', dateStrings: true });
      try {
        await connection.query("SET time_zone = '+00:00'");
        const [rows] = await connection.query(sql, params);
        return Array.isArray(rows) ? (rows as Record<string, unknown>[]) : [];
      } finally {
        await connection.end();
      }
    },
    async drop() {
      const connection = await mysql.createConnection({ uri: testMysqlUrl });
      await connection.query(`DROP DATABASE IF EXISTS \`${database}\``);
      await connection.end();
    },
  };
}

/** The backends every storage-dependent suite runs against; MySQL only when reachable. */
export const databaseBackends = [
  { name: 'sqlite' as const, create: createSqliteDatabase, available: true },
  { name: 'mysql' as const, create: createMysqlDatabase, available: mysqlAvailable },
];
