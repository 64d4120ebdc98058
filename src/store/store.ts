import type { PerceptualHash } from '../dedupe/perceptual-hash.js';
import type { CategoryScores, Decision, ReviewDetails } from '../providers/thresholds.js';

/**
 * What the service keeps: judged content and the audit log. Two adapters implement it (MySQL/MariaDB
 * and SQLite) and pass one contract test suite (test/store-contract.test.ts).
 */

export type ContentType = 'image' | 'video' | 'text';
/** How a decision was reached; analysts group by this column. */
export type DecisionSource = 'provider' | 'cache_exact' | 'cache_near' | 'local' | 'error';

export type JudgedImage = {
  id: number;
  sha256: string;
  phash: string | null;
  decision: Decision;
  reason: string;
  /** The categories that reached review or flag, with their scores. */
  labels: ReviewDetails;
  provider: string;
  sourceUrl: string | null;
};

export type NewJudgedImage = {
  sha256: string;
  phash: PerceptualHash | null;
  /** Stored but left out of the near-duplicate index: a flat picture's hash describes nothing. */
  lowDetail: boolean;
  animated: boolean;
  width: number;
  height: number;
  format: string;
  decision: Decision;
  reason: string;
  labels: ReviewDetails;
  scores: CategoryScores;
  provider: string;
  sourceUrl: string;
};

export type SimilarImage = JudgedImage & { distance: number };

export type JudgedVideo = {
  id: number;
  sha256: string;
  provider: string;
  decision: Decision;
  reason: string;
  /** Review details of the worst frame. */
  labels: ReviewDetails;
  framesAnalyzed: number;
  flaggedAtMs: number | null;
  sourceUrl: string | null;
};

export type NewJudgedVideo = Omit<JudgedVideo, 'id'> & {
  durationMs: number;
  width: number;
  height: number;
  /** The sampled frames in order, each pointing at the stored image that represents it. */
  frames: { timestampMs: number; imageId: number }[];
};

/** A stored video with the number of its frames that point at any of the given images. */
export type VideoFrameMatch = Omit<JudgedVideo, 'sha256'> & { matchedFrames: number };

export type JudgedText = {
  id: number;
  /** SHA-256 of the normalised message together with its normalised context. */
  digest: string;
  provider: string;
  decision: Decision;
  reason: string;
  categories: string[];
};

export type NewJudgedText = Omit<JudgedText, 'id'>;

export type ModerationLogEntry = {
  requestId: string;
  batchId?: string | null;
  userUuid?: string | null;
  client?: string | null;
  contentType: ContentType;
  contentIdentifier?: string | null;
  /** The judged message itself (text requests, when LOG_TEXT_CONTENT is on). */
  contentText?: string | null;
  sha256?: string | null;
  phash?: string | null;
  decision?: string | null;
  reason?: string | null;
  source?: DecisionSource | null;
  provider?: string | null;
  matchedItemId?: number | null;
  matchedDistance?: number | null;
  httpStatus: number;
  latencyMs: number;
  error?: string | null;
  rawResponse?: unknown;
};

/**
 * A moderation_log row written later than its request (replayed from the audit spool), carrying the
 * time it was meant to be written: `YYYY-MM-DD HH:MM:SS.mmm`, UTC.
 */
export type DelayedLogEntry = ModerationLogEntry & { createdAt: string };

/** A row of moderation_log as read back (tests, future admin endpoints). */
export type ModerationLogRow = Required<Omit<ModerationLogEntry, 'rawResponse'>> & { rawResponse: unknown; createdAt: string };

/** UTC calendar days, `YYYY-MM-DD`, both included. */
export type DayRange = { firstDay: string; lastDay: string };

/**
 * The analyst views (sql/<dialect>/0004_analyst_views.sql) over a range of days, for the dashboard.
 * Days without answered requests have no rows.
 */
