-- The near-duplicate index, rebuilt with scattered chunks and a fold of the hash beside each row.
--
-- Chunks used to be the sixteen rows of the 16x16 grid. A row across a flat region (sky, a wall, a
-- dark floor) is 0x0000 or 0xffff, so on real pictures a few chunk values were shared by up to a
-- quarter of all images and a lookup read that many candidates. Chunk j now takes, from each row r,
-- the block in column (5r + j) mod 16 (src/dedupe/perceptual-hash.ts hashChunks, which must agree
-- with the expressions below: bit (r, c) of the hash is bit 63 - ((r mod 4) * 16 + c) of word r div 4).
-- hash_fold = phash0 XOR phash1 XOR phash2 XOR phash3; its popcount distance never exceeds the real
-- distance, so the lookup filters candidates inside this table before reading images.
--
-- Rebuilt from the images table, so running this file again (after an interrupted start) is safe.
-- SQLite has no XOR operator: a XOR b is written (a | b) & ~(a & b). Its bitwise operators share one
-- precedence, hence the parentheses around every term. Words are stored as signed 64-bit integers;
-- an arithmetic shift followed by & 1 still reads the right bit.

DROP TABLE IF EXISTS image_hash_chunks;

CREATE TABLE image_hash_chunks (
  chunk_index INTEGER NOT NULL,
  chunk_value INTEGER NOT NULL,
  image_id INTEGER NOT NULL REFERENCES images (id) ON DELETE CASCADE,
  hash_fold INTEGER NOT NULL,
  PRIMARY KEY (chunk_index, chunk_value, image_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS ix_image_hash_chunks_image_id ON image_hash_chunks (image_id);

INSERT INTO image_hash_chunks (chunk_index, chunk_value, image_id, hash_fold)
SELECT 0,
    (((phash0 >> 63) & 1) << 15)
    | (((phash0 >> 42) & 1) << 14)
    | (((phash0 >> 21) & 1) << 13)
    | (((phash0 >> 0) & 1) << 12)
    | (((phash1 >> 59) & 1) << 11)
    | (((phash1 >> 38) & 1) << 10)
    | (((phash1 >> 17) & 1) << 9)
    | (((phash1 >> 12) & 1) << 8)
    | (((phash2 >> 55) & 1) << 7)
    | (((phash2 >> 34) & 1) << 6)
    | (((phash2 >> 29) & 1) << 5)
    | (((phash2 >> 8) & 1) << 4)
    | (((phash3 >> 51) & 1) << 3)
    | (((phash3 >> 46) & 1) << 2)
    | (((phash3 >> 25) & 1) << 1)
    | (((phash3 >> 4) & 1) << 0),
  id, ((((phash0) | (phash1)) & ~((phash0) & (phash1))) | (((phash2) | (phash3)) & ~((phash2) & (phash3)))) & ~((((phash0) | (phash1)) & ~((phash0) & (phash1))) & (((phash2) | (phash3)) & ~((phash2) & (phash3))))
FROM images WHERE low_detail = 0 AND phash0 IS NOT NULL
UNION ALL
SELECT 1,
    (((phash0 >> 62) & 1) << 15)
    | (((phash0 >> 41) & 1) << 14)
    | (((phash0 >> 20) & 1) << 13)
    | (((phash0 >> 15) & 1) << 12)
    | (((phash1 >> 58) & 1) << 11)
    | (((phash1 >> 37) & 1) << 10)
    | (((phash1 >> 16) & 1) << 9)
    | (((phash1 >> 11) & 1) << 8)
    | (((phash2 >> 54) & 1) << 7)
    | (((phash2 >> 33) & 1) << 6)
    | (((phash2 >> 28) & 1) << 5)
    | (((phash2 >> 7) & 1) << 4)
    | (((phash3 >> 50) & 1) << 3)
    | (((phash3 >> 45) & 1) << 2)
    | (((phash3 >> 24) & 1) << 1)
    | (((phash3 >> 3) & 1) << 0),
  id, ((((phash0) | (phash1)) & ~((phash0) & (phash1))) | (((phash2) | (phash3)) & ~((phash2) & (phash3)))) & ~((((phash0) | (phash1)) & ~((phash0) & (phash1))) & (((phash2) | (phash3)) & ~((phash2) & (phash3))))
FROM images WHERE low_detail = 0 AND phash0 IS NOT NULL
UNION ALL
SELECT 2,
    (((phash0 >> 61) & 1) << 15)
    | (((phash0 >> 40) & 1) << 14)
    | (((phash0 >> 19) & 1) << 13)
    | (((phash0 >> 14) & 1) << 12)
    | (((phash1 >> 57) & 1) << 11)
    | (((phash1 >> 36) & 1) << 10)
    | (((phash1 >> 31) & 1) << 9)
    | (((phash1 >> 10) & 1) << 8)
    | (((phash2 >> 53) & 1) << 7)
    | (((phash2 >> 32) & 1) << 6)
    | (((phash2 >> 27) & 1) << 5)
    | (((phash2 >> 6) & 1) << 4)
    | (((phash3 >> 49) & 1) << 3)
    | (((phash3 >> 44) & 1) << 2)
    | (((phash3 >> 23) & 1) << 1)
    | (((phash3 >> 2) & 1) << 0),
  id, ((((phash0) | (phash1)) & ~((phash0) & (phash1))) | (((phash2) | (phash3)) & ~((phash2) & (phash3)))) & ~((((phash0) | (phash1)) & ~((phash0) & (phash1))) & (((phash2) | (phash3)) & ~((phash2) & (phash3))))
FROM images WHERE low_detail = 0 AND phash0 IS NOT NULL
UNION ALL
SELECT 3,
    (((phash0 >> 60) & 1) << 15)
    | (((phash0 >> 39) & 1) << 14)
    | (((phash0 >> 18) & 1) << 13)
    | (((phash0 >> 13) & 1) << 12)
    | (((phash1 >> 56) & 1) << 11)
    | (((phash1 >> 35) & 1) << 10)
    | (((phash1 >> 30) & 1) << 9)
    | (((phash1 >> 9) & 1) << 8)
    | (((phash2 >> 52) & 1) << 7)
    | (((phash2 >> 47) & 1) << 6)
    | (((phash2 >> 26) & 1) << 5)
    | (((phash2 >> 5) & 1) << 4)
    | (((phash3 >> 48) & 1) << 3)
    | (((phash3 >> 43) & 1) << 2)
    | (((phash3 >> 22) & 1) << 1)
    | (((phash3 >> 1) & 1) << 0),
  id, ((((phash0) | (phash1)) & ~((phash0) & (phash1))) | (((phash2) | (phash3)) & ~((phash2) & (phash3)))) & ~((((phash0) | (phash1)) & ~((phash0) & (phash1))) & (((phash2) | (phash3)) & ~((phash2) & (phash3))))
FROM images WHERE low_detail = 0 AND phash0 IS NOT NULL
UNION ALL
SELECT 4,
    (((phash0 >> 59) & 1) << 15)
    | (((phash0 >> 38) & 1) << 14)
    | (((phash0 >> 17) & 1) << 13)
    | (((phash0 >> 12) & 1) << 12)
    | (((phash1 >> 55) & 1) << 11)
    | (((phash1 >> 34) & 1) << 10)
    | (((phash1 >> 29) & 1) << 9)
    | (((phash1 >> 8) & 1) << 8)
    | (((phash2 >> 51) & 1) << 7)
    | (((phash2 >> 46) & 1) << 6)
    | (((phash2 >> 25) & 1) << 5)
    | (((phash2 >> 4) & 1) << 4)
    | (((phash3 >> 63) & 1) << 3)
    | (((phash3 >> 42) & 1) << 2)
    | (((phash3 >> 21) & 1) << 1)
    | (((phash3 >> 0) & 1) << 0),
  id, ((((phash0) | (phash1)) & ~((phash0) & (phash1))) | (((phash2) | (phash3)) & ~((phash2) & (phash3)))) & ~((((phash0) | (phash1)) & ~((phash0) & (phash1))) & (((phash2) | (phash3)) & ~((phash2) & (phash3))))
FROM images WHERE low_detail = 0 AND phash0 IS NOT NULL
UNION ALL
SELECT 5,
    (((phash0 >> 58) & 1) << 15)
    | (((phash0 >> 37) & 1) << 14)
    | (((phash0 >> 16) & 1) << 13)
    | (((phash0 >> 11) & 1) << 12)
    | (((phash1 >> 54) & 1) << 11)
    | (((phash1 >> 33) & 1) << 10)
    | (((phash1 >> 28) & 1) << 9)
    | (((phash1 >> 7) & 1) << 8)
    | (((phash2 >> 50) & 1) << 7)
    | (((phash2 >> 45) & 1) << 6)
    | (((phash2 >> 24) & 1) << 5)
    | (((phash2 >> 3) & 1) << 4)
    | (((phash3 >> 62) & 1) << 3)
    | (((phash3 >> 41) & 1) << 2)
    | (((phash3 >> 20) & 1) << 1)
    | (((phash3 >> 15) & 1) << 0),
  id, ((((phash0) | (phash1)) & ~((phash0) & (phash1))) | (((phash2) | (phash3)) & ~((phash2) & (phash3)))) & ~((((phash0) | (phash1)) & ~((phash0) & (phash1))) & (((phash2) | (phash3)) & ~((phash2) & (phash3))))
FROM images WHERE low_detail = 0 AND phash0 IS NOT NULL
UNION ALL
SELECT 6,
    (((phash0 >> 57) & 1) << 15)
    | (((phash0 >> 36) & 1) << 14)
    | (((phash0 >> 31) & 1) << 13)
    | (((phash0 >> 10) & 1) << 12)
    | (((phash1 >> 53) & 1) << 11)
    | (((phash1 >> 32) & 1) << 10)
    | (((phash1 >> 27) & 1) << 9)
    | (((phash1 >> 6) & 1) << 8)
    | (((phash2 >> 49) & 1) << 7)
    | (((phash2 >> 44) & 1) << 6)
    | (((phash2 >> 23) & 1) << 5)
    | (((phash2 >> 2) & 1) << 4)
    | (((phash3 >> 61) & 1) << 3)
    | (((phash3 >> 40) & 1) << 2)
    | (((phash3 >> 19) & 1) << 1)
    | (((phash3 >> 14) & 1) << 0),
  id, ((((phash0) | (phash1)) & ~((phash0) & (phash1))) | (((phash2) | (phash3)) & ~((phash2) & (phash3)))) & ~((((phash0) | (phash1)) & ~((phash0) & (phash1))) & (((phash2) | (phash3)) & ~((phash2) & (phash3))))
FROM images WHERE low_detail = 0 AND phash0 IS NOT NULL
UNION ALL
SELECT 7,
    (((phash0 >> 56) & 1) << 15)
    | (((phash0 >> 35) & 1) << 14)
    | (((phash0 >> 30) & 1) << 13)
    | (((phash0 >> 9) & 1) << 12)
    | (((phash1 >> 52) & 1) << 11)
    | (((phash1 >> 47) & 1) << 10)
    | (((phash1 >> 26) & 1) << 9)
    | (((phash1 >> 5) & 1) << 8)
    | (((phash2 >> 48) & 1) << 7)
    | (((phash2 >> 43) & 1) << 6)
    | (((phash2 >> 22) & 1) << 5)
    | (((phash2 >> 1) & 1) << 4)
    | (((phash3 >> 60) & 1) << 3)
    | (((phash3 >> 39) & 1) << 2)
    | (((phash3 >> 18) & 1) << 1)
    | (((phash3 >> 13) & 1) << 0),
  id, ((((phash0) | (phash1)) & ~((phash0) & (phash1))) | (((phash2) | (phash3)) & ~((phash2) & (phash3)))) & ~((((phash0) | (phash1)) & ~((phash0) & (phash1))) & (((phash2) | (phash3)) & ~((phash2) & (phash3))))
FROM images WHERE low_detail = 0 AND phash0 IS NOT NULL
UNION ALL
SELECT 8,
    (((phash0 >> 55) & 1) << 15)
    | (((phash0 >> 34) & 1) << 14)
    | (((phash0 >> 29) & 1) << 13)
    | (((phash0 >> 8) & 1) << 12)
    | (((phash1 >> 51) & 1) << 11)
    | (((phash1 >> 46) & 1) << 10)
    | (((phash1 >> 25) & 1) << 9)
    | (((phash1 >> 4) & 1) << 8)
    | (((phash2 >> 63) & 1) << 7)
    | (((phash2 >> 42) & 1) << 6)
    | (((phash2 >> 21) & 1) << 5)
    | (((phash2 >> 0) & 1) << 4)
    | (((phash3 >> 59) & 1) << 3)
    | (((phash3 >> 38) & 1) << 2)
    | (((phash3 >> 17) & 1) << 1)
    | (((phash3 >> 12) & 1) << 0),
  id, ((((phash0) | (phash1)) & ~((phash0) & (phash1))) | (((phash2) | (phash3)) & ~((phash2) & (phash3)))) & ~((((phash0) | (phash1)) & ~((phash0) & (phash1))) & (((phash2) | (phash3)) & ~((phash2) & (phash3))))
FROM images WHERE low_detail = 0 AND phash0 IS NOT NULL
UNION ALL
SELECT 9,
    (((phash0 >> 54) & 1) << 15)
    | (((phash0 >> 33) & 1) << 14)
    | (((phash0 >> 28) & 1) << 13)
    | (((phash0 >> 7) & 1) << 12)
    | (((phash1 >> 50) & 1) << 11)
    | (((phash1 >> 45) & 1) << 10)
    | (((phash1 >> 24) & 1) << 9)
    | (((phash1 >> 3) & 1) << 8)
    | (((phash2 >> 62) & 1) << 7)
    | (((phash2 >> 41) & 1) << 6)
    | (((phash2 >> 20) & 1) << 5)
    | (((phash2 >> 15) & 1) << 4)
    | (((phash3 >> 58) & 1) << 3)
    | (((phash3 >> 37) & 1) << 2)
    | (((phash3 >> 16) & 1) << 1)
    | (((phash3 >> 11) & 1) << 0),
  id, ((((phash0) | (phash1)) & ~((phash0) & (phash1))) | (((phash2) | (phash3)) & ~((phash2) & (phash3)))) & ~((((phash0) | (phash1)) & ~((phash0) & (phash1))) & (((phash2) | (phash3)) & ~((phash2) & (phash3))))
FROM images WHERE low_detail = 0 AND phash0 IS NOT NULL
UNION ALL
SELECT 10,
    (((phash0 >> 53) & 1) << 15)
    | (((phash0 >> 32) & 1) << 14)
    | (((phash0 >> 27) & 1) << 13)
    | (((phash0 >> 6) & 1) << 12)
    | (((phash1 >> 49) & 1) << 11)
    | (((phash1 >> 44) & 1) << 10)
    | (((phash1 >> 23) & 1) << 9)
    | (((phash1 >> 2) & 1) << 8)
    | (((phash2 >> 61) & 1) << 7)
    | (((phash2 >> 40) & 1) << 6)
    | (((phash2 >> 19) & 1) << 5)
    | (((phash2 >> 14) & 1) << 4)
    | (((phash3 >> 57) & 1) << 3)
    | (((phash3 >> 36) & 1) << 2)
    | (((phash3 >> 31) & 1) << 1)
    | (((phash3 >> 10) & 1) << 0),
  id, ((((phash0) | (phash1)) & ~((phash0) & (phash1))) | (((phash2) | (phash3)) & ~((phash2) & (phash3)))) & ~((((phash0) | (phash1)) & ~((phash0) & (phash1))) & (((phash2) | (phash3)) & ~((phash2) & (phash3))))
FROM images WHERE low_detail = 0 AND phash0 IS NOT NULL
UNION ALL
SELECT 11,
    (((phash0 >> 52) & 1) << 15)
    | (((phash0 >> 47) & 1) << 14)
    | (((phash0 >> 26) & 1) << 13)
    | (((phash0 >> 5) & 1) << 12)
    | (((phash1 >> 48) & 1) << 11)
    | (((phash1 >> 43) & 1) << 10)
    | (((phash1 >> 22) & 1) << 9)
    | (((phash1 >> 1) & 1) << 8)
    | (((phash2 >> 60) & 1) << 7)
    | (((phash2 >> 39) & 1) << 6)
    | (((phash2 >> 18) & 1) << 5)
    | (((phash2 >> 13) & 1) << 4)
    | (((phash3 >> 56) & 1) << 3)
    | (((phash3 >> 35) & 1) << 2)
    | (((phash3 >> 30) & 1) << 1)
    | (((phash3 >> 9) & 1) << 0),
  id, ((((phash0) | (phash1)) & ~((phash0) & (phash1))) | (((phash2) | (phash3)) & ~((phash2) & (phash3)))) & ~((((phash0) | (phash1)) & ~((phash0) & (phash1))) & (((phash2) | (phash3)) & ~((phash2) & (phash3))))
FROM images WHERE low_detail = 0 AND phash0 IS NOT NULL
UNION ALL
SELECT 12,
    (((phash0 >> 51) & 1) << 15)
    | (((phash0 >> 46) & 1) << 14)
    | (((phash0 >> 25) & 1) << 13)
    | (((phash0 >> 4) & 1) << 12)
    | (((phash1 >> 63) & 1) << 11)
    | (((phash1 >> 42) & 1) << 10)
    | (((phash1 >> 21) & 1) << 9)
    | (((phash1 >> 0) & 1) << 8)
    | (((phash2 >> 59) & 1) << 7)
    | (((phash2 >> 38) & 1) << 6)
    | (((phash2 >> 17) & 1) << 5)
    | (((phash2 >> 12) & 1) << 4)
    | (((phash3 >> 55) & 1) << 3)
    | (((phash3 >> 34) & 1) << 2)
    | (((phash3 >> 29) & 1) << 1)
    | (((phash3 >> 8) & 1) << 0),
  id, ((((phash0) | (phash1)) & ~((phash0) & (phash1))) | (((phash2) | (phash3)) & ~((phash2) & (phash3)))) & ~((((phash0) | (phash1)) & ~((phash0) & (phash1))) & (((phash2) | (phash3)) & ~((phash2) & (phash3))))
FROM images WHERE low_detail = 0 AND phash0 IS NOT NULL
UNION ALL
SELECT 13,
    (((phash0 >> 50) & 1) << 15)
    | (((phash0 >> 45) & 1) << 14)
    | (((phash0 >> 24) & 1) << 13)
    | (((phash0 >> 3) & 1) << 12)
    | (((phash1 >> 62) & 1) << 11)
    | (((phash1 >> 41) & 1) << 10)
    | (((phash1 >> 20) & 1) << 9)
    | (((phash1 >> 15) & 1) << 8)
    | (((phash2 >> 58) & 1) << 7)
    | (((phash2 >> 37) & 1) << 6)
    | (((phash2 >> 16) & 1) << 5)
    | (((phash2 >> 11) & 1) << 4)
    | (((phash3 >> 54) & 1) << 3)
    | (((phash3 >> 33) & 1) << 2)
    | (((phash3 >> 28) & 1) << 1)
    | (((phash3 >> 7) & 1) << 0),
  id, ((((phash0) | (phash1)) & ~((phash0) & (phash1))) | (((phash2) | (phash3)) & ~((phash2) & (phash3)))) & ~((((phash0) | (phash1)) & ~((phash0) & (phash1))) & (((phash2) | (phash3)) & ~((phash2) & (phash3))))
FROM images WHERE low_detail = 0 AND phash0 IS NOT NULL
UNION ALL
SELECT 14,
    (((phash0 >> 49) & 1) << 15)
    | (((phash0 >> 44) & 1) << 14)
    | (((phash0 >> 23) & 1) << 13)
    | (((phash0 >> 2) & 1) << 12)
    | (((phash1 >> 61) & 1) << 11)
    | (((phash1 >> 40) & 1) << 10)
    | (((phash1 >> 19) & 1) << 9)
    | (((phash1 >> 14) & 1) << 8)
    | (((phash2 >> 57) & 1) << 7)
    | (((phash2 >> 36) & 1) << 6)
    | (((phash2 >> 31) & 1) << 5)
    | (((phash2 >> 10) & 1) << 4)
    | (((phash3 >> 53) & 1) << 3)
    | (((phash3 >> 32) & 1) << 2)
    | (((phash3 >> 27) & 1) << 1)
    | (((phash3 >> 6) & 1) << 0),
  id, ((((phash0) | (phash1)) & ~((phash0) & (phash1))) | (((phash2) | (phash3)) & ~((phash2) & (phash3)))) & ~((((phash0) | (phash1)) & ~((phash0) & (phash1))) & (((phash2) | (phash3)) & ~((phash2) & (phash3))))
FROM images WHERE low_detail = 0 AND phash0 IS NOT NULL
UNION ALL
SELECT 15,
    (((phash0 >> 48) & 1) << 15)
    | (((phash0 >> 43) & 1) << 14)
    | (((phash0 >> 22) & 1) << 13)
    | (((phash0 >> 1) & 1) << 12)
    | (((phash1 >> 60) & 1) << 11)
    | (((phash1 >> 39) & 1) << 10)
    | (((phash1 >> 18) & 1) << 9)
    | (((phash1 >> 13) & 1) << 8)
    | (((phash2 >> 56) & 1) << 7)
    | (((phash2 >> 35) & 1) << 6)
    | (((phash2 >> 30) & 1) << 5)
    | (((phash2 >> 9) & 1) << 4)
    | (((phash3 >> 52) & 1) << 3)
    | (((phash3 >> 47) & 1) << 2)
    | (((phash3 >> 26) & 1) << 1)
    | (((phash3 >> 5) & 1) << 0),
  id, ((((phash0) | (phash1)) & ~((phash0) & (phash1))) | (((phash2) | (phash3)) & ~((phash2) & (phash3)))) & ~((((phash0) | (phash1)) & ~((phash0) & (phash1))) & (((phash2) | (phash3)) & ~((phash2) & (phash3))))
FROM images WHERE low_detail = 0 AND phash0 IS NOT NULL;
