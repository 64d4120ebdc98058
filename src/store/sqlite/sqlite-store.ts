import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { popcount64, type PerceptualHash } from '../../dedupe/perceptual-hash.js';
import { GroupWriter } from '../group-writer.js';
import { pendingMigrations, readMigrations } from '../migrate.js';
import {
  dashboardSql,
  indexRows,
  insertIndexRowColumns,
  insertImageSql,
  insertImageParams,
  imageColumns,
  insertTextParams,
  insertTextSql,
  insertDelayedLogSql,
  insertLogSql,
  logParams,
  insertVideoFrameSql,
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
  SimilarImage,
  Store,
  VideoFrameMatch,
} from '../store.js';

/**
 * The embedded adapter (better-sqlite3, the only module that imports it). One file, WAL journal so
 * readers never wait for the writer. better-sqlite3 is synchronous; every call here is short.
 */

// SQLite integers are signed 64-bit: a word is stored as its two's-complement value.
const toSigned = (word: bigint) => BigInt.asIntN(64, word);
// Stored bytes keep their row: the callers decide what a second judgement of them means.
const insertImageIfNewSql = `${insertImageSql} ON CONFLICT (sha256) DO NOTHING`;
const wordDistanceSqlite = (word: number) => `popcount_xor(i.phash${word}, ?)`;
const similarImagesSqlite = similarImagesSql(imageColumns, wordDistanceSqlite, 'popcount_xor(c.hash_fold, ?)');
const scanSimilarImagesSqlite = scanSimilarImagesSql(imageColumns, wordDistanceSqlite);

// Another instance may be applying the migrations: worth a longer wait than a request's write.
const MIGRATION_BUSY_TIMEOUT_MS = 15_000;
// The probe takes the write lock and lets go at once; it waits only briefly, since better-sqlite3
// waits on the event loop.
const PING_BUSY_TIMEOUT_MS = 100;

/**
 * Errors that mean the file cannot be written right now: locked by another process past the busy
 * timeout, read-only, disk full, I/O failing. A statement fault (constraint, syntax) is none of these.
 */
export function isSqliteUnavailableError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^SQLITE_(BUSY|READONLY|FULL|IOERR|CANTOPEN|PROTOCOL|NOLFS)/.test(code);
}

const isReadOnlyError = (error: unknown) => /^SQLITE_READONLY/.test(String((error as { code?: unknown } | null)?.code));

function openDatabase(path: string, busyTimeoutMs: number): Database.Database {
  const db = new Database(path, { timeout: busyTimeoutMs });
  try {
    db.pragma('journal_mode = WAL');
  } catch (error) {
    // A read-only file keeps its journal mode; WAL is set once it can be written (see ensureWritable).
    if (!isReadOnlyError(error)) {
      db.close();
      throw error;
    }
  }
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.function('popcount_xor', { deterministic: true, safeIntegers: true }, (stored: unknown, query: unknown) =>
    stored === null ? 256 : popcount64((stored as bigint) ^ (query as bigint)),
  );
  return db;
}

export class SqliteStore implements Store {
  readonly dialect = 'sqlite' as const;
  private db: Database.Database;
  private readonly statements = new Map<string, Database.Statement>();
  private readonly busyTimeoutMs: number;

