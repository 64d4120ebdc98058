import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import mysql from 'mysql2/promise';
import sharp from 'sharp';
import { startFakeSightengine } from '../test/fakes/fake-sightengine.js';
import { startContentServer } from '../test/helpers/content-server.js';
import { patternImage } from '../test/helpers/images.js';

/**
 * The duplicate-hit path under load: POST /analyse/image for pictures the service has judged before,
 * so every request downloads ~100 KB from a loopback server, hashes the bytes, finds the stored
 * judgement and writes its audit row. The service runs as its own process (the real `src/main.ts`),
 * the load comes from autocannon in this one, the provider is the loopback fake SightEngine (called
 * only while priming).
 *
 *   npx tsx bench/duplicate-hits.ts                    # both databases, 8, 16 and 32 connections, 15 s each
 *   options: --backends sqlite,mysql  --connections 8,16,32  --seconds 15  --images 50
 *            --profile (write a CPU profile of the service and print its top functions)
 *            --mysql-url mysql://root@127.0.0.1:3306/
 */

const { values: options } = parseArgs({
  options: {
    backends: { type: 'string', default: 'sqlite,mysql' },
    connections: { type: 'string', default: '8,16,32' },
    seconds: { type: 'string', default: '15' },
    images: { type: 'string', default: '50' },
    profile: { type: 'boolean', default: false },
    'mysql-url': { type: 'string', default: process.env.TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/' },
  },
});

const imageCount = Number(options.images);

type Service = { child: ChildProcess; origin: string; stop(): Promise<void> };

async function startService(env: Record<string, string>, profileDir: string | null): Promise<Service> {
  const args = [...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []), '--import', 'tsx', 'src/main.ts'];
  const child = spawn(process.execPath, args, {
    // Production logging (one JSON line per request) is part of the request path being measured.
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', PORT: '0', LOG_LEVEL: 'info', LOG_FORMAT: 'json', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let started = false;
  // Keep only the start-up output; afterwards the pipes are drained and dropped.
  child.stdout?.on('data', (chunk) => (started ? undefined : (output += chunk)));
  child.stderr?.on('data', (chunk) => (output += chunk));
  const origin = await new Promise<string>((resolve, reject) => {
    const timer = setInterval(() => {
      const match = /listening on (http:\/\/[^\s"]+)/.exec(output);
      if (match) {
        started = true;
        clearInterval(timer);
        resolve(match[1] as string);
      }
    }, 50);
    child.once('exit', (code) => {
      clearInterval(timer);
      reject(new Error(`service exited with ${code}:\n${output}`));
    });
  });
  return {
    child,
    origin,
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** Resident memory of a process in MiB, from /proc (Linux). */
function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

/** The functions with the most self time in a V8 CPU profile. */
function topFunctions(profilePath: string, count: number): string[] {
  const profile = JSON.parse(readFileSync(profilePath, 'utf8')) as {
    nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number }[];
  };
  const total = profile.nodes.reduce((sum, node) => sum + (node.hitCount ?? 0), 0);
  const byFunction = new Map<string, number>();
  for (const node of profile.nodes) {
    const { functionName, url, lineNumber } = node.callFrame;
    const where = url ? `${url.replace(/^.*\/(node_modules\/)?/, (_m, nm) => (nm ? 'node_modules/' : ''))}:${lineNumber + 1}` : '';
    const key = `${functionName || '(anonymous)'} ${where}`.trim();
    byFunction.set(key, (byFunction.get(key) ?? 0) + (node.hitCount ?? 0));
  }
  return [...byFunction.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([name, hits]) => `${((hits / total) * 100).toFixed(1).padStart(5)} %  ${name}`);
}

async function databaseFor(backend: string): Promise<{ url: string; countLogRows(): Promise<number>; drop(): Promise<void> }> {
  if (backend === 'sqlite') {
    const folder = mkdtempSync(join(tmpdir(), 'duplicate-hits-'));
    const url = `sqlite:${join(folder, 'moderation.sqlite')}`;
    return {
      url,
      countLogRows: async () => {
        const { default: Database } = await import('better-sqlite3');
        const db = new Database(join(folder, 'moderation.sqlite'), { readonly: true });
        const { n } = db.prepare('SELECT COUNT(*) AS n FROM moderation_log').get() as { n: number };
        db.close();
        return n;
      },
      drop: async () => rmSync(folder, { recursive: true, force: true }),
    };
  }
  const server = options['mysql-url'].replace(/\/?$/, '/');
  const name = 'bench_duplicate_hits';
  const admin = await mysql.createConnection({ uri: server });
  await admin.query(`DROP DATABASE IF EXISTS \`${name}\``);
  await admin.query(`CREATE DATABASE \`${name}\``);
  await admin.end();
  return {
    url: `${server}${name}`,
    countLogRows: async () => {
      const connection = await mysql.createConnection({ uri: `${server}${name}` });
      const [[row]] = (await connection.query('SELECT COUNT(*) AS n FROM moderation_log')) as unknown as [{ n: number }[]];
      await connection.end();
      return Number(row?.n);
    },
    drop: async () => {
      const connection = await mysql.createConnection({ uri: server });
      await connection.query(`DROP DATABASE IF EXISTS \`${name}\``);
      await connection.end();
    },
  };
}

// ~100 KB photographs-like JPEGs: smooth shapes plus grain, 1024x768.
async function photo(seed: number): Promise<Buffer> {
  const base = await patternImage(seed, { width: 1024, height: 768, format: 'png' });
  const noise = await sharp({ create: { width: 1024, height: 768, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 16 } } })
    .png()
    .toBuffer();
  return sharp(base).composite([{ input: noise, blend: 'soft-light' }]).jpeg({ quality: 85 }).toBuffer();
}

const content = await startContentServer();
const sightengine = await startFakeSightengine();
const images = await Promise.all(Array.from({ length: imageCount }, (_, i) => photo(1000 + i)));
const urls = images.map((bytes, i) => content.serve(`/uploads/${i}.jpg`, bytes, 'image/jpeg'));
const averageKiB = images.reduce((sum, bytes) => sum + bytes.length, 0) / images.length / 1024;

console.log(`Machine: ${cpus().length} x ${cpus()[0]?.model ?? 'unknown'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`);
console.log(
  `Load: ${options.connections} connections for ${options.seconds} s each, ${imageCount} JPEGs of ${averageKiB.toFixed(0)} KiB on average served from loopback, ` +
    'every request a new URL (a query string), so nothing is shared in flight: each one downloads, hashes and finds the stored judgement.\n',
);
console.log('database  connections  requests  req/s  p50 ms  p90 ms  p99 ms  max ms  non-2xx  errors  log rows  RSS before MiB  peak RSS MiB');

for (const backend of options.backends.split(',')) {
  const database = await databaseFor(backend);
  const profileDir = options.profile ? mkdtempSync(join(tmpdir(), 'duplicate-hits-profile-')) : null;
  const service = await startService(
    {
      DATABASE_URL: database.url,
      IMAGE_PROVIDER: 'sightengine',
      SIGHTENGINE_API_USER: 'fake-user',
      SIGHTENGINE_API_SECRET: 'fake-secret-do-not-log',
      SIGHTENGINE_BASE_URL: sightengine.baseUrl,
      FETCH_ALLOW_PRIVATE: '127.0.0.1/32',
    },
    profileDir,
  );
  try {
    let counter = 0;
    // Prime: each picture judged once by the provider.
    for (const url of urls) {
      const response = await fetch(`${service.origin}/analyse/image`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ url, user_uuid: 'bench-prime' }),
      });
      if (response.status !== 200) throw new Error(`priming ${url}: HTTP ${response.status} ${await response.text()}`);
    }
    for (const connections of options.connections.split(',').map(Number)) {
      const rowsBefore = await database.countLogRows();
      const rssBefore = rssMiB(service.child.pid as number);
      let peakRss = rssBefore;
      const sampler = setInterval(() => (peakRss = Math.max(peakRss, rssMiB(service.child.pid as number))), 200);
      const result = await autocannon({
        url: `${service.origin}/analyse/image`,
        connections,
        duration: Number(options.seconds),
        requests: [
          {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            setupRequest: (request) => {
              const n = counter++;
              return { ...request, body: JSON.stringify({ url: `${urls[n % urls.length]}?n=${n}`, user_uuid: `bench-${n % 97}` }) };
            },
          },
        ],
      });
      clearInterval(sampler);
      const rowsAfter = await database.countLogRows();
      const answered = result['2xx'] + result.non2xx;
      console.log(
        [
          backend.padEnd(8),
          String(connections).padStart(12),
          String(answered).padStart(9),
          Math.round(result.requests.average).toString().padStart(6),
          String(result.latency.p50).padStart(7),
          String(result.latency.p90).padStart(7),
          String(result.latency.p99).padStart(7),
          String(result.latency.max).padStart(7),
          String(result.non2xx).padStart(8),
          String(result.errors + result.timeouts).padStart(7),
          // Every answered request must have left exactly one row (a request cut off by the end of the
          // run may still be writing its row when autocannon stops counting, hence ">=").
          `${rowsAfter - rowsBefore}${rowsAfter - rowsBefore >= answered ? '' : ' MISSING'}`.padStart(9),
          rssBefore.toFixed(0).padStart(15),
          peakRss.toFixed(0).padStart(13),
        ].join(' '),
      );
    }
  } finally {
    await service.stop();
    await database.drop();
  }
  if (profileDir) {
    const file = readdirSync(profileDir).find((name) => name.endsWith('.cpuprofile'));
    if (file) {
      console.log(`\n  ${backend}: top self time in the service (whole run, priming included), profile ${join(profileDir, file)}`);
      for (const line of topFunctions(join(profileDir, file), 15)) console.log(`  ${line}`);
      console.log('');
    }
  }
}

await content.close();
await sightengine.close();
