import { cpus, totalmem } from 'node:os';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import mysql from 'mysql2/promise';
import { hashFromWords, type PerceptualHash } from '../src/dedupe/perceptual-hash.js';
import { openStore } from '../src/store/open-store.js';
import type { NewJudgedImage, Store } from '../src/store/store.js';
import { realisticHashes, seededRandom, uniformHashes } from '../test/helpers/realistic-hashes.js';

/**
 * The near-duplicate index at scale: loads N perceptual hashes through the store's bulk import into
 * MariaDB/MySQL and SQLite, then, in the same run and on the same table, times lookups at distances
 * 0..15 through the index (findSimilarImages) and through a plain popcount scan (scanSimilarImages),
 * and checks every index answer against a brute-force search in memory (recall must be 100 %).
 *
 *   npx tsx bench/near-duplicate-index.ts                       # 100k and 1M rows, both databases
 *   npx tsx bench/near-duplicate-index.ts --rows 10000000 --backends mysql --scans 2   # by hand
 *   options: --rows 100000,1000000  --backends mysql,sqlite  --data realistic|uniform
 *            --queries 200 (index lookups per distance)  --scans 4 (scan lookups per distance)
 *            --mysql-url mysql://root@127.0.0.1:3306/  --keep (leave the databases behind)
 *            --buffer-pool-mb 4096 (SET GLOBAL innodb_buffer_pool_size first: a server's default
 *            128 MiB holds neither the 1M-row index nor what a production server would give it)
 */

const { values: options } = parseArgs({
  options: {
    rows: { type: 'string', default: '100000,1000000' },
    backends: { type: 'string', default: 'mysql,sqlite' },
    data: { type: 'string', default: 'realistic' },
    queries: { type: 'string', default: '200' },
    scans: { type: 'string', default: '4' },
    'mysql-url': { type: 'string', default: process.env.TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/' },
    keep: { type: 'boolean', default: false },
    'buffer-pool-mb': { type: 'string' },
  },
});

const PROVIDER = 'bench';
const IMPORT_BATCH = 5000;
const MAX_DISTANCE = 15;
/** What the service asks on every new image: DEDUPE_FLAGGED_MAX_DISTANCE and the candidate limit. */
const PRODUCTION_DISTANCE = 12;
const PRODUCTION_LIMIT = 20;

const rowCounts = options.rows.split(',').map(Number);
const backends = options.backends.split(',') as ('mysql' | 'sqlite')[];
const queriesPerDistance = Number(options.queries);
const scansPerDistance = Number(options.scans);

/** Row i gets a made-up sha256 that encodes i, so an answer maps back to the row without a lookup. */
const sha256Of = (row: number) => row.toString(16).padStart(64, '0');
const rowOf = (sha256: string) => parseInt(sha256, 16);

function* hashes(count: number): Generator<PerceptualHash> {
  yield* options.data === 'uniform' ? uniformHashes(count, 1) : realisticHashes(count, 1);
}

/** The data set packed for brute force: eight 32-bit words per hash. */
function packedHashes(count: number): Uint32Array {
  const packed = new Uint32Array(count * 8);
  let row = 0;
  for (const hash of hashes(count)) {
    hash.words.forEach((word, i) => {
      packed[row * 8 + i * 2] = Number(word >> 32n);
      packed[row * 8 + i * 2 + 1] = Number(word & 0xffffffffn);
    });
    row++;
  }
  return packed;
}

function popcount32(v: number): number {
  v -= (v >>> 1) & 0x55555555;
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24) as number;
}

function packOne(hash: PerceptualHash): Uint32Array {
  const words = new Uint32Array(8);
  hash.words.forEach((word, i) => {
    words[i * 2] = Number(word >> 32n);
    words[i * 2 + 1] = Number(word & 0xffffffffn);
  });
  return words;
}

function bruteForce(packed: Uint32Array, query: PerceptualHash, maxDistance: number): Set<number> {
  const q = packOne(query);
  const found = new Set<number>();
  for (let row = 0, offset = 0; offset < packed.length; row++, offset += 8) {
    let distance = 0;
    for (let i = 0; i < 8 && distance <= maxDistance; i++) distance += popcount32((packed[offset + i]! ^ q[i]!) >>> 0);
    if (distance <= maxDistance) found.add(row);
  }
  return found;
}

function hashOfRow(packed: Uint32Array, row: number): PerceptualHash {
  const words = [0, 1, 2, 3].map((i) => (BigInt(packed[row * 8 + i * 2]!) << 32n) | BigInt(packed[row * 8 + i * 2 + 1]!));
  return hashFromWords(words);
}

function flipBits(hash: PerceptualHash, count: number, random: () => number): PerceptualHash {
  const words = [...hash.words];
  const flipped = new Set<number>();
  while (flipped.size < count) flipped.add(Math.floor(random() * 256));
  for (const bit of flipped) words[bit >> 6] = (words[bit >> 6] as bigint) ^ (1n << BigInt(63 - (bit & 63)));
  return hashFromWords(words);
}

