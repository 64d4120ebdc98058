import type { Logger } from '../logging.js';
import { toSpoolLine, type AuditSpool } from './audit-spool.js';
import type { ModerationLogEntry, Store } from './store.js';
import { messageOf } from '../errors.js';

/**
 * Where moderation_log rows go: the database, or, when it cannot take them, the local spool, from
 * which they are replayed into the database once it answers again, each request_id exactly once.
 */

export type ReplayOutcome = 'inserted' | 'duplicate' | 'set_aside';

/** Counts for metrics. */
export interface AuditObserver {
  auditRowsSpooled(count: number): void;
  auditRowsReplayed(outcome: ReplayOutcome, count: number): void;
}

/** The row reached neither the database nor the spool. */
export class AuditLogUnwritableError extends Error {
  override name = 'AuditLogUnwritableError';
}

// Rows per insert while replaying: few round trips, statements far below max_allowed_packet.
const REPLAY_BATCH_ROWS = 200;
// A row spooled while the database was up (a statement it refused, a timeout that did not look
// like an outage) has no outage end to wait for: look again this often.
const REPLAY_INTERVAL_MS = 30_000;


export class AuditLog {
  private replaying: Promise<void> | null = null;
  private interval: NodeJS.Timeout | undefined;
  private closing = false;

  constructor(
    private readonly options: {
      store: Store;
      spool: AuditSpool;
      logger: Logger;
      observer?: AuditObserver | undefined;
      /** Replays are attempted only while this says the database is ready. */
      databaseReady: () => boolean;
    },
  ) {}

  /** Where the row went; throws AuditLogUnwritableError when it went nowhere. */
  async write(entry: ModerationLogEntry): Promise<'database' | 'spool'> {
    const { store, spool, logger, observer } = this.options;
    let databaseError: unknown;
    try {
      await store.appendLog(entry);
      return 'database';
    } catch (error) {
      databaseError = error;
    }
    // An outage is logged once by the store; anything else is worth a line of its own.
    if (!store.isUnavailableError(databaseError)) {
      logger.error({ request_id: entry.requestId, error: messageOf(databaseError) }, 'moderation_log refused a row; it is kept in the audit spool');
    }
    try {
      await spool.append(entry);
    } catch (spoolError) {
      throw new AuditLogUnwritableError(`database: ${messageOf(databaseError)}; audit spool: ${messageOf(spoolError)}`, { cause: spoolError });
    }
    observer?.auditRowsSpooled(1);
    return 'spool';
  }

  /** Replays now and then, for rows spooled while the database was up. */
  startReplaying(): void {
    this.interval = setInterval(() => {
      if (this.options.spool.backlog().rows > 0) void this.replay();
    }, REPLAY_INTERVAL_MS);
    this.interval.unref();
  }

  /** Moves the spooled rows into the database; one replay at a time, later calls join it. */
  replay(): Promise<void> {
    if (!this.replaying) {
      this.replaying = this.replayFiles()
        .catch((error: unknown) => this.options.logger.error({ error: messageOf(error) }, 'Audit spool replay failed; it is tried again later.'))
        .finally(() => {
          this.replaying = null;
        });
    }
    return this.replaying;
  }

  private async replayFiles(): Promise<void> {
    // A file left by an interrupted replay, then the spool, then what was spooled meanwhile.
    for (let round = 0; round < 3; round++) {
      if (this.closing || !this.options.databaseReady()) return;
      if (!(await this.options.spool.takeForReplay())) return;
      if (!(await this.replayFile())) return;
    }
  }

  /** True once the whole `.replaying` file is in the database (and deleted); false when paused. */
  private async replayFile(): Promise<boolean> {
    const { store, spool, logger, observer } = this.options;
    const counts: Record<ReplayOutcome, number> = { inserted: 0, duplicate: 0, set_aside: 0 };
    const count = (outcome: ReplayOutcome, rows: number) => {
      counts[outcome] += rows;
      if (rows > 0) observer?.auditRowsReplayed(outcome, rows);
    };
    for await (const { entries, unreadable } of spool.replayBatches(REPLAY_BATCH_ROWS)) {
      if (this.closing) return false;
      if (unreadable.length > 0) {
        await spool.setAside(unreadable);
        count('set_aside', unreadable.length);
        logger.warn({ lines: unreadable.length, file: spool.corruptPath }, 'Audit spool lines that are not rows (a write cut off by a crash?) were moved aside.');
      }
      if (entries.length === 0) continue;
      try {
        const inserted = await store.appendLogsIfAbsent(entries);
        count('inserted', inserted);
        count('duplicate', entries.length - inserted);
        continue;
      } catch (error) {
        if (store.isUnavailableError(error)) return this.paused(error);
      }
      // The database refused the batch: row by row, so one bad row does not hold back the others.
      for (const entry of entries) {
        try {
          const inserted = await store.appendLogsIfAbsent([entry]);
          count(inserted === 1 ? 'inserted' : 'duplicate', 1);
        } catch (error) {
          if (store.isUnavailableError(error)) return this.paused(error);
          await spool.setAside([toSpoolLine(entry, entry.createdAt, { refused_by_database: messageOf(error) })]);
          count('set_aside', 1);
          logger.error({ request_id: entry.requestId, error: messageOf(error), file: spool.corruptPath }, 'The database refused a spooled audit row; it was moved aside.');
        }
      }
    }
    await spool.finishReplay();
    logger.info(
      { inserted: counts.inserted, already_stored: counts.duplicate, set_aside: counts.set_aside },
      `Audit spool replayed: ${counts.inserted} rows written to moderation_log.`,
    );
    return true;
  }

  private paused(error: unknown): false {
    this.options.logger.warn({ error: messageOf(error) }, 'Audit spool replay paused: the database is unavailable. It resumes when the database answers.');
    return false;
  }

  /** Stops replaying (between batches) before the store closes, and closes the spool. */
  async close(): Promise<void> {
    this.closing = true;
    clearInterval(this.interval);
    await this.replaying;
    await this.options.spool.close();
  }
}
