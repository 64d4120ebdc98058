import { AppError, messageOf } from '../errors.js';
import type { Logger } from '../logging.js';
import type { PerceptualHash } from '../dedupe/perceptual-hash.js';
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
} from './store.js';

/**
 * A Store that keeps the service up while its database is not: it starts without the database,
 * connects and migrates in the background, fails fast while the database is unavailable, bounds how
 * long a request waits for it, and notices by itself when it answers again.
 *
 * States: `connecting` (not reached since start-up, or migrations not applied), `ready`, and
 * `unavailable` (reached once, then failed). Outside `ready` every call is refused at once with
 * AppError `database_unavailable`, and one background loop tries again with growing delays.
 */

export type DatabaseState = 'connecting' | 'ready' | 'unavailable';

/** What the HTTP layer asks before starting work that needs the database. */
export type DatabaseGate = {
  /** The error to answer with while the database is unavailable; null when it is ready. */
  refusal(): AppError | null;
};

export type GuardedStoreOptions = {
  /** Longest a request-path call may take; one that takes longer counts as an outage. */
  timeoutMs: number;
  logger: Logger;
  /**
   * Called when a background attempt to connect and migrate fails in a way waiting cannot cure (bad
   * credentials, an unknown database, a broken migration): what start-up would have refused.
   */
  onFatal?: ((error: unknown) => void) | undefined;
};

// Delays between attempts: doubled after each failure up to the cap, with jitter so a fleet of
// instances does not knock in step. A refused connection costs the database nothing, so the cap is low.
const FIRST_RETRY_MS = 250;
const MAX_RETRY_MS = 5_000;

class DatabaseTimeoutError extends Error {
  override name = 'DatabaseTimeoutError';
  constructor(timeoutMs: number) {
    super(`The database did not answer within ${timeoutMs} ms (DATABASE_TIMEOUT_MS).`);
  }
}


export class GuardedStore implements Store, DatabaseGate {
  readonly dialect: Store['dialect'];
  readonly poolStats?: () => PoolStats;
  private current: DatabaseState = 'connecting';
  private migrated = false;
  private failedAttempts = 0;
  private retryDelayMs = FIRST_RETRY_MS;
  private retryTimer: NodeJS.Timeout | undefined;
  private attempting = false;
  private closed = false;
  private unavailableSince = Date.now();
  private readonly readyListeners: (() => void)[] = [];

  constructor(
    private readonly inner: Store,
    private readonly options: GuardedStoreOptions,
  ) {
    this.dialect = inner.dialect;
    const poolStats = inner.poolStats?.bind(inner);
    if (poolStats) this.poolStats = poolStats;
  }

  get state(): DatabaseState {
    return this.current;
  }

  /** Called each time the database becomes ready: at start-up and after every outage. */
  onReady(listener: () => void): void {
    this.readyListeners.push(listener);
  }

  /**
   * The first attempt to connect and migrate. Resolves once ready, or once the database has been
   * found unreachable (attempts then go on in the background); rejects on a fault waiting cannot
   * cure, so a misconfiguration still stops start-up.
   */
  async start(): Promise<void> {
    try {
      await this.migrate();
    } catch (error) {
      if (!this.inner.isUnavailableError(error)) throw error;
      this.attemptFailed(error);
    }
  }

  refusal(): AppError | null {
    return this.current === 'ready' ? null : this.unavailableError();
  }

  private unavailableError(cause?: unknown): AppError {
    const detail =
      this.current === 'connecting'
        ? 'The database has not been reached since start-up; retrying in the background.'
        : 'The database does not answer; retrying in the background.';
    return new AppError('database_unavailable', detail, { retryAfterSeconds: Math.max(1, Math.ceil(this.retryDelayMs / 1000)), cause });
  }

  isUnavailableError(error: unknown): boolean {
    return (error instanceof AppError && error.code === 'database_unavailable') || error instanceof DatabaseTimeoutError || this.inner.isUnavailableError(error);
  }

  private becomeReady(): void {
    if (this.closed) return;
    const previous = this.current;
    this.current = 'ready';
    this.failedAttempts = 0;
    this.retryDelayMs = FIRST_RETRY_MS;
    if (previous === 'ready') return;
    if (previous === 'unavailable') {
      this.options.logger.info({ unavailable_ms: Date.now() - this.unavailableSince }, 'The database answers again.');
    }
    for (const listener of this.readyListeners) listener();
  }

  /** A request-path call found the database gone: refuse from now on and start probing. */
  private markUnavailable(error: unknown): void {
    if (this.current !== 'ready' || this.closed) return;
    this.current = 'unavailable';
    this.unavailableSince = Date.now();
    this.options.logger.warn(
      { error: messageOf(error) },
      'The database is unavailable: /analyse requests get 503 database_unavailable until it answers again.',
    );
    this.scheduleAttempt(0);
  }

