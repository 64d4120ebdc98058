import { hashChunks, hashFold, hashFromWords, type PerceptualHash } from '../dedupe/perceptual-hash.js';
import type { Decision } from '../providers/thresholds.js';
import type {
  DashboardSummary,
  JudgedImage,
  JudgedText,
  JudgedVideo,
  ModerationLogEntry,
  ModerationLogRow,
  NewJudgedImage,
  NewJudgedText,
  NewJudgedVideo,
} from './store.js';

/**
 * SQL and row mapping shared by both adapters. The dialects differ only in how a 64-bit word is
 * passed in and how a popcount is spelled, which each adapter supplies.
 */

export const imageColumns = 'i.id, i.sha256, i.phash0, i.phash1, i.phash2, i.phash3, i.decision, i.reason, i.labels, i.provider, i.source_url';

/**
 * Candidates sharing at least one 16-bit chunk whose folded hash is close enough (both read from the
 * index table alone), then the exact distance on those rows only. `distance(n)` renders, in the
 * adapter's dialect, the popcount of (phash<n> XOR the n-th query word), with one `?` placeholder for
 * that word; `foldDistance` the same for c.hash_fold and the query's fold. Rows judged review/flagged
 * come first, then closest first: a limit must never hide a cautious neighbour behind closer passes.
 */
export function similarImagesSql(columns: string, distance: (word: number) => string, foldDistance: string): string {
  const chunkPredicate = Array.from({ length: 16 }, () => '(c.chunk_index = ? AND c.chunk_value = ?)').join(' OR ');
  const distanceSum = [0, 1, 2, 3].map(distance).join(' + ');
  return `SELECT * FROM (
      SELECT ${columns}, ${distanceSum} AS distance
      FROM images i
      WHERE i.provider = ? AND i.id IN (SELECT c.image_id FROM image_hash_chunks c WHERE (${chunkPredicate}) AND ${foldDistance} <= ?)
    ) AS candidates
    WHERE distance <= ?
    ORDER BY CASE WHEN decision = 'pass' THEN 1 ELSE 0 END, distance, id
    LIMIT ?`;
}

/**
 * The reference for the index: the same rows and order as similarImagesSql, found by computing the
 * distance of every indexed image. Costs a full scan; benchmarks and tests only.
 */
export function scanSimilarImagesSql(columns: string, distance: (word: number) => string): string {
  const distanceSum = [0, 1, 2, 3].map(distance).join(' + ');
  return `SELECT * FROM (
      SELECT ${columns}, ${distanceSum} AS distance
      FROM images i
      WHERE i.provider = ? AND i.low_detail = 0 AND i.phash0 IS NOT NULL
    ) AS candidates
    WHERE distance <= ?
    ORDER BY CASE WHEN decision = 'pass' THEN 1 ELSE 0 END, distance, id
    LIMIT ?`;
}

export function scanSimilarImagesParams<Word>(hash: PerceptualHash, toWord: (word: bigint) => Word, provider: string, maxDistance: number, limit: number) {
  return [...hash.words.map(toWord), provider, maxDistance, limit];
}

/** Parameters for similarImagesSql: the four query words, the provider, the chunk pairs, the fold, the bounds. */
export function similarImagesParams<Word>(
  hash: PerceptualHash,
  toWord: (word: bigint) => Word,
  provider: string,
  maxDistance: number,
  limit: number,
) {
  const chunkParams = hashChunks(hash).flatMap((value, index) => [index, value]);
  return [...hash.words.map(toWord), provider, ...chunkParams, toWord(hashFold(hash)), maxDistance, maxDistance, limit];
}

/**
 * Replaces the judgement of an image judged by another provider (switching from the local model to
 * SightEngine, say). The hash and its index rows stay: the bytes are the same.
 */
export const replaceJudgementSql = 'UPDATE images SET decision = ?, reason = ?, labels = ?, scores = ?, provider = ? WHERE sha256 = ? AND provider <> ?';

export function replaceJudgementParams(image: NewJudgedImage): string[] {
  return [
    image.decision,
    image.reason.slice(0, 1024),
    JSON.stringify(image.labels),
    JSON.stringify(image.scores),
    image.provider,
    image.sha256,
    image.provider,
  ];
}