  /**
   * `busyTimeoutMs`: how long a write waits for another process holding the write lock before it
   * fails with SQLITE_BUSY. better-sqlite3 waits synchronously, so keep it short.
   *
   * A file that cannot be opened at all throws here. A read-only file opens (SQLite falls back to
   * reading) and counts as unavailable until it can be written: see ensureWritable.
   */
  constructor(
    private readonly path: string,
    options: { busyTimeoutMs?: number | undefined } = {},
  ) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.busyTimeoutMs = options.busyTimeoutMs ?? 5_000;
    this.db = openDatabase(path, this.busyTimeoutMs);
  }

  /**
   * Takes the write lock and makes a write the transaction then drops: fails with SQLITE_BUSY while
   * another process holds the lock and with SQLITE_READONLY on a read-only file, writing nothing.
   */
  private probeWrite(busyTimeoutMs: number): void {
    this.db.pragma(`busy_timeout = ${busyTimeoutMs}`);
    try {
      this.db.exec('BEGIN IMMEDIATE');
      const version = this.db.pragma('user_version', { simple: true }) as number;
      this.db.pragma(`user_version = ${version}`);
    } finally {
      if (this.db.inTransaction) this.db.exec('ROLLBACK');
      this.db.pragma(`busy_timeout = ${this.busyTimeoutMs}`);
    }
  }

  /**
   * SQLite opens a file it may not write read-only and stays so: once the file (and its -wal and
   * -shm files) are writable again, only a new connection can write. Reopens when the probe finds
   * the connection read-only.
   */
  private ensureWritable(busyTimeoutMs: number): void {
    try {
      this.probeWrite(busyTimeoutMs);
      return;
    } catch (error) {
      if (!isReadOnlyError(error) || this.path === ':memory:' || !this.db.open) throw error;
    }
    const fresh = openDatabase(this.path, this.busyTimeoutMs);
    this.db.close();
    this.db = fresh;
    this.statements.clear();
    this.probeWrite(busyTimeoutMs);
    this.db.pragma('journal_mode = WAL');
  }

  /** Prepared once per SQL text: preparing is the expensive part of a small query. */
  private statement(sql: string): Database.Statement {
    let prepared = this.statements.get(sql);
    if (!prepared) {
      prepared = this.db.prepare(sql);
      this.statements.set(sql, prepared);
    }
    return prepared;
  }

  async migrate(): Promise<void> {
    const all = readMigrations('sqlite');
    // With nothing to apply a read-only file would pass; the probe makes it fail as an outage.
    this.ensureWritable(Math.max(MIGRATION_BUSY_TIMEOUT_MS, this.busyTimeoutMs));
    // IMMEDIATE takes the write lock first, so a second instance waits here and then finds nothing to do.
    this.db.pragma(`busy_timeout = ${Math.max(MIGRATION_BUSY_TIMEOUT_MS, this.busyTimeoutMs)}`);
    try {
      this.applyMigrations(all);
    } finally {
      this.db.pragma(`busy_timeout = ${this.busyTimeoutMs}`);
    }
  }

  private applyMigrations(all: ReturnType<typeof readMigrations>): void {
    this.db
      .transaction(() => {
        this.db.exec(
          "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER NOT NULL PRIMARY KEY, name TEXT NOT NULL, checksum TEXT NOT NULL, applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now')))",
        );
        const applied = this.db.prepare('SELECT version, checksum FROM schema_migrations').all() as { version: number; checksum: string }[];
        for (const migration of pendingMigrations(all, applied)) {
          this.db.exec(migration.sql);
          this.db
            .prepare('INSERT INTO schema_migrations (version, name, checksum) VALUES (?, ?, ?)')
            .run(migration.version, migration.name, migration.checksum);
        }
      })
      .immediate();
  }

  async findImageBySha256(sha256: string): Promise<JudgedImage | null> {
    const row = this.statement(`SELECT ${imageColumns} FROM images i WHERE i.sha256 = ?`).safeIntegers(true).get(sha256);
    return row ? toJudgedImage(row as Record<string, unknown>) : null;
  }

  async findSimilarImages(hash: PerceptualHash, maxDistance: number, limit: number, provider: string): Promise<SimilarImage[]> {
    const statement = this.statement(similarImagesSqlite).safeIntegers(true);
    const rows = statement.all(...similarImagesParams(hash, toSigned, provider, maxDistance, limit)) as Record<string, unknown>[];
    return rows.map((row) => ({ ...toJudgedImage(row), distance: Number(row.distance) }));
  }

  async saveJudgedImage(image: NewJudgedImage): Promise<{ id: number; created: boolean }> {
    return this.db.transaction(() => this.insertImage(image)).immediate();
  }

  async importJudgedImages(images: NewJudgedImage[]): Promise<number> {
    const insertNew = this.statement(insertImageIfNewSql);
    return this.db
      .transaction(() => {
        let inserted = 0;
        for (const image of images) {
          const result = insertNew.run(...insertImageParams(image, toSigned));
          if (result.changes === 0) continue;
          this.insertChunks(image, Number(result.lastInsertRowid));
          inserted++;
        }
        return inserted;
      })
      .immediate();
  }

  async scanSimilarImages(hash: PerceptualHash, maxDistance: number, limit: number, provider: string): Promise<SimilarImage[]> {
    const statement = this.statement(scanSimilarImagesSqlite).safeIntegers(true);
    const rows = statement.all(...scanSimilarImagesParams(hash, toSigned, provider, maxDistance, limit)) as Record<string, unknown>[];
    return rows.map((row) => ({ ...toJudgedImage(row), distance: Number(row.distance) }));
  }

  private insertChunks(image: NewJudgedImage, id: number): void {
    const insertRow = this.statement(`INSERT INTO image_hash_chunks (${insertIndexRowColumns}) VALUES (?, ?, ?, ?)`);
    for (const row of indexRows(image, id, toSigned)) insertRow.run(...row);
  }

  /** Inside a transaction: first judgement of the same provider wins, another provider's is replaced. */
  private insertImage(image: NewJudgedImage): { id: number; created: boolean } {
    const result = this.statement(insertImageIfNewSql).run(...insertImageParams(image, toSigned));
    if (result.changes === 0) {
      this.statement(replaceJudgementSql).run(...replaceJudgementParams(image));
      const existing = this.statement('SELECT id FROM images WHERE sha256 = ?').get(image.sha256) as { id: number };
      return { id: Number(existing.id), created: false };
    }
    const id = Number(result.lastInsertRowid);
    this.insertChunks(image, id);
    return { id, created: true };
  }

  async findVideoBySha256(sha256: string): Promise<JudgedVideo | null> {
    const row = this.statement(selectVideoBySha256Sql).get(sha256);
    return row ? toJudgedVideo(row as Record<string, unknown>) : null;
  }

  async saveJudgedVideo(video: NewJudgedVideo): Promise<{ id: number; created: boolean }> {
    const save = this.db.transaction(() => {
      const existing = this.statement('SELECT id, provider FROM videos WHERE sha256 = ?').get(video.sha256) as { id: number; provider: string } | undefined;
      if (existing && existing.provider === video.provider) return { id: Number(existing.id), created: false };
      let id: number;
      if (existing) {
        id = Number(existing.id);
        this.statement(replaceVideoJudgementSql).run(...replaceVideoJudgementParams(video, id));
        this.statement('DELETE FROM video_frames WHERE video_id = ?').run(id);
      } else {
        id = Number(this.statement(insertVideoSql).run(...insertVideoParams(video)).lastInsertRowid);
      }
      const insertFrame = this.statement(insertVideoFrameSql);
      video.frames.forEach((frame, index) => insertFrame.run(id, index, Math.round(frame.timestampMs), frame.imageId));
      return { id, created: !existing };
    });
    return save.immediate();
  }

  async findVideosByFrameImages(imageIds: number[], provider: string): Promise<VideoFrameMatch[]> {
    if (imageIds.length === 0) return [];
    const rows = this.db.prepare(videosByFrameImagesSql(imageIds.length)).all(provider, ...imageIds) as Record<string, unknown>[];
    return rows.map((row) => ({ ...toJudgedVideo(row), matchedFrames: Number(row.matched_frames) }));
  }

  async findJudgedText(digest: string, provider: string): Promise<JudgedText | null> {
    const row = this.statement(selectTextSql).get(digest, provider);
    return row ? toJudgedText(row as Record<string, unknown>) : null;
  }

  async saveJudgedText(text: NewJudgedText): Promise<void> {
    this.statement(`${insertTextSql} ON CONFLICT (digest, provider) DO NOTHING`).run(...insertTextParams(text));
  }

  private readonly auditRows = new GroupWriter<ModerationLogEntry>(async (entries) => {
    const insert = this.statement(insertLogSql);
    this.db.transaction(() => {
      for (const entry of entries) insert.run(...logParams(entry));
    })();
  }, isSqliteUnavailableError);

  async appendLog(entry: ModerationLogEntry): Promise<void> {
    await this.auditRows.write(entry);
  }

  async appendLogsIfAbsent(entries: DelayedLogEntry[]): Promise<number> {
    const insert = this.statement(`${insertDelayedLogSql} ON CONFLICT (request_id) DO NOTHING`);
    return this.db
      .transaction(() => entries.reduce((inserted, entry) => inserted + insert.run(...logParams(entry), entry.createdAt).changes, 0))
      .immediate();
  }

  async findLogByRequestId(requestId: string): Promise<ModerationLogRow | null> {
    const row = this.statement('SELECT * FROM moderation_log WHERE request_id = ?').get(requestId);
    return row ? toLogRow(row as Record<string, unknown>) : null;
  }

  async dashboardSummary(range: DayRange, options: { topUsers: number }): Promise<DashboardSummary> {
    const days = [range.firstDay, range.lastDay];
    const read = (sql: string, params: unknown[]) => this.statement(sql).all(...params) as Record<string, unknown>[];
    // One read transaction, so the five views describe the same moment.
    return this.db.transaction(() =>
      toDashboardSummary({
        decisions: read(dashboardSql.decisions, days),
        cache: read(dashboardSql.cache, days),
        latency: read(dashboardSql.latency, days),
        providerErrors: read(dashboardSql.providerErrors, days),
        flaggedUsers: read(dashboardSql.flaggedUsers, [...days, options.topUsers]),
      }),
    )();
  }

  async tableSizes(): Promise<Record<string, number>> {
    // dbstat lists tables and indexes as separate b-trees; an index counts towards its table.
    const rows = this.db
      .prepare(
        "SELECT m.tbl_name AS name, SUM(s.pgsize) AS bytes FROM dbstat s JOIN sqlite_schema m ON m.name = s.name WHERE m.type IN ('table', 'index') GROUP BY m.tbl_name",
      )
      .all() as { name: string; bytes: number }[];
    return Object.fromEntries(rows.map((row) => [row.name, Number(row.bytes)]));
  }

  async ping(): Promise<void> {
    // Reads go on while another process holds the write lock (WAL) and on a read-only file, so a
    // read would call such a database ready: the probe tries a write instead, and drops it.
    this.ensureWritable(Math.min(PING_BUSY_TIMEOUT_MS, this.busyTimeoutMs));
  }

  isUnavailableError(error: unknown): boolean {
    return isSqliteUnavailableError(error);
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
