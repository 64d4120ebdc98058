import type { Connection as CallbackConnection, QueryError } from 'mysql2';
import mysql from 'mysql2/promise';
import type { PerceptualHash } from '../../dedupe/perceptual-hash.js';
import { createLogger, type Logger } from '../../logging.js';
import { GroupWriter } from '../group-writer.js';
import { pendingMigrations, readMigrations, splitStatements } from '../migrate.js';
import {
  dashboardSql,
  indexRows,
  insertIndexRowColumns,
  insertImageColumns,
  insertImageSql,
  insertImageParams,
  imageColumns,
  insertTextParams,
  insertTextSql,
  insertDelayedLogSql,
  logColumns,
  logParams,
  insertVideoParams,
  insertVideoSql,
  replaceVideoJudgementParams,
  replaceVideoJudgementSql,
  selectVideoBySha256Sql,
  toJudgedVideo,
  videosByFrameImagesSql,
  replaceJudgementParams,
  replaceJudgementSql,
  similarImagesParams,
  similarImagesSql,
  scanSimilarImagesParams,
  scanSimilarImagesSql,
  selectTextSql,
  toJudgedImage,
  toJudgedText,
  toDashboardSummary,
  toLogRow,
} from '../sql-common.js';
import type {
  DashboardSummary,
  DayRange,
  DelayedLogEntry,
  JudgedImage,
  JudgedText,
  JudgedVideo,
  ModerationLogEntry,
  ModerationLogRow,
  NewJudgedImage,
  NewJudgedText,
  NewJudgedVideo,
  PoolStats,
  SimilarImage,
  Store,
  VideoFrameMatch,
} from '../store.js';

/** The MySQL 8 / MariaDB adapter (mysql2 pool, the only module that imports mysql2). */

// Named locks are server-wide: the database name keeps two databases on one server independent.
const MIGRATION_LOCK = "CONCAT('moderation_api_migrations:', DATABASE())";

// Words travel as decimal strings and are cast on the server: a JS number would lose bits above
// 2^53, and a bare string in a bit operation would be converted through a double.
const toDecimal = (word: bigint) => BigInt.asUintN(64, word).toString();
const selectImageColumns = imageColumns.replace(/i\.phash(\d)/g, 'CAST(i.phash$1 AS CHAR) AS phash$1');
const wordDistanceMysql = (word: number) => `BIT_COUNT(i.phash${word} ^ CAST(? AS UNSIGNED))`;
const similarImagesMysql = similarImagesSql(selectImageColumns, wordDistanceMysql, 'BIT_COUNT(c.hash_fold ^ CAST(? AS UNSIGNED))');
const insertIndexRowsSql = `INSERT INTO image_hash_chunks (${insertIndexRowColumns}) VALUES ?`;
const scanSimilarImagesMysql = scanSimilarImagesSql(selectImageColumns, wordDistanceMysql);
// Rows per multi-row INSERT in a bulk import: large enough to amortise round trips, small enough to
// stay far below max_allowed_packet.
const IMPORT_BATCH_ROWS = 500;

type Row = mysql.RowDataPacket & Record<string, unknown>;

// Multi-row inserts, expanded by mysql2 from an array of rows.
const insertLogsSql = `INSERT INTO moderation_log (${logColumns.join(', ')}) VALUES ?`;
const insertDelayedLogsSql = `INSERT INTO moderation_log (${logColumns.join(', ')}, created_at) VALUES ?`;

// Errors that mean the server cannot be reached or is not serving right now. mysql2 marks every
// error that ends a connection `fatal`; among those, bad credentials, an unknown database and TLS
// trouble are configuration faults that waiting does not cure.
const unavailableCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'ER_SERVER_SHUTDOWN',
  'ER_CON_COUNT_ERROR',
  'ER_CONNECTION_KILLED',
  'ER_OPTION_PREVENTS_STATEMENT',
  'ER_CLIENT_INTERACTION_TIMEOUT',
]);
const configurationCodes = new Set([
  'ER_ACCESS_DENIED_ERROR',
  'ER_ACCESS_DENIED_NO_PASSWORD_ERROR',
  'ER_DBACCESS_DENIED_ERROR',
  'ER_BAD_DB_ERROR',
  'HANDSHAKE_NO_SSL_SUPPORT',
  'HANDSHAKE_SSL_ERROR',
]);

export function isMysqlUnavailableError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code, fatal } = error as { code?: unknown; fatal?: unknown };
  if (typeof code === 'string' && configurationCodes.has(code)) return false;
  return (typeof code === 'string' && unavailableCodes.has(code)) || fatal === true;
}

