import { createReadStream } from 'node:fs';
import { access, constants, mkdir, open, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { createInterface } from 'node:readline';
import type { DelayedLogEntry, ModerationLogEntry } from './store.js';

/**
 * The local copy of the moderation_log rows the database could not take: one append-only file of
 * JSON lines (AUDIT_SPOOL_PATH), each the row as the columns would hold it plus its created_at.
 *
 * - A row is on disk (written and fsynced) before its append resolves, so a request is never
 *   answered on the strength of a row a crash could still take away. Appends arriving together
 *   share one write and one fsync.
 * - Replay first renames the file to `<path>.replaying`, so new rows start a fresh file while the
 *   old one is read; the renamed file is deleted only after every row is in the database. A crash
 *   in between replays it again, which is harmless: rows already stored are skipped by request_id.
 * - A line that cannot be read (the torn end of a write cut off by a crash) or that the database
 *   refuses is moved to `<path>.corrupt` for a human to look at, never silently dropped.
 * - The spool and its `.replaying` file together never exceed `maxBytes`; past that an append fails.
 */

export class AuditSpoolUnavailableError extends Error {
  override name = 'AuditSpoolUnavailableError';
}

/** How many rows (lines) and bytes wait to be replayed. */
export type SpoolBacklog = { rows: number; bytes: number };

// The spool speaks in moderation_log's column names, so a line reads like the row it will become.
const columnOf = {
  requestId: 'request_id',
  batchId: 'batch_id',
  userUuid: 'user_uuid',
  client: 'client',
  contentType: 'content_type',
  contentIdentifier: 'content_identifier',
  contentText: 'content_text',
  sha256: 'sha256',
  phash: 'phash',
  decision: 'decision',
  reason: 'reason',
  source: 'source',
  provider: 'provider',
  matchedItemId: 'matched_item_id',
  matchedDistance: 'matched_distance',
  httpStatus: 'http_status',
  latencyMs: 'latency_ms',
  error: 'error',
  rawResponse: 'raw_response',
} as const satisfies Record<keyof ModerationLogEntry, string>;

const timestampPattern = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}$/;
const contentTypes = new Set(['image', 'video', 'text']);

/** `YYYY-MM-DD HH:MM:SS.mmm` in UTC: moderation_log.created_at as both engines store it. */
export function databaseTimestamp(date: Date): string {
  return date.toISOString().replace('T', ' ').replace('Z', '');
}

/** `extra` fields (a note on why a row was set aside) go after the columns. */
export function toSpoolLine(entry: ModerationLogEntry, createdAt: string, extra: Record<string, unknown> = {}): string {
  const record: Record<string, unknown> = { request_id: entry.requestId, created_at: createdAt };
  for (const [key, column] of Object.entries(columnOf)) {
    const value = entry[key as keyof ModerationLogEntry];
    if (value !== undefined) record[column] = value;
  }
  return JSON.stringify({ ...record, ...extra });
}

/** The row of one spool line, or null when the line is not one (torn, edited, foreign). */
export function fromSpoolLine(line: string): DelayedLogEntry | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return null;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return null;
  const record = parsed as Record<string, unknown>;
  if (typeof record.request_id !== 'string' || record.request_id === '') return null;
  if (typeof record.content_type !== 'string' || !contentTypes.has(record.content_type)) return null;
  if (!Number.isInteger(record.http_status) || typeof record.latency_ms !== 'number') return null;
  if (typeof record.created_at !== 'string' || !timestampPattern.test(record.created_at)) return null;
  const entry: Record<string, unknown> = { createdAt: record.created_at };
  for (const [key, column] of Object.entries(columnOf)) {
    if (column in record) entry[key] = record[column];
  }
  return entry as DelayedLogEntry;
}