export const insertImageColumns =
  'sha256, phash0, phash1, phash2, phash3, low_detail, animated, width, height, format, decision, reason, labels, scores, provider, source_url';
const placeholdersFor = (count: number) => Array.from({ length: count }, () => '?').join(', ');
export const insertImageSql = `INSERT INTO images (${insertImageColumns}) VALUES (${placeholdersFor(insertImageColumns.split(',').length)})`;

export function insertImageParams<Word>(image: NewJudgedImage, toWord: (word: bigint) => Word): unknown[] {
  const words = image.phash ? image.phash.words.map(toWord) : [null, null, null, null];
  return [
    image.sha256,
    ...words,
    image.lowDetail ? 1 : 0,
    image.animated ? 1 : 0,
    image.width,
    image.height,
    image.format,
    image.decision,
    image.reason.slice(0, 1024),
    JSON.stringify(image.labels),
    JSON.stringify(image.scores),
    image.provider,
    image.sourceUrl.slice(0, 2048),
  ];
}

export const insertIndexRowColumns = 'chunk_index, chunk_value, image_id, hash_fold';

/**
 * The near-duplicate index rows of a stored image, in insertIndexRowColumns order. Only images with
 * a meaningful hash enter the index.
 */
export function indexRows<Word>(image: NewJudgedImage, imageId: number, toWord: (word: bigint) => Word): [number, number, number, Word][] {
  if (!image.phash || image.lowDetail) return [];
  const fold = toWord(hashFold(image.phash));
  return hashChunks(image.phash).map((value, index) => [index, value, imageId, fold]);
}

function parseJson(value: unknown): unknown {
  // MySQL returns JSON columns parsed; MariaDB (JSON = LONGTEXT) and SQLite return text.
  if (typeof value === 'string') return value === '' ? null : JSON.parse(value);
  return value ?? null;
}

export function toJudgedImage(row: Record<string, unknown>): JudgedImage {
  const words = [row.phash0, row.phash1, row.phash2, row.phash3];
  const phash = words.some((word) => word === null || word === undefined)
    ? null
    : hashFromWords(words.map((word) => BigInt(word as string | bigint))).hex;
  return {
    id: Number(row.id),
    sha256: String(row.sha256),
    phash,
    decision: String(row.decision) as Decision,
    reason: String(row.reason),
    labels: (parseJson(row.labels) ?? {}) as JudgedImage['labels'],
    provider: String(row.provider),
    sourceUrl: row.source_url === null || row.source_url === undefined ? null : String(row.source_url),
  };
}

export const videoColumns = 'v.id, v.sha256, v.provider, v.decision, v.reason, v.labels, v.frames_analyzed, v.flagged_at_ms, v.source_url';
export const selectVideoBySha256Sql = `SELECT ${videoColumns} FROM videos v WHERE v.sha256 = ?`;
export const insertVideoSql =
  'INSERT INTO videos (sha256, provider, decision, reason, labels, frames_analyzed, flagged_at_ms, duration_ms, width, height, source_url) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)';
export const replaceVideoJudgementSql =
  'UPDATE videos SET provider = ?, decision = ?, reason = ?, labels = ?, frames_analyzed = ?, flagged_at_ms = ? WHERE id = ? AND provider <> ?';
export const insertVideoFrameSql = 'INSERT INTO video_frames (video_id, frame_index, timestamp_ms, image_id) VALUES (?, ?, ?, ?)';

export function insertVideoParams(video: NewJudgedVideo): (string | number | null)[] {
  return [
    video.sha256,
    video.provider,
    video.decision,
    video.reason.slice(0, 1024),
    JSON.stringify(video.labels),
    video.framesAnalyzed,
    video.flaggedAtMs,
    Math.round(video.durationMs),
    video.width,
    video.height,
    video.sourceUrl ? video.sourceUrl.slice(0, 2048) : null,
  ];
}

export function replaceVideoJudgementParams(video: NewJudgedVideo, id: number): (string | number | null)[] {
  return [video.provider, video.decision, video.reason.slice(0, 1024), JSON.stringify(video.labels), video.framesAnalyzed, video.flaggedAtMs, id, video.provider];
}

