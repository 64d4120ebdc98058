import type { Logger } from '../logging.js';
import { MysqlStore } from './mysql/mysql-store.js';
import { SqliteStore } from './sqlite/sqlite-store.js';
import type { Store } from './store.js';

/** Picks the adapter from DATABASE_URL: `mysql://…` / `mariadb://…`, or `sqlite:PATH`. */
export function openStore(databaseUrl: string, options: { poolSize: number; logger?: Logger | undefined }): Store {
  if (databaseUrl.startsWith('sqlite:')) {
    const path = databaseUrl.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
    return new SqliteStore(path || './data/moderation.sqlite');
  }
  return new MysqlStore(databaseUrl, options);
}