// MySQL commits each DDL statement on its own, so a crash can interrupt a migration file half-way.
// Running the file again must then step over what was already done: these errors mean exactly that.
const alreadyAppliedErrors = new Set(['ER_TABLE_EXISTS_ERROR', 'ER_DUP_FIELDNAME', 'ER_DUP_KEYNAME', 'ER_FK_DUP_NAME']);

async function runMigrationStatement(connection: mysql.PoolConnection, statement: string): Promise<void> {
  try {
    await connection.query(statement);
  } catch (error) {
    if (!alreadyAppliedErrors.has((error as { code?: string }).code ?? '')) throw error;
  }
}

export class MysqlStore implements Store {
  readonly dialect = 'mysql' as const;
  private readonly pool: mysql.Pool;
  private readonly poolSize: number;

  constructor(url: string, options: { poolSize: number; logger?: Logger | undefined }) {
    const logger = options.logger ?? createLogger({ level: 'info', format: 'json' });
    this.poolSize = options.poolSize;
    this.pool = mysql.createPool({
      uri: url.replace(/^mariadb:/, 'mysql:'),
      connectionLimit: options.poolSize,
      waitForConnections: true,
      queueLimit: 0,
      timezone: 'Z',
      dateStrings: true,
      enableKeepAlive: true,
      connectTimeout: 10_000,
    });
    // created_at defaults use the session time zone; the schema promises UTC.
    this.pool.on('connection', (connection) => {
      // mysql2 emits this event with the callback-style connection, whatever the promise typings say.
      // A callback, so a failure is reported here instead of as an unhandled 'error' event.
      (connection as unknown as CallbackConnection).query("SET time_zone = '+00:00'", (error: QueryError | null) => {
        if (error) logger.error({ error: error.message }, 'could not set the MySQL session time zone to UTC');
      });
    });
  }

  async migrate(): Promise<void> {
    const connection = await this.pool.getConnection();
    try {
      const [[lock]] = await connection.query<Row[]>(`SELECT GET_LOCK(${MIGRATION_LOCK}, 120) AS acquired`);
      if (lock?.acquired !== 1) throw new Error('Timed out waiting for another instance to finish migrating the database.');
      try {
        await connection.query(
          'CREATE TABLE IF NOT EXISTS schema_migrations (version INT UNSIGNED NOT NULL PRIMARY KEY, name VARCHAR(255) NOT NULL, checksum CHAR(64) NOT NULL, applied_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3))',
        );
        const [applied] = await connection.query<Row[]>('SELECT version, checksum FROM schema_migrations');
        const pending = pendingMigrations(
          readMigrations('mysql'),
          applied.map((row) => ({ version: Number(row.version), checksum: String(row.checksum) })),
        );
        for (const migration of pending) {
          for (const statement of splitStatements(migration.sql)) await runMigrationStatement(connection, statement);
          await connection.query('INSERT INTO schema_migrations (version, name, checksum) VALUES (?, ?, ?)', [
            migration.version,
            migration.name,
            migration.checksum,
          ]);
        }
      } finally {
        await connection.query(`SELECT RELEASE_LOCK(${MIGRATION_LOCK})`);
      }
    } finally {
      connection.release();
    }
  }

  async findImageBySha256(sha256: string): Promise<JudgedImage | null> {
    const [rows] = await this.pool.execute<Row[]>(`SELECT ${selectImageColumns} FROM images i WHERE i.sha256 = ?`, [sha256]);
    return rows[0] ? toJudgedImage(rows[0]) : null;
  }

  async findSimilarImages(hash: PerceptualHash, maxDistance: number, limit: number, provider: string): Promise<SimilarImage[]> {
    const [rows] = await this.pool.query<Row[]>(similarImagesMysql, similarImagesParams(hash, toDecimal, provider, maxDistance, limit));
    return rows.map((row) => ({ ...toJudgedImage(row), distance: Number(row.distance) }));
  }

  async saveJudgedImage(image: NewJudgedImage): Promise<{ id: number; created: boolean }> {
    const connection = await this.pool.getConnection();
    try {
      await connection.beginTransaction();
      const [result] = await connection.query<mysql.ResultSetHeader>(insertImageSql, insertImageParams(image, toDecimal));
      const id = result.insertId;
      const rows = indexRows(image, id, toDecimal);
      if (rows.length > 0) await connection.query(insertIndexRowsSql, [rows]);
      await connection.commit();
      return { id, created: true };
    } catch (error) {
      await connection.rollback().catch(() => undefined);
      // The bytes are stored already: the same provider's earlier judgement wins, another provider's is
      // replaced. (A plain INSERT with this catch, because mysql2's FOUND_ROWS flag makes ON DUPLICATE
      // KEY report a no-op as one affected row, and INSERT IGNORE would also silence unrelated errors.)
      if ((error as { code?: string }).code !== 'ER_DUP_ENTRY') throw error;
      await connection.query(replaceJudgementSql, replaceJudgementParams(image));
      const [rows] = await connection.query<Row[]>('SELECT id FROM images WHERE sha256 = ?', [image.sha256]);
      return { id: Number(rows[0]?.id), created: false };
    } finally {
      connection.release();
    }
  }

