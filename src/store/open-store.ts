import type { Logger } from '../logging.js';
import { sqliteFilePath } from './database-url.js';
import { MysqlStore } from './mysql/mysql-store.js';
import { SqliteStore } from './sqlite/sqlite-store.js';
import type { Store } from './store.js';

/**
 * Picks the adapter from DATABASE_URL: `mysql://…` / `mariadb://…`, or `sqlite:PATH`. `timeoutMs`
 * bounds how long SQLite waits for another process's write lock.
 */
export function openStore(databaseUrl: string, options: { poolSize: number; timeoutMs?: number; logger?: Logger | undefined }): Store {
  const path = sqliteFilePath(databaseUrl);
  if (path !== null) return new SqliteStore(path, { busyTimeoutMs: options.timeoutMs });
  return new MysqlStore(databaseUrl, options);
}
