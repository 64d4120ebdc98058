-- Schema for SQLite 3.38+. Times are UTC text 'YYYY-MM-DD HH:MM:SS.SSS', like MySQL's DATETIME(3).

CREATE TABLE IF NOT EXISTS schema_migrations (
  version INTEGER NOT NULL PRIMARY KEY,
  name TEXT NOT NULL,
  checksum TEXT NOT NULL,
  applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now'))
);

-- One row per request to /analyse/*, whatever its outcome.
CREATE TABLE IF NOT EXISTS moderation_log (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  request_id TEXT NOT NULL UNIQUE,
  batch_id TEXT NULL,
  user_uuid TEXT NULL,
  client TEXT NULL,
  content_type TEXT NOT NULL,
  content_identifier TEXT NULL,
  sha256 TEXT NULL,
  phash TEXT NULL,
  decision TEXT NULL,
  reason TEXT NULL,
  source TEXT NULL,
  provider TEXT NULL,
  matched_item_id INTEGER NULL,
  matched_distance INTEGER NULL,
  http_status INTEGER NOT NULL,
  latency_ms INTEGER NOT NULL,
  error TEXT NULL,
  raw_response TEXT NULL,
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now'))
);
CREATE INDEX IF NOT EXISTS ix_moderation_log_created_at ON moderation_log (created_at);
CREATE INDEX IF NOT EXISTS ix_moderation_log_user_created ON moderation_log (user_uuid, created_at);
CREATE INDEX IF NOT EXISTS ix_moderation_log_batch_id ON moderation_log (batch_id);
CREATE INDEX IF NOT EXISTS ix_moderation_log_sha256 ON moderation_log (sha256);

-- Images judged by a provider. SQLite integers are signed, so each unsigned 64-bit word of the
-- perceptual hash is stored as its two's-complement signed value; the adapter converts both ways.
CREATE TABLE IF NOT EXISTS images (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  sha256 TEXT NOT NULL UNIQUE,
  phash0 INTEGER NULL,
  phash1 INTEGER NULL,
  phash2 INTEGER NULL,
  phash3 INTEGER NULL,
  low_detail INTEGER NOT NULL DEFAULT 0,
  animated INTEGER NOT NULL DEFAULT 0,
  width INTEGER NOT NULL,
  height INTEGER NOT NULL,
  format TEXT NOT NULL,
  decision TEXT NOT NULL,
  reason TEXT NOT NULL,
  labels TEXT NOT NULL,
  scores TEXT NOT NULL,
  provider TEXT NOT NULL,
  source_url TEXT NULL,
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now'))
);

-- Multi-index hashing, as in the MySQL schema: sixteen 16-bit chunks per hash.
CREATE TABLE IF NOT EXISTS image_hash_chunks (
  chunk_index INTEGER NOT NULL,
  chunk_value INTEGER NOT NULL,
  image_id INTEGER NOT NULL REFERENCES images (id) ON DELETE CASCADE,
  PRIMARY KEY (chunk_index, chunk_value, image_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS ix_image_hash_chunks_image_id ON image_hash_chunks (image_id);
