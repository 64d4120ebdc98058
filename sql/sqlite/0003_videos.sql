-- Videos judged by sampling frames; each sampled frame is stored as an image (see the MySQL schema).

CREATE TABLE IF NOT EXISTS videos (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  sha256 TEXT NOT NULL UNIQUE,
  provider TEXT NOT NULL,
  decision TEXT NOT NULL,
  reason TEXT NOT NULL,
  labels TEXT NOT NULL,
  frames_analyzed INTEGER NOT NULL,
  flagged_at_ms INTEGER NULL,
  duration_ms INTEGER NOT NULL,
  width INTEGER NOT NULL,
  height INTEGER NOT NULL,
  source_url TEXT NULL,
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now'))
);

CREATE TABLE IF NOT EXISTS video_frames (
  video_id INTEGER NOT NULL REFERENCES videos (id) ON DELETE CASCADE,
  frame_index INTEGER NOT NULL,
  timestamp_ms INTEGER NOT NULL,
  image_id INTEGER NOT NULL REFERENCES images (id) ON DELETE CASCADE,
  PRIMARY KEY (video_id, frame_index)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS ix_video_frames_image_id ON video_frames (image_id);
