-- Videos judged by sampling frames. Each sampled frame is stored as an image (its sha256 is that of
-- the decoded pixels), so one near-duplicate index serves images and frames alike: a frame that
-- looks like a known flagged image is found like any image.

CREATE TABLE IF NOT EXISTS videos (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  sha256 CHAR(64) CHARACTER SET ascii NOT NULL,
  provider VARCHAR(32) NOT NULL,
  decision VARCHAR(16) NOT NULL,
  reason VARCHAR(1024) NOT NULL,
  labels JSON NOT NULL,
  frames_analyzed INT UNSIGNED NOT NULL,
  flagged_at_ms INT UNSIGNED NULL,
  duration_ms INT UNSIGNED NOT NULL,
  width INT UNSIGNED NOT NULL,
  height INT UNSIGNED NOT NULL,
  source_url VARCHAR(2048) NULL,
  created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  PRIMARY KEY (id),
  UNIQUE KEY uq_videos_sha256 (sha256)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- The frames a video was judged by, in order; image_id is the frame (or the stored image it matched).
CREATE TABLE IF NOT EXISTS video_frames (
  video_id BIGINT UNSIGNED NOT NULL,
  frame_index INT UNSIGNED NOT NULL,
  timestamp_ms INT UNSIGNED NOT NULL,
  image_id BIGINT UNSIGNED NOT NULL,
  PRIMARY KEY (video_id, frame_index),
  KEY ix_video_frames_image_id (image_id),
  CONSTRAINT fk_video_frames_video FOREIGN KEY (video_id) REFERENCES videos (id) ON DELETE CASCADE,
  CONSTRAINT fk_video_frames_image FOREIGN KEY (image_id) REFERENCES images (id) ON DELETE CASCADE
) ENGINE=InnoDB;