/** One row per frame of a video of the provider that points at one of the images. */
export function videosByFrameImagesSql(imageCount: number): string {
  const placeholders = Array.from({ length: imageCount }, () => '?').join(', ');
  return `SELECT ${videoColumns}, COUNT(*) AS matched_frames
    FROM video_frames f JOIN videos v ON v.id = f.video_id
    WHERE v.provider = ? AND f.image_id IN (${placeholders})
    GROUP BY ${videoColumns}`;
}

export function toJudgedVideo(row: Record<string, unknown>): JudgedVideo {
  return {
    id: Number(row.id),
    sha256: String(row.sha256),
    provider: String(row.provider),
    decision: String(row.decision) as Decision,
    reason: String(row.reason),
    labels: (parseJson(row.labels) ?? {}) as JudgedVideo['labels'],
    framesAnalyzed: Number(row.frames_analyzed),
    flaggedAtMs: row.flagged_at_ms === null || row.flagged_at_ms === undefined ? null : Number(row.flagged_at_ms),
    sourceUrl: row.source_url === null || row.source_url === undefined ? null : String(row.source_url),
  };
}

export const selectTextSql = 'SELECT id, digest, provider, decision, reason, categories FROM texts WHERE digest = ? AND provider = ?';
export const insertTextSql = 'INSERT INTO texts (digest, provider, decision, reason, categories) VALUES (?, ?, ?, ?, ?)';

export function insertTextParams(text: NewJudgedText): string[] {
  return [text.digest, text.provider, text.decision, text.reason.slice(0, 2048), JSON.stringify(text.categories)];
}

export function toJudgedText(row: Record<string, unknown>): JudgedText {
  return {
    id: Number(row.id),
    digest: String(row.digest),
    provider: String(row.provider),
    decision: String(row.decision) as Decision,
    reason: String(row.reason),
    categories: (parseJson(row.categories) ?? []) as string[],
  };
}

export const logColumns = [
  'request_id',
  'batch_id',
  'user_uuid',
  'client',
  'content_type',
  'content_identifier',
  'content_text',
  'sha256',
  'phash',
  'decision',
  'reason',
  'source',
  'provider',
  'matched_item_id',
  'matched_distance',
  'http_status',
  'latency_ms',
  'error',
  'raw_response',
] as const;

export const insertLogSql = `INSERT INTO moderation_log (${logColumns.join(', ')}) VALUES (${placeholdersFor(logColumns.length)})`;


const truncate = (value: string | null | undefined, length: number) => (value === null || value === undefined ? null : value.slice(0, length));

/** The same insert with created_at given (a row replayed later keeps the time of its request). */
export const insertDelayedLogSql = `INSERT INTO moderation_log (${logColumns.join(', ')}, created_at) VALUES (${placeholdersFor(logColumns.length + 1)})`;

export function logParams(entry: ModerationLogEntry): (string | number | null)[] {
  return [
    entry.requestId,
    entry.batchId ?? null,
    truncate(entry.userUuid, 128),
    truncate(entry.client, 128),
    entry.contentType,
    truncate(entry.contentIdentifier, 2048),
    entry.contentText ?? null,
    entry.sha256 ?? null,
    entry.phash ?? null,
    entry.decision ?? null,
    truncate(entry.reason, 1024),
    entry.source ?? null,
    entry.provider ?? null,
    entry.matchedItemId ?? null,
    entry.matchedDistance ?? null,
    entry.httpStatus,
    Math.max(0, Math.round(entry.latencyMs)),
    truncate(entry.error, 1024),
    entry.rawResponse === undefined || entry.rawResponse === null ? null : JSON.stringify(entry.rawResponse),
  ];
}