  /** One line per failed attempt, never one per request. */
  private attemptFailed(error: unknown): void {
    this.failedAttempts++;
    const delay = Math.round(this.retryDelayMs * (0.8 + Math.random() * 0.4));
    this.retryDelayMs = Math.min(this.retryDelayMs * 2, MAX_RETRY_MS);
    const message = this.migrated
      ? 'The database is still unavailable; retrying.'
      : 'Cannot reach the database; retrying in the background. /readyz fails and /analyse requests get 503 until it answers.';
    this.options.logger.warn({ attempt: this.failedAttempts, retry_in_ms: delay, error: messageOf(error) }, message);
    this.scheduleAttempt(delay);
  }

  private scheduleAttempt(delayMs: number): void {
    if (this.closed) return;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => void this.attempt(), delayMs);
    // The server keeps the process alive; a pending retry alone should not.
    this.retryTimer.unref();
  }

  /** Connects and migrates when that has not happened yet, else checks that the database answers. */
  private async attempt(): Promise<void> {
    if (this.closed || this.attempting) return;
    this.attempting = true;
    try {
      if (this.migrated) {
        await this.bounded(this.inner.ping());
        this.becomeReady();
      } else {
        await this.migrate();
      }
    } catch (error) {
      if (this.closed) return;
      if (!this.migrated && !this.isUnavailableError(error)) {
        this.options.logger.error({ error: messageOf(error) }, `The database answers but cannot be used: ${messageOf(error)}`);
        this.options.onFatal?.(error);
      }
      this.attemptFailed(error);
    } finally {
      this.attempting = false;
    }
  }

  /** Resolves with the promise, or rejects with a timeout; the call itself may still finish later. */
  private bounded<T>(promise: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new DatabaseTimeoutError(this.options.timeoutMs)), this.options.timeoutMs);
    });
    return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
  }

  /**
   * Refuses at once unless ready; otherwise runs `operation`, bounded by DATABASE_TIMEOUT_MS unless
   * it is one of the long analyst or maintenance reads. An outage error marks the database
   * unavailable and reaches the caller as `database_unavailable`; any other error passes unchanged.
   */
  private async call<T>(operation: () => Promise<T>, options: { bounded: boolean } = { bounded: true }): Promise<T> {
    const refusal = this.refusal();
    if (refusal) throw refusal;
    try {
      return options.bounded ? await this.bounded(operation()) : await operation();
    } catch (error) {
      if (!this.isUnavailableError(error)) throw error;
      this.markUnavailable(error);
      throw this.unavailableError(error);
    }
  }

  async migrate(): Promise<void> {
    await this.inner.migrate();
    this.migrated = true;
    this.becomeReady();
  }

  findImageBySha256(sha256: string): Promise<JudgedImage | null> {
    return this.call(() => this.inner.findImageBySha256(sha256));
  }

  findSimilarImages(hash: PerceptualHash, maxDistance: number, limit: number, provider: string): Promise<SimilarImage[]> {
    return this.call(() => this.inner.findSimilarImages(hash, maxDistance, limit, provider));
  }

  saveJudgedImage(image: NewJudgedImage): Promise<{ id: number; created: boolean }> {
    return this.call(() => this.inner.saveJudgedImage(image));
  }

  importJudgedImages(images: NewJudgedImage[]): Promise<number> {
    return this.call(() => this.inner.importJudgedImages(images), { bounded: false });
  }

  scanSimilarImages(hash: PerceptualHash, maxDistance: number, limit: number, provider: string): Promise<SimilarImage[]> {
    return this.call(() => this.inner.scanSimilarImages(hash, maxDistance, limit, provider), { bounded: false });
  }

  findVideoBySha256(sha256: string): Promise<JudgedVideo | null> {
    return this.call(() => this.inner.findVideoBySha256(sha256));
  }

  saveJudgedVideo(video: NewJudgedVideo): Promise<{ id: number; created: boolean }> {
    return this.call(() => this.inner.saveJudgedVideo(video));
  }

  findVideosByFrameImages(imageIds: number[], provider: string): Promise<VideoFrameMatch[]> {
    return this.call(() => this.inner.findVideosByFrameImages(imageIds, provider));
  }

  findJudgedText(digest: string, provider: string): Promise<JudgedText | null> {
    return this.call(() => this.inner.findJudgedText(digest, provider));
  }

  saveJudgedText(text: NewJudgedText): Promise<void> {
    return this.call(() => this.inner.saveJudgedText(text));
  }

  appendLog(entry: ModerationLogEntry): Promise<void> {
    return this.call(() => this.inner.appendLog(entry));
  }

  appendLogsIfAbsent(entries: DelayedLogEntry[]): Promise<number> {
    return this.call(() => this.inner.appendLogsIfAbsent(entries));
  }

  findLogByRequestId(requestId: string): Promise<ModerationLogRow | null> {
    return this.call(() => this.inner.findLogByRequestId(requestId));
  }

  dashboardSummary(range: DayRange, options: { topUsers: number }): Promise<DashboardSummary> {
    return this.call(() => this.inner.dashboardSummary(range, options), { bounded: false });
  }

  tableSizes(): Promise<Record<string, number>> {
    return this.call(() => this.inner.tableSizes(), { bounded: false });
  }

  ping(): Promise<void> {
    return this.call(() => this.inner.ping());
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    await this.inner.close();
  }
}