  async importJudgedImages(images: NewJudgedImage[]): Promise<number> {
    const connection = await this.pool.getConnection();
    let inserted = 0;
    try {
      await connection.beginTransaction();
      for (let start = 0; start < images.length; start += IMPORT_BATCH_ROWS) {
        const batch = images.slice(start, start + IMPORT_BATCH_ROWS);
        const [present] = await connection.query<Row[]>('SELECT sha256 FROM images WHERE sha256 IN (?)', [batch.map((image) => image.sha256)]);
        const stored = new Set(present.map((row) => String(row.sha256)));
        const fresh = [...new Map(batch.filter((image) => !stored.has(image.sha256)).map((image) => [image.sha256, image])).values()];
        if (fresh.length === 0) continue;
        await connection.query(`INSERT INTO images (${insertImageColumns}) VALUES ?`, [fresh.map((image) => insertImageParams(image, toDecimal))]);
        // Ids read back by sha256: consecutive AUTO_INCREMENT values are not promised by every engine.
        const [ids] = await connection.query<Row[]>('SELECT id, sha256 FROM images WHERE sha256 IN (?)', [fresh.map((image) => image.sha256)]);
        const idOf = new Map(ids.map((row) => [String(row.sha256), Number(row.id)]));
        const rows = fresh.flatMap((image) => indexRows(image, idOf.get(image.sha256) as number, toDecimal));
        if (rows.length > 0) await connection.query(insertIndexRowsSql, [rows]);
        inserted += fresh.length;
      }
      await connection.commit();
      return inserted;
    } catch (error) {
      await connection.rollback().catch(() => undefined);
      throw error;
    } finally {
      connection.release();
    }
  }

  async scanSimilarImages(hash: PerceptualHash, maxDistance: number, limit: number, provider: string): Promise<SimilarImage[]> {
    const [rows] = await this.pool.query<Row[]>(scanSimilarImagesMysql, scanSimilarImagesParams(hash, toDecimal, provider, maxDistance, limit));
    return rows.map((row) => ({ ...toJudgedImage(row), distance: Number(row.distance) }));
  }

  async findVideoBySha256(sha256: string): Promise<JudgedVideo | null> {
    const [rows] = await this.pool.execute<Row[]>(selectVideoBySha256Sql, [sha256]);
    return rows[0] ? toJudgedVideo(rows[0]) : null;
  }

  async saveJudgedVideo(video: NewJudgedVideo): Promise<{ id: number; created: boolean }> {
    const connection = await this.pool.getConnection();
    try {
      await connection.beginTransaction();
      let id: number;
      let created = true;
      try {
        // A plain INSERT: SELECT ... FOR UPDATE on a missing key takes gap locks that deadlock
        // concurrent inserts of different videos.
        const [result] = await connection.query<mysql.ResultSetHeader>(insertVideoSql, insertVideoParams(video));
        id = result.insertId;
      } catch (error) {
        if ((error as { code?: string }).code !== 'ER_DUP_ENTRY') throw error;
        created = false;
        const [rows] = await connection.query<Row[]>('SELECT id, provider FROM videos WHERE sha256 = ?', [video.sha256]);
        const existing = rows[0] as Row;
        id = Number(existing.id);
        if (existing.provider === video.provider) {
          await connection.commit();
          return { id, created: false };
        }
        await connection.query(replaceVideoJudgementSql, replaceVideoJudgementParams(video, id));
        await connection.query('DELETE FROM video_frames WHERE video_id = ?', [id]);
      }
      if (video.frames.length > 0) {
        await connection.query('INSERT INTO video_frames (video_id, frame_index, timestamp_ms, image_id) VALUES ?', [
          video.frames.map((frame, index) => [id, index, Math.round(frame.timestampMs), frame.imageId]),
        ]);
      }
      await connection.commit();
      return { id, created };
    } catch (error) {
      await connection.rollback().catch(() => undefined);
      throw error;
    } finally {
      connection.release();
    }
  }

  async findVideosByFrameImages(imageIds: number[], provider: string): Promise<VideoFrameMatch[]> {
    if (imageIds.length === 0) return [];
    const [rows] = await this.pool.query<Row[]>(videosByFrameImagesSql(imageIds.length), [provider, ...imageIds]);
    return rows.map((row) => ({ ...toJudgedVideo(row), matchedFrames: Number(row.matched_frames) }));
  }