export type DashboardSummary = {
  /** moderation_decisions_daily */
  decisions: { day: string; contentType: string; decision: string; requests: number }[];
  /** moderation_cache_daily */
  cache: {
    day: string;
    contentType: string;
    answered: number;
    cacheExact: number;
    cacheNear: number;
    provider: number;
    local: number;
    error: number;
    providerCallsSaved: number;
    cacheHitRatio: number;
  }[];
  /** moderation_latency_daily */
  latency: { day: string; contentType: string; requests: number; avgLatencyMs: number; p95LatencyMs: number }[];
  /** moderation_provider_errors_daily */
  providerErrors: { day: string; provider: string; providerRequests: number; failures: number; errorRate: number }[];
  /** moderation_users_daily summed over the range: users with a flagged or review answer, most flagged first. */
  flaggedUsers: { userUuid: string; flagged: number; review: number; total: number; lastFlaggedAt: string | null }[];
};

/** A connection pool's state, for metrics. */
export type PoolStats = { maxConnections: number; open: number; idle: number; waiting: number };

export interface Store {
  readonly dialect: 'mysql' | 'sqlite';
  /** Applies pending migrations; safe when several instances start at once. */
  migrate(): Promise<void>;
  findImageBySha256(sha256: string): Promise<JudgedImage | null>;
  /**
   * Neighbours within `maxDistance` (at most 15) through the chunk index: those judged review or
   * flagged first, each group closest first.
   */
  findSimilarImages(hash: PerceptualHash, maxDistance: number, limit: number, provider: string): Promise<SimilarImage[]>;
  /**
   * Stores a judgement. When the sha256 is stored already, the earlier judgement of the same provider
   * wins, and one by another provider is replaced.
   */
  saveJudgedImage(image: NewJudgedImage): Promise<{ id: number; created: boolean }>;
  /**
   * Stores many judgements in one transaction (bulk loads, benchmarks): images whose sha256 is stored
   * already are skipped. Returns how many were added.
   */
  importJudgedImages(images: NewJudgedImage[]): Promise<number>;
  /**
   * The same answer as findSimilarImages by a plain popcount over every row, without the index: the
   * reference the index is measured and checked against. Never on the request path.
   */
  scanSimilarImages(hash: PerceptualHash, maxDistance: number, limit: number, provider: string): Promise<SimilarImage[]>;
  findVideoBySha256(sha256: string): Promise<JudgedVideo | null>;
  /** Stores a video judgement and its frames, with the same first-wins / replace-other-provider rule as images. */
  saveJudgedVideo(video: NewJudgedVideo): Promise<{ id: number; created: boolean }>;
  /** Videos of `provider` having frames that point at any of `imageIds`, with how many frames do. */
  findVideosByFrameImages(imageIds: number[], provider: string): Promise<VideoFrameMatch[]>;
  findJudgedText(digest: string, provider: string): Promise<JudgedText | null>;
  /** Stores a text judgement; when the same digest and provider are stored already the earlier row wins. */
  saveJudgedText(text: NewJudgedText): Promise<void>;
  appendLog(entry: ModerationLogEntry): Promise<void>;
  /**
   * Inserts the rows whose request_id is not in moderation_log yet and skips the others, so a row
   * replayed twice is still stored once. Returns how many were inserted.
   */
  appendLogsIfAbsent(entries: DelayedLogEntry[]): Promise<number>;
  findLogByRequestId(requestId: string): Promise<ModerationLogRow | null>;
  /** The analyst views over `range`, with the `topUsers` most-flagged users of the range. */
  dashboardSummary(range: DayRange, options: { topUsers: number }): Promise<DashboardSummary>;
  /** Bytes on disk per table, indexes included (capacity planning, the index benchmark). */
  tableSizes(): Promise<Record<string, number>>;
  /** Succeeds when the database answers and would accept a write. */
  ping(): Promise<void>;
  /**
   * Whether an error thrown by this store means the database cannot be reached or written right now
   * (connection refused or lost, server shutting down, file locked or read-only), as opposed to a
   * fault of the statement or of the configuration, which waiting does not cure.
   */
  isUnavailableError(error: unknown): boolean;
  close(): Promise<void>;
  /** Stores with a connection pool (MySQL) report its state; SQLite has one embedded connection and none. */
  poolStats?(): PoolStats;
}
