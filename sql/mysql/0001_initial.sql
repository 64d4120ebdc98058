-- Schema for MySQL 8 and MariaDB 10.6+. Times are UTC (the service sets time_zone = '+00:00').

CREATE TABLE IF NOT EXISTS schema_migrations (
  version INT UNSIGNED NOT NULL PRIMARY KEY,
  name VARCHAR(255) NOT NULL,
  checksum CHAR(64) NOT NULL,
  applied_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- One row per request to /analyse/*, whatever its outcome.
CREATE TABLE IF NOT EXISTS moderation_log (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  request_id CHAR(36) CHARACTER SET ascii NOT NULL,
  batch_id CHAR(36) CHARACTER SET ascii NULL,
  user_uuid VARCHAR(128) NULL,
  client VARCHAR(128) NULL,
  content_type VARCHAR(16) NOT NULL,
  content_identifier VARCHAR(2048) NULL,
  sha256 CHAR(64) CHARACTER SET ascii NULL,
  phash CHAR(64) CHARACTER SET ascii NULL,
  decision VARCHAR(16) NULL,
  reason VARCHAR(1024) NULL,
  source VARCHAR(16) NULL,
  provider VARCHAR(32) NULL,
  matched_item_id BIGINT UNSIGNED NULL,
  matched_distance SMALLINT UNSIGNED NULL,
  http_status SMALLINT UNSIGNED NOT NULL,
  latency_ms INT UNSIGNED NOT NULL,
  error VARCHAR(1024) NULL,
  raw_response JSON NULL,
  created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  PRIMARY KEY (id),
  UNIQUE KEY uq_moderation_log_request_id (request_id),
  KEY ix_moderation_log_created_at (created_at),
  KEY ix_moderation_log_user_created (user_uuid, created_at),
  KEY ix_moderation_log_batch_id (batch_id),
  KEY ix_moderation_log_sha256 (sha256)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Images judged by a provider. The 256-bit perceptual hash is four unsigned 64-bit integers:
-- MariaDB returns 0 for XOR on binary strings, integers XOR correctly on both engines.
CREATE TABLE IF NOT EXISTS images (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  sha256 CHAR(64) CHARACTER SET ascii NOT NULL,
  phash0 BIGINT UNSIGNED NULL,
  phash1 BIGINT UNSIGNED NULL,
  phash2 BIGINT UNSIGNED NULL,
  phash3 BIGINT UNSIGNED NULL,
  low_detail TINYINT(1) NOT NULL DEFAULT 0,
  animated TINYINT(1) NOT NULL DEFAULT 0,
  width INT UNSIGNED NOT NULL,
  height INT UNSIGNED NOT NULL,
  format VARCHAR(16) NOT NULL,
  decision VARCHAR(16) NOT NULL,
  reason VARCHAR(1024) NOT NULL,
  labels JSON NOT NULL,
  scores JSON NOT NULL,
  provider VARCHAR(32) NOT NULL,
  source_url VARCHAR(2048) NULL,
  created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  PRIMARY KEY (id),
  UNIQUE KEY uq_images_sha256 (sha256)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Multi-index hashing: each hash split into sixteen 16-bit chunks. Two hashes within Hamming
-- distance 15 agree exactly on at least one chunk, so candidates come from 16 index range reads
-- instead of a table scan; the exact distance is then checked on those candidates only.
CREATE TABLE IF NOT EXISTS image_hash_chunks (
  chunk_index TINYINT UNSIGNED NOT NULL,
  chunk_value SMALLINT UNSIGNED NOT NULL,
  image_id BIGINT UNSIGNED NOT NULL,
  PRIMARY KEY (chunk_index, chunk_value, image_id),
  KEY ix_image_hash_chunks_image_id (image_id),
  CONSTRAINT fk_image_hash_chunks_image FOREIGN KEY (image_id) REFERENCES images (id) ON DELETE CASCADE
) ENGINE=InnoDB;
