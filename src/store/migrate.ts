import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * Plain-SQL migrations in sql/<dialect>/NNNN_name.sql, applied in order and recorded in
 * schema_migrations with a checksum. Each adapter supplies its own lock (GET_LOCK on MySQL, an
 * IMMEDIATE transaction on SQLite) so two instances starting together apply each file once.
 */

export type Migration = { version: number; name: string; sql: string; checksum: string };
export type AppliedMigration = { version: number; checksum: string };

export function readMigrations(dialect: 'mysql' | 'sqlite'): Migration[] {
  const directory = fileURLToPath(new URL(`../../sql/${dialect}/`, import.meta.url));
  return readdirSync(directory)
    .filter((file) => /^\d{4}_[a-z0-9_]+\.sql$/.test(file))
    .sort()
    .map((file) => {
      const sql = readFileSync(directory + file, 'utf8');
      return {
        version: Number(file.slice(0, 4)),
        name: file.replace(/\.sql$/, ''),
        sql,
        checksum: createHash('sha256').update(sql).digest('hex'),
      };
    });
}

/** The migrations still to apply. Refuses to run when an applied file was edited afterwards. */
export function pendingMigrations(all: Migration[], applied: AppliedMigration[]): Migration[] {
  const appliedByVersion = new Map(applied.map((row) => [row.version, row.checksum]));
  for (const migration of all) {
    const checksum = appliedByVersion.get(migration.version);
    if (checksum !== undefined && checksum !== migration.checksum) {
      throw new Error(
        `Migration ${migration.name} was changed after it was applied. Migrations are append-only: add a new file instead.`,
      );
    }
  }
  return all.filter((migration) => !appliedByVersion.has(migration.version));
}

/** Splits a MySQL migration file into statements (MySQL runs one statement per query). */
export function splitStatements(sql: string): string[] {
  return sql
    .split(/;\s*(?:\r?\n|$)/)
    .map((statement) => statement.replace(/^\s*--.*$/gm, '').trim())
    .filter(Boolean);
}