export function toLogRow(row: Record<string, unknown>): ModerationLogRow {
  const text = (value: unknown) => (value === null || value === undefined ? null : String(value));
  const number = (value: unknown) => (value === null || value === undefined ? null : Number(value));
  return {
    requestId: String(row.request_id),
    batchId: text(row.batch_id),
    userUuid: text(row.user_uuid),
    client: text(row.client),
    contentType: String(row.content_type) as ModerationLogRow['contentType'],
    contentIdentifier: text(row.content_identifier),
    contentText: text(row.content_text),
    sha256: text(row.sha256),
    phash: text(row.phash),
    decision: text(row.decision),
    reason: text(row.reason),
    source: text(row.source) as ModerationLogRow['source'],
    provider: text(row.provider),
    matchedItemId: number(row.matched_item_id),
    matchedDistance: number(row.matched_distance),
    httpStatus: Number(row.http_status),
    latencyMs: Number(row.latency_ms),
    error: text(row.error),
    rawResponse: parseJson(row.raw_response),
    createdAt: row.created_at instanceof Date ? row.created_at.toISOString() : String(row.created_at),
  };
}

/**
 * Reads of the analyst views for a day range; the same text in both dialects. Each filters on the
 * view's `day` column, which both engines push down to the created_day index (see 0004_analyst_views).
 * Parameters: the first and the last day; the users query also takes the limit.
 */
export const dashboardSql = {
  decisions: 'SELECT day, content_type, decision, requests FROM moderation_decisions_daily WHERE day BETWEEN ? AND ? ORDER BY day, content_type, decision',
  cache: `SELECT day, content_type, answered, cache_exact, cache_near, provider, local, error, provider_calls_saved, cache_hit_ratio
    FROM moderation_cache_daily WHERE day BETWEEN ? AND ? ORDER BY day, content_type`,
  latency: `SELECT day, content_type, requests, avg_latency_ms, p95_latency_ms
    FROM moderation_latency_daily WHERE day BETWEEN ? AND ? ORDER BY day, content_type`,
  providerErrors: `SELECT day, provider, provider_requests, failures, error_rate
    FROM moderation_provider_errors_daily WHERE day BETWEEN ? AND ? ORDER BY day, provider`,
  flaggedUsers: `SELECT user_uuid, SUM(flagged) AS flagged, SUM(review) AS review, SUM(total) AS total, MAX(last_flagged_at) AS last_flagged_at
    FROM moderation_users_daily WHERE day BETWEEN ? AND ?
    GROUP BY user_uuid
    HAVING SUM(flagged) + SUM(review) > 0
    ORDER BY SUM(flagged) DESC, SUM(review) DESC, user_uuid
    LIMIT ?`,
} as const;

type Rows = Record<string, unknown>[];

/** Maps the view rows; MySQL returns SUM and ratios as DECIMAL strings, SQLite as numbers. */
export function toDashboardSummary(rows: { decisions: Rows; cache: Rows; latency: Rows; providerErrors: Rows; flaggedUsers: Rows }): DashboardSummary {
  const day = (row: Record<string, unknown>) => String(row.day);
  return {
    decisions: rows.decisions.map((row) => ({
      day: day(row),
      contentType: String(row.content_type),
      decision: String(row.decision),
      requests: Number(row.requests),
    })),
    cache: rows.cache.map((row) => ({
      day: day(row),
      contentType: String(row.content_type),
      answered: Number(row.answered),
      cacheExact: Number(row.cache_exact),
      cacheNear: Number(row.cache_near),
      provider: Number(row.provider),
      local: Number(row.local),
      error: Number(row.error),
      providerCallsSaved: Number(row.provider_calls_saved),
      cacheHitRatio: Number(row.cache_hit_ratio),
    })),
    latency: rows.latency.map((row) => ({
      day: day(row),
      contentType: String(row.content_type),
      requests: Number(row.requests),
      avgLatencyMs: Number(row.avg_latency_ms),
      p95LatencyMs: Number(row.p95_latency_ms),
    })),
    providerErrors: rows.providerErrors.map((row) => ({
      day: day(row),
      provider: String(row.provider),
      providerRequests: Number(row.provider_requests),
      failures: Number(row.failures),
      errorRate: Number(row.error_rate),
    })),
    flaggedUsers: rows.flaggedUsers.map((row) => ({
      userUuid: String(row.user_uuid),
      flagged: Number(row.flagged),
      review: Number(row.review),
      total: Number(row.total),
      lastFlaggedAt: row.last_flagged_at === null || row.last_flagged_at === undefined ? null : String(row.last_flagged_at),
    })),
  };
}
