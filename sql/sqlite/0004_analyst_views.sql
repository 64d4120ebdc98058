-- Daily figures for analysts and the /dashboard page, as views over moderation_log; the same views,
-- columns and meanings as in the MySQL schema (see its comments). Days are UTC calendar days.

-- A view grouped by day can only be filtered on its day column: the day is kept as a generated
-- column so that a date range reaches an index (SQLite adds only VIRTUAL columns to a table).
ALTER TABLE moderation_log ADD COLUMN created_day TEXT GENERATED ALWAYS AS (date(created_at)) VIRTUAL;

CREATE INDEX IF NOT EXISTS ix_moderation_log_day_outcome ON moderation_log (created_day, content_type, decision, source, provider, latency_ms);
CREATE INDEX IF NOT EXISTS ix_moderation_log_day_user ON moderation_log (created_day, user_uuid, decision, created_at);

-- Answered requests per day, content type and decision.
CREATE VIEW IF NOT EXISTS moderation_decisions_daily AS
SELECT created_day AS day, content_type, decision, COUNT(*) AS requests
FROM moderation_log
WHERE decision IS NOT NULL
GROUP BY created_day, content_type, decision;

-- How answers were reached per day and content type. Each cache hit is a request answered without a
-- provider (or local classifier) call: provider_calls_saved.
CREATE VIEW IF NOT EXISTS moderation_cache_daily AS
SELECT
  created_day AS day,
  content_type,
  COUNT(*) AS answered,
  SUM(CASE WHEN source = 'cache_exact' THEN 1 ELSE 0 END) AS cache_exact,
  SUM(CASE WHEN source = 'cache_near' THEN 1 ELSE 0 END) AS cache_near,
  SUM(CASE WHEN source = 'provider' THEN 1 ELSE 0 END) AS provider,
  SUM(CASE WHEN source = 'local' THEN 1 ELSE 0 END) AS local,
  SUM(CASE WHEN source = 'error' THEN 1 ELSE 0 END) AS error,
  SUM(CASE WHEN source IN ('cache_exact', 'cache_near') THEN 1 ELSE 0 END) AS provider_calls_saved,
  ROUND(1.0 * SUM(CASE WHEN source IN ('cache_exact', 'cache_near') THEN 1 ELSE 0 END) / COUNT(*), 4) AS cache_hit_ratio
FROM moderation_log
WHERE decision IS NOT NULL
GROUP BY created_day, content_type;

-- Requests that asked a provider (or the local classifier), and how many of them it could not
-- answer. A failure is source 'error': text answers decision 'error' (API_REQUEST_FAILED), images and
-- videos are held as 'review'; both are HTTP 200, so http_status does not show them.
CREATE VIEW IF NOT EXISTS moderation_provider_errors_daily AS
SELECT
  created_day AS day,
  provider,
  COUNT(*) AS provider_requests,
  SUM(CASE WHEN source = 'error' THEN 1 ELSE 0 END) AS failures,
  ROUND(1.0 * SUM(CASE WHEN source = 'error' THEN 1 ELSE 0 END) / COUNT(*), 4) AS error_rate
FROM moderation_log
WHERE source IN ('provider', 'local', 'error') AND provider IS NOT NULL
GROUP BY created_day, provider;

-- Latency of answered requests per day and content type. p95 is nearest-rank: of n latencies in
-- order, the one at rank ceil(0.95 * n), written without CEIL or integer division so it reads the
-- same in both dialects (MySQL 8 has no PERCENTILE_CONT). One row per group is picked rather than
-- grouped again, so a date range on the view still reaches the index through the window.
CREATE VIEW IF NOT EXISTS moderation_latency_daily AS
SELECT day, content_type, requests, avg_latency_ms, latency_ms AS p95_latency_ms
FROM (
  SELECT
    created_day AS day,
    content_type,
    latency_ms,
    ROW_NUMBER() OVER in_order AS latency_rank,
    COUNT(*) OVER whole_group AS requests,
    ROUND(AVG(latency_ms) OVER whole_group) AS avg_latency_ms
  FROM moderation_log
  WHERE decision IS NOT NULL
  WINDOW whole_group AS (PARTITION BY created_day, content_type),
    in_order AS (PARTITION BY created_day, content_type ORDER BY latency_ms)
) AS ranked
WHERE latency_rank * 100 >= 95 * requests AND (latency_rank - 1) * 100 < 95 * requests;

-- Per user and day: answered requests, how many were flagged or held for review, and the last flag.
-- Sum over a date range for the most-flagged users of that period.
CREATE VIEW IF NOT EXISTS moderation_users_daily AS
SELECT
  created_day AS day,
  user_uuid,
  SUM(CASE WHEN decision = 'flagged' THEN 1 ELSE 0 END) AS flagged,
  SUM(CASE WHEN decision = 'review' THEN 1 ELSE 0 END) AS review,
  COUNT(*) AS total,
  MAX(CASE WHEN decision = 'flagged' THEN created_at END) AS last_flagged_at
FROM moderation_log
WHERE decision IS NOT NULL AND user_uuid IS NOT NULL
GROUP BY created_day, user_uuid;

-- Users with at least one flagged or review answer, over all time.
CREATE VIEW IF NOT EXISTS moderation_flagged_users AS
SELECT
  user_uuid,
  SUM(CASE WHEN decision = 'flagged' THEN 1 ELSE 0 END) AS flagged,
  SUM(CASE WHEN decision = 'review' THEN 1 ELSE 0 END) AS review,
  COUNT(*) AS total,
  MAX(CASE WHEN decision = 'flagged' THEN created_at END) AS last_flagged_at
FROM moderation_log
WHERE decision IS NOT NULL AND user_uuid IS NOT NULL
GROUP BY user_uuid
HAVING SUM(CASE WHEN decision IN ('flagged', 'review') THEN 1 ELSE 0 END) > 0;