async function sizeOf(path: string): Promise<number | null> {
  try {
    return (await stat(path)).size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

/** Lines in a file, a last line without its newline included. */
async function countLines(path: string): Promise<SpoolBacklog> {
  const bytes = await sizeOf(path);
  if (!bytes) return { rows: 0, bytes: 0 };
  let rows = 0;
  let last = 0x0a;
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
    for (const byte of chunk) if (byte === 0x0a) rows++;
    last = chunk[chunk.length - 1] ?? last;
  }
  return { rows: last === 0x0a ? rows : rows + 1, bytes };
}

/** Makes a created, renamed or deleted name in `folder` survive a crash. */
async function syncFolder(folder: string): Promise<void> {
  const handle = await open(folder, 'r');
  try {
    await handle.sync();
  } catch (error) {
    // Some file systems cannot fsync a folder; their names are as durable as they get.
    if ((error as NodeJS.ErrnoException).code !== 'EINVAL') throw error;
  } finally {
    await handle.close();
  }
}

type Waiting = { line: Buffer; resolve: () => void; reject: (error: Error) => void };

export class AuditSpool {
  readonly replayingPath: string;
  readonly corruptPath: string;
  private handle: FileHandle | null = null;
  private current: SpoolBacklog = { rows: 0, bytes: 0 };
  private replaying: SpoolBacklog = { rows: 0, bytes: 0 };
  private readonly waiting: Waiting[] = [];
  private writing: Promise<void> | null = null;
  private lock: Promise<unknown> = Promise.resolve();
  private closed = false;

  private constructor(
    readonly path: string,
    /** 0 turns the spool off: every append fails. Rows left from before are still replayed. */
    readonly maxBytes: number,
  ) {
    this.replayingPath = `${path}.replaying`;
    this.corruptPath = `${path}.corrupt`;
  }

  /** Checks that the folder is writable (when the spool is on) and counts the rows waiting from before. */
  static async open(options: { path: string; maxBytes: number }): Promise<AuditSpool> {
    const spool = new AuditSpool(options.path, options.maxBytes);
    if (options.maxBytes > 0) {
      await mkdir(dirname(options.path), { recursive: true });
      await access(dirname(options.path), constants.W_OK);
    }
    spool.current = await countLines(options.path);
    spool.replaying = await countLines(spool.replayingPath);
    return spool;
  }

  backlog(): SpoolBacklog {
    return { rows: this.current.rows + this.replaying.rows, bytes: this.current.bytes + this.replaying.bytes };
  }

  /** One task at a time: writing, and moving the file aside for replay. */
  private exclusive<T>(task: () => Promise<T>): Promise<T> {
    const run = this.lock.then(task, task);
    this.lock = run.catch(() => undefined);
    return run;
  }

  /** Resolves once the row is on disk; rejects when the spool is off, full or cannot be written. */
  append(entry: ModerationLogEntry, createdAt: Date = new Date()): Promise<void> {
    if (this.maxBytes === 0) return Promise.reject(new AuditSpoolUnavailableError('The audit spool is off (AUDIT_SPOOL_MAX_BYTES=0).'));
    if (this.closed) return Promise.reject(new AuditSpoolUnavailableError('The audit spool is closed.'));
    const line = Buffer.from(`${toSpoolLine(entry, databaseTimestamp(createdAt))}\n`);
    return new Promise((resolve, reject) => {
      this.waiting.push({ line, resolve, reject });
      this.startWriting();
    });
  }

  private startWriting(): void {
    if (this.writing) return;
    this.writing = this.exclusive(() => this.writeWaiting()).finally(() => {
      this.writing = null;
      if (this.waiting.length > 0) this.startWriting();
    });
  }

  /** Every line waiting so far in one write and one fsync, then each append is answered. */
  private async writeWaiting(): Promise<void> {
    const batch = this.waiting.splice(0);
    const accepted: Waiting[] = [];
    let bytes = this.backlog().bytes;
    for (const item of batch) {
      if (bytes + item.line.length > this.maxBytes) {
        item.reject(new AuditSpoolUnavailableError(`The audit spool is full (AUDIT_SPOOL_MAX_BYTES=${this.maxBytes}).`));
        continue;
      }
      bytes += item.line.length;
      accepted.push(item);
    }
    if (accepted.length === 0) return;
    const data = Buffer.concat(accepted.map((item) => item.line));
    try {
      const handle = await this.appendHandle();
      await handle.appendFile(data);
      await handle.datasync();
      this.current = { rows: this.current.rows + accepted.length, bytes: this.current.bytes + data.length };
      for (const item of accepted) item.resolve();
    } catch (error) {
      // Part of the data may have reached the file: reopening puts the next row on a fresh line.
      await this.closeHandle().catch(() => undefined);
      for (const item of accepted) item.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  private async appendHandle(): Promise<FileHandle> {
    if (this.handle) return this.handle;
    const handle = await open(this.path, 'a+');
    try {
      const { size } = await handle.stat();
      if (size > 0) {
        const last = Buffer.alloc(1);
        await handle.read(last, 0, 1, size - 1);
        // A crash in the middle of a write left a torn line; the next row must not be glued to it.
        if (last[0] !== 0x0a) {
          await handle.appendFile('\n');
          await handle.datasync();
        }
      } else {
        await syncFolder(dirname(this.path));
      }
      this.current = { rows: this.current.rows, bytes: (await handle.stat()).size };
    } catch (error) {
      await handle.close();
      throw error;
    }
    this.handle = handle;
    return handle;
  }

  private async closeHandle(): Promise<void> {
    const handle = this.handle;
    this.handle = null;
    await handle?.close();
  }

  /**
   * Sets the rows waiting aside for replay: a `.replaying` file left by an interrupted replay, else
   * the spool itself, renamed. False when there is nothing to replay.
   */
  takeForReplay(): Promise<boolean> {
    return this.exclusive(async () => {
      if ((await sizeOf(this.replayingPath)) !== null) return true;
      if (!(await sizeOf(this.path))) return false;
      await this.closeHandle();
      await rename(this.path, this.replayingPath);
      await syncFolder(dirname(this.path));
      this.replaying = this.current;
      this.current = { rows: 0, bytes: 0 };
      return true;
    });
  }

  /** The rows of the `.replaying` file in batches, with the lines that are not rows. */
  async *replayBatches(size: number): AsyncGenerator<{ entries: DelayedLogEntry[]; unreadable: string[] }> {
    const input = createReadStream(this.replayingPath);
    const lines = createInterface({ input, crlfDelay: Infinity });
    try {
      let entries: DelayedLogEntry[] = [];
      let unreadable: string[] = [];
      for await (const line of lines) {
        if (line.trim() === '') continue;
        const entry = fromSpoolLine(line);
        if (entry) entries.push(entry);
        else unreadable.push(line);
        if (entries.length + unreadable.length >= size) {
          yield { entries, unreadable };
          entries = [];
          unreadable = [];
        }
      }
      if (entries.length + unreadable.length > 0) yield { entries, unreadable };
    } finally {
      lines.close();
      input.destroy();
    }
  }

  /** Keeps lines that will never become rows in `<path>.corrupt`, on disk before replay goes on. */
  async setAside(lines: string[]): Promise<void> {
    if (lines.length === 0) return;
    const handle = await open(this.corruptPath, 'a');
    try {
      await handle.appendFile(lines.map((line) => `${line}\n`).join(''));
      await handle.datasync();
    } finally {
      await handle.close();
    }
  }

  /** Every row of the `.replaying` file is in the database: delete it. */
  finishReplay(): Promise<void> {
    return this.exclusive(async () => {
      try {
        await unlink(this.replayingPath);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }
      await syncFolder(dirname(this.path));
      this.replaying = { rows: 0, bytes: 0 };
    });
  }

  /** Waits for the appends under way, then closes the file. */
  async close(): Promise<void> {
    this.closed = true;
    while (this.writing) await this.writing;
    await this.exclusive(() => this.closeHandle());
  }
}