  async findJudgedText(digest: string, provider: string): Promise<JudgedText | null> {
    const [rows] = await this.pool.execute<Row[]>(selectTextSql, [digest, provider]);
    return rows[0] ? toJudgedText(rows[0]) : null;
  }

  async saveJudgedText(text: NewJudgedText): Promise<void> {
    try {
      await this.pool.execute(insertTextSql, insertTextParams(text));
    } catch (error) {
      // The same text judged twice at once: the first row wins, as on SQLite.
      if ((error as { code?: string }).code !== 'ER_DUP_ENTRY') throw error;
    }
  }

  private readonly auditRows = new GroupWriter<ModerationLogEntry>(
    async (entries) => {
      await this.pool.query(insertLogsSql, [entries.map(logParams)]);
    },
    isMysqlUnavailableError,
  );

  async appendLog(entry: ModerationLogEntry): Promise<void> {
    await this.auditRows.write(entry);
  }

  async appendLogsIfAbsent(entries: DelayedLogEntry[]): Promise<number> {
    const unique = [...new Map(entries.map((entry) => [entry.requestId, entry])).values()];
    if (unique.length === 0) return 0;
    const [present] = await this.pool.query<Row[]>('SELECT request_id FROM moderation_log WHERE request_id IN (?)', [unique.map((entry) => entry.requestId)]);
    const stored = new Set(present.map((row) => String(row.request_id)));
    const fresh = unique.filter((entry) => !stored.has(entry.requestId));
    if (fresh.length === 0) return 0;
    try {
      // One statement: InnoDB stores all of its rows or none.
      await this.pool.query(insertDelayedLogsSql, [fresh.map((entry) => [...logParams(entry), entry.createdAt])]);
      return fresh.length;
    } catch (error) {
      if ((error as { code?: string }).code !== 'ER_DUP_ENTRY') throw error;
    }
    // Someone stored one of them between the SELECT and the INSERT: row by row, skipping those.
    let inserted = 0;
    for (const entry of fresh) {
      try {
        await this.pool.execute(insertDelayedLogSql, [...logParams(entry), entry.createdAt]);
        inserted++;
      } catch (error) {
        if ((error as { code?: string }).code !== 'ER_DUP_ENTRY') throw error;
      }
    }
    return inserted;
  }

  async findLogByRequestId(requestId: string): Promise<ModerationLogRow | null> {
    const [rows] = await this.pool.execute<Row[]>('SELECT * FROM moderation_log WHERE request_id = ?', [requestId]);
    return rows[0] ? toLogRow(rows[0]) : null;
  }

  async dashboardSummary(range: DayRange, options: { topUsers: number }): Promise<DashboardSummary> {
    const days = [range.firstDay, range.lastDay];
    const read = async (sql: string, params: unknown[]) => (await this.pool.query<Row[]>(sql, params))[0];
    const [decisions, cache, latency, providerErrors, flaggedUsers] = await Promise.all([
      read(dashboardSql.decisions, days),
      read(dashboardSql.cache, days),
      read(dashboardSql.latency, days),
      read(dashboardSql.providerErrors, days),
      read(dashboardSql.flaggedUsers, [...days, options.topUsers]),
    ]);
    return toDashboardSummary({ decisions, cache, latency, providerErrors, flaggedUsers });
  }

  async tableSizes(): Promise<Record<string, number>> {
    const [rows] = await this.pool.query<Row[]>(
      'SELECT table_name AS name, data_length + index_length AS bytes FROM information_schema.tables WHERE table_schema = DATABASE() AND table_type = \'BASE TABLE\'',
    );
    return Object.fromEntries(rows.map((row) => [String(row.name), Number(row.bytes)]));
  }

  async ping(): Promise<void> {
    await this.pool.query('SELECT 1');
  }

  isUnavailableError(error: unknown): boolean {
    return isMysqlUnavailableError(error);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  poolStats(): PoolStats {
    // mysql2 keeps these counts in its pool's private queues and offers no public accessor; read
    // defensively, so a mysql2 release that renames them yields zeros instead of a crash.
    const core = (this.pool as unknown as { pool?: Record<string, { length?: unknown } | undefined> }).pool ?? {};
    const count = (name: string) => (typeof core[name]?.length === 'number' ? (core[name].length as number) : 0);
    const open = count('_allConnections');
    const idle = count('_freeConnections');
    return { maxConnections: this.poolSize, open, idle, waiting: count('_connectionQueue') };
  }
}