type Query = { label: string; distance: number; limit: number; hash: PerceptualHash; expected: Set<number> };

/** Per distance: stored hashes with that many bits flipped (so the nearest answer is that far away). */
function buildQueries(packed: Uint32Array, count: number): Query[] {
  const random = seededRandom(99);
  const queries: Query[] = [];
  for (let distance = 0; distance <= MAX_DISTANCE; distance++) {
    for (let i = 0; i < queriesPerDistance; i++) {
      const hash = flipBits(hashOfRow(packed, Math.floor(random() * count)), distance, random);
      queries.push({ label: String(distance), distance, limit: 1_000_000, hash, expected: bruteForce(packed, hash, distance) });
    }
  }
  // What every new upload costs: a picture never seen before, asked at the production distance and limit.
  let i = 0;
  for (const hash of realisticHashes(queriesPerDistance, 12345)) {
    if (i++ >= queriesPerDistance) break;
    queries.push({ label: `new picture (${PRODUCTION_DISTANCE})`, distance: PRODUCTION_DISTANCE, limit: PRODUCTION_LIMIT, hash, expected: bruteForce(packed, hash, PRODUCTION_DISTANCE) });
  }
  return queries;
}

function judged(row: number, hash: PerceptualHash): NewJudgedImage {
  return {
    sha256: sha256Of(row),
    phash: hash,
    lowDetail: false,
    animated: false,
    width: 1024,
    height: 768,
    format: 'jpeg',
    decision: row % 10 === 0 ? 'flagged' : 'pass',
    reason: row % 10 === 0 ? 'sexual' : 'ok',
    labels: {},
    scores: {},
    provider: PROVIDER,
    sourceUrl: `https://cdn.example.com/uploads/${row}.jpg`,
  };
}

type Database = { url: string; drop(): Promise<void> };

async function createDatabase(backend: 'mysql' | 'sqlite', rows: number): Promise<Database> {
  if (backend === 'sqlite') {
    const folder = mkdtempSync(join(tmpdir(), 'index-bench-'));
    return { url: `sqlite:${join(folder, 'bench.sqlite')}`, drop: async () => (options.keep ? undefined : rmSync(folder, { recursive: true, force: true })) };
  }
  const server = options['mysql-url'].replace(/\/?$/, '/');
  const name = `bench_index_${rows}`;
  const admin = await mysql.createConnection({ uri: server });
  await admin.query(`DROP DATABASE IF EXISTS \`${name}\``);
  await admin.query(`CREATE DATABASE \`${name}\``);
  await admin.end();
  return {
    url: `${server}${name}`,
    drop: async () => {
      if (options.keep) return;
      const connection = await mysql.createConnection({ uri: server });
      await connection.query(`DROP DATABASE IF EXISTS \`${name}\``);
      await connection.end();
    },
  };
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

async function load(store: Store, rows: number, packed: Uint32Array): Promise<{ importPerSecond: number; savePerSecond: number }> {
  const started = performance.now();
  let batch: NewJudgedImage[] = [];
  let row = 0;
  for (const hash of hashes(rows)) {
    batch.push(judged(row++, hash));
    if (batch.length === IMPORT_BATCH) {
      await store.importJudgedImages(batch);
      batch = [];
    }
  }
  if (batch.length > 0) await store.importJudgedImages(batch);
  const importSeconds = (performance.now() - started) / 1000;
  // The request path stores one judgement at a time: time that too, on the loaded table (1000 rows
  // more do not change the lookups' picture).
  const random = seededRandom(7);
  const singles = 1000;
  const singleStarted = performance.now();
  for (let i = 0; i < singles; i++) {
    const hash = flipBits(hashOfRow(packed, i), 20, random);
    await store.saveJudgedImage({ ...judged(rows + i, hash), sha256: `f${sha256Of(rows + i).slice(1)}` });
  }
  const saveSeconds = (performance.now() - singleStarted) / 1000;
  return { importPerSecond: rows / importSeconds, savePerSecond: singles / saveSeconds };
}


async function timed<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const started = performance.now();
  const result = await fn();
  return [performance.now() - started, result];
}

const fmt = (ms: number) => (Number.isNaN(ms) ? '-' : ms < 10 ? ms.toFixed(2) : ms.toFixed(0));

