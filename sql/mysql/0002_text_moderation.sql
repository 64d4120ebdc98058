-- Text moderation: the judged-text cache and the message itself in the audit log.

-- One row per distinct (normalised message + normalised context) per provider. `digest` is the
-- SHA-256 of that pair; a decision from one provider is never reused for another.
CREATE TABLE IF NOT EXISTS texts (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  digest CHAR(64) CHARACTER SET ascii NOT NULL,
  provider VARCHAR(32) NOT NULL,
  decision VARCHAR(16) NOT NULL,
  reason VARCHAR(2048) NOT NULL,
  categories JSON NOT NULL,
  created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  PRIMARY KEY (id),
  UNIQUE KEY uq_texts_digest_provider (digest, provider)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- The judged message, for analysts (LOG_TEXT_CONTENT=false leaves it empty).
ALTER TABLE moderation_log ADD COLUMN content_text MEDIUMTEXT NULL AFTER content_identifier;
