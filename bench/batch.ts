import { cpus } from 'node:os';
import { createApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { buildDeps } from '../src/deps.js';
import { startFakeSightengine } from '../test/fakes/fake-sightengine.js';
import { startContentServer } from '../test/helpers/content-server.js';
import { createSqliteDatabase } from '../test/helpers/databases.js';
import { patternImage, resizedRecompressed } from '../test/helpers/images.js';

/**
 * Batch wall time against the ideal, and provider calls saved on near-identical images.
 *
 *   npx tsx bench/batch.ts
 *
 * The fake SightEngine answers every call after 200 ms; images come from a loopback server; each
 * run starts on an empty SQLite store so nothing is answered from earlier runs.
 */

const PROVIDER_MS = 200;
const IMAGES = 50;

const content = await startContentServer();
const fake = await startFakeSightengine();
fake.setLatency(() => PROVIDER_MS);
let seed = 5000;
const photo = () => patternImage(seed++, { width: 800, height: 600 });

async function runBatch(urls: string[], maxConcurrent: number) {
  const database = await createSqliteDatabase();
  const deps = await buildDeps(
    loadConfig({
      LOG_LEVEL: 'error',
      DATABASE_URL: database.url,
      SIGHTENGINE_API_USER: fake.apiUser,
      SIGHTENGINE_API_SECRET: fake.apiSecret,
      SIGHTENGINE_BASE_URL: fake.baseUrl,
      FETCH_ALLOW_PRIVATE: '127.0.0.1/32',
    }),
  );
  const callsBefore = fake.callCount;
  const started = performance.now();
  const response = await createApp(deps).request('/analyse/images/batch', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ images: urls.map((url) => ({ url, user_uuid: 'bench' })), max_concurrent: maxConcurrent }),
  });
  const body = (await response.json()) as { processed: number; results: { source?: string }[] };
  const wallMs = performance.now() - started;
  await deps.close();
  await database.drop();
  return { wallMs, processed: body.processed, calls: fake.callCount - callsBefore, sources: body.results.map((r) => r.source) };
}

console.log(`Machine: ${cpus()[0]?.model ?? 'unknown'}, ${cpus().length} cores, Node ${process.version}`);
console.log(`Fake provider latency ${PROVIDER_MS} ms; ${IMAGES} distinct 800x600 JPEGs from loopback; fresh SQLite store per run\n`);

console.log('max_concurrent  wall ms  ideal ms  overhead  provider calls');
for (const maxConcurrent of [1, 5, 10]) {
  const urls = await Promise.all(Array.from({ length: IMAGES }, async (_, i) => content.serve(`/c${maxConcurrent}/${i}.jpg`, await photo())));
  const run = await runBatch(urls, maxConcurrent);
  const ideal = Math.ceil(IMAGES / maxConcurrent) * PROVIDER_MS;
  console.log(
    [
      String(maxConcurrent).padStart(14),
      run.wallMs.toFixed(0).padStart(8),
      String(ideal).padStart(9),
      `${((run.wallMs / ideal - 1) * 100).toFixed(1)}%`.padStart(9),
      String(run.calls).padStart(15),
    ].join(' '),
  );
}

console.log('\nHalf of the batch are re-encoded copies (70% size, JPEG q70) of the other half:');
console.log('order                      max_concurrent  provider calls  cache_near  wall ms');
const originals = await Promise.all(Array.from({ length: IMAGES / 2 }, () => photo()));
const copies = await Promise.all(originals.map((image) => resizedRecompressed(image)));
const orders: [string, Buffer[]][] = [
  ['originals, then copies', [...originals, ...copies]],
  ['each copy after its original', originals.flatMap((image, i) => [image, copies[i] as Buffer])],
];
for (const [label, images] of orders) {
  for (const maxConcurrent of [5, 10]) {
    const urls = images.map((image, i) => content.serve(`/half/${label.length}-${maxConcurrent}-${i}.jpg`, image));
    const run = await runBatch(urls, maxConcurrent);
    const near = run.sources.filter((source) => source === 'cache_near').length;
    console.log(`${label.padEnd(26)} ${String(maxConcurrent).padStart(14)} ${String(run.calls).padStart(15)} ${String(near).padStart(11)} ${run.wallMs.toFixed(0).padStart(8)}`);
  }
}

await fake.close();
await content.close();