console.log(`Machine: ${cpus().length} x ${cpus()[0]?.model ?? 'unknown'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`);
if (backends.includes('mysql')) {
  const admin = await mysql.createConnection({ uri: options['mysql-url'] });
  if (options['buffer-pool-mb']) await admin.query(`SET GLOBAL innodb_buffer_pool_size = ${Number(options['buffer-pool-mb']) * 2 ** 20}`);
  const [[server]] = (await admin.query('SELECT VERSION() AS version, @@innodb_buffer_pool_size AS pool, @@innodb_flush_log_at_trx_commit AS flush')) as unknown as [
    { version: string; pool: number; flush: number }[],
  ];
  console.log(`MySQL server: ${server?.version}, innodb_buffer_pool_size ${Math.round(Number(server?.pool) / 2 ** 20)} MiB, innodb_flush_log_at_trx_commit ${server?.flush}`);
  await admin.end();
}
console.log(`Data: ${options.data} hashes; ${queriesPerDistance} index lookups and ${scansPerDistance} scans per distance\n`);

for (const rows of rowCounts) {
  const packStarted = performance.now();
  const packed = packedHashes(rows);
  const queries = buildQueries(packed, rows);
  console.log(`== ${rows.toLocaleString('en')} rows (data and ${queries.length} brute-force answers in ${((performance.now() - packStarted) / 1000).toFixed(0)} s)`);

  for (const backend of backends) {
    const database = await createDatabase(backend, rows);
    const store = openStore(database.url, { poolSize: 4 });
    try {
      await store.migrate();
      const { importPerSecond, savePerSecond } = await load(store, rows, packed);
      const sizes = await store.tableSizes();
      const perImage = ((sizes.images ?? 0) + (sizes.image_hash_chunks ?? 0)) / (rows + 1000);
      console.log(
        `\n${backend}: bulk import ${Math.round(importPerSecond).toLocaleString('en')} images/s (${Math.round(importPerSecond * 17).toLocaleString('en')} rows/s with the 16 chunk rows); ` +
          `one at a time (request path) ${Math.round(savePerSecond).toLocaleString('en')} images/s`,
      );
      console.log(
        `storage: images ${(sizes.images! / 2 ** 20).toFixed(0)} MiB, image_hash_chunks ${(sizes.image_hash_chunks! / 2 ** 20).toFixed(0)} MiB = ${Math.round(perImage)} bytes per image`,
      );

      const byLabel = new Map<string, { index: number[]; scan: number[]; candidatesChecked: number; wrong: number; found: number }>();
      const scansDone = new Map<string, number>();
      // Warm the caches the way a running service has them warm.
      for (const query of queries.slice(0, 50)) await store.findSimilarImages(query.hash, query.distance, query.limit, PROVIDER);
      for (const query of queries) {
        const entry = byLabel.get(query.label) ?? { index: [], scan: [], candidatesChecked: 0, wrong: 0, found: 0 };
        byLabel.set(query.label, entry);
        const [indexMs, answer] = await timed(() => store.findSimilarImages(query.hash, query.distance, query.limit, PROVIDER));
        entry.index.push(indexMs);
        const got = new Set(answer.map((image) => rowOf(image.sha256)));
        const expected = query.limit < query.expected.size ? null : query.expected;
        // Recall: every brute-force neighbour is found (when the limit allows all of them), nothing else is.
        if (expected) {
          if (got.size !== expected.size || [...expected].some((row) => !got.has(row))) entry.wrong++;
        } else if ([...got].some((row) => !query.expected.has(row)) || got.size !== query.limit) entry.wrong++;
        entry.found += got.size;
        if ((scansDone.get(query.label) ?? 0) < scansPerDistance) {
          scansDone.set(query.label, (scansDone.get(query.label) ?? 0) + 1);
          const [scanMs, scanned] = await timed(() => store.scanSimilarImages(query.hash, query.distance, query.limit, PROVIDER));
          entry.scan.push(scanMs);
          if (expected && scanned.length !== expected.size) entry.wrong++;
        }
      }

      console.log('\ndistance  lookups  neighbours/lookup  index p50 ms  index p99 ms  scan p50 ms  scan p99 ms  scan p50 / index p99  recall');
      for (const [label, entry] of byLabel) {
        const index = [...entry.index].sort((a, b) => a - b);
        const scan = [...entry.scan].sort((a, b) => a - b);
        console.log(
          [
            label.padEnd(8),
            String(index.length).padStart(7),
            (entry.found / index.length).toFixed(1).padStart(18),
            fmt(percentile(index, 50)).padStart(13),
            fmt(percentile(index, 99)).padStart(13),
            fmt(percentile(scan, 50)).padStart(12),
            fmt(percentile(scan, 99)).padStart(12),
            `${Math.round(percentile(scan, 50) / percentile(index, 99))}x`.padStart(21),
            `${entry.wrong === 0 ? '100%' : `${entry.wrong} WRONG`}`.padStart(7),
          ].join(' '),
        );
      }
      const all = [...byLabel.values()].flatMap((entry) => entry.index).sort((a, b) => a - b);
      console.log(`all lookups: p50 ${fmt(percentile(all, 50))} ms, p99 ${fmt(percentile(all, 99))} ms, max ${fmt(all.at(-1) ?? NaN)} ms`);
    } finally {
      await store.close();
      await database.drop();
    }
  }
  console.log('');
}
