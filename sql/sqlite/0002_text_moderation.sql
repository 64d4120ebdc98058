-- Text moderation: the judged-text cache and the message itself in the audit log.

-- One row per distinct (normalised message + normalised context) per provider. `digest` is the
-- SHA-256 of that pair; a decision from one provider is never reused for another.
CREATE TABLE IF NOT EXISTS texts (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  digest TEXT NOT NULL,
  provider TEXT NOT NULL,
  decision TEXT NOT NULL,
  reason TEXT NOT NULL,
  categories TEXT NOT NULL,
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now')),
  UNIQUE (digest, provider)
);

-- The judged message, for analysts (LOG_TEXT_CONTENT=false leaves it empty).
ALTER TABLE moderation_log ADD COLUMN content_text TEXT NULL;
