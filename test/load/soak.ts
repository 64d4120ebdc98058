import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Agent, request } from 'undici';
import { childrenOf, mediaChildrenOf, residentMiB, socketsOf, type SocketInfo } from './process-probes.js';
import { endpointPaths, endpoints, startSoakContent, type Endpoint, type PlannedRequest } from './soak-content.js';
import type { SoakDatabase } from './soak-databases.js';
import { defaultFaultRates, startSoakProviders, type FaultKind, type FaultRates } from './soak-providers.js';

/**
 * The load and soak harness. It runs the service as a user does (`node --import tsx src/main.ts`,
 * its own process), with both paid providers as loopback fakes that inject errors, 429s, resets and
 * timeouts, and a loopback web server for the content. Many concurrent clients send rounds of
 * requests over the four /analyse endpoints; optionally the database server is stopped and started
 * again in the middle of one round, under load. Afterwards it checks the invariants:
 *
 * - no unexpected answers: no 5xx other than 503 `database_unavailable` while the database is
 *   away, no failed connections, and every request for servable content answered 200;
 * - exactly one moderation_log row per request id the service handed out, and no other rows
 *   (waiting, within a bound, for rows spooled during an outage to be replayed);
 * - memory flat across rounds (see `memoryIsFlat`);
 * - no ffmpeg/ffprobe process, socket or temporary file left behind once the traffic stops.
 *
 * Everything is on 127.0.0.1, and bounded by the number of rounds and requests.
 */

export type SoakOptions = {
  database: SoakDatabase;
  rounds: number;
  requestsPerRound: number;
  /** Clients sending at the same time. */
  concurrency: number;
  seed?: number;
  faults?: FaultRates;
  /** In this round (1-based), after half its requests, the database server is stopped for `outageMs` under load, then started again. */
  databaseRestart?: { round: number; outageMs: number } | null;
  newImagesPerRound?: number;
  newVideosPerRound?: number;
  /** Extra settings for the service. */
  serviceEnv?: Record<string, string>;
  /** Progress lines. */
  log?: (line: string) => void;
};

type Phase = 'normal' | 'outage';

type ItemOutcome = { url: string; ok: boolean; code?: string; decision?: string };

export type RequestRecord = {
  round: number;
  endpoint: Endpoint;
  kind: string;
  body: unknown;
  status: number;
  code?: string;
  decision?: string;
  source?: string;
  items?: ItemOutcome[];
  /** The ids that must each have exactly one moderation_log row. */
  logIds: string[];
  clientError?: string;
  startedAt: number;
  endedAt: number;
  /** Sent while the database was away or recovering (see SoakReport.outage). */
  phase: Phase;
};

export type RoundFigures = {
  round: number;
  requests: number;
  seconds: number;
  rssEndMiB: number;
  rssPeakMiB: number;
  /** V8 heap in use and memory held outside it (Buffers), from the service's /metrics after the round: tells a JavaScript leak from allocator growth. */
  heapUsedMiB: number | null;
  externalMiB: number | null;
  mediaChildrenPeak: number;
};

export type Invariant = { name: string; ok: boolean; detail: string };

export type SoakReport = {
  database: string;
  options: { rounds: number; requestsPerRound: number; concurrency: number; seed: number; faults: FaultRates; databaseRestart: SoakOptions['databaseRestart'] };
  requests: RequestRecord[];
  /** Latencies of the requests outside the outage window (its refusals are fast and would hide the rest). */
  perEndpoint: Record<Endpoint, { requests: number; inOutage: number; p50: number; p99: number; max: number }>;
  /** "endpoint status code-or-decision" -> count; batch items counted separately as "batch item …". */
  outcomes: Map<string, number>;
  injected: { sightengine: Record<FaultKind, number>; gemini: Record<FaultKind, number> };
  providerCalls: { sightengine: number; gemini: number };
  rounds: RoundFigures[];
  peakRssMiB: number;
  outage: { stoppedAt: number; startedAt: number; recoveredAt: number; requests: number; databaseUnavailable: number; recoverySeconds: number } | null;
  logRows: { expected: number; rows: number; missing: string[]; duplicated: string[]; unknown: string[]; waitSeconds: number };
  leaks: {
    mediaChildren: string[];
    otherChildren: string[];
    sockets: { listen: number; database: number; otherTcp: string[]; other: number; baselineOther: number; databaseAllowance: number };
    tempFiles: string[];
    settleSeconds: number;
  };
  /** From the service's /metrics once the traffic has stopped: counters summed over their labels. */
  serviceMetrics: Record<(typeof reportedMetrics)[number], number | null>;
  exitCode: number | null;
  unexpected: string[];
  invariants: Invariant[];
};

const memoryMetrics = ['nodejs_heap_size_used_bytes', 'nodejs_external_memory_bytes'] as const;

const reportedMetrics = [
  'moderation_provider_retries_total',
  'moderation_provider_errors_total',
  'moderation_provider_circuit_rejections_total',
  'moderation_audit_spooled_rows_total',
  'moderation_audit_replayed_rows_total',
  'moderation_audit_spool_rows',
] as const;

/** Each metric's samples summed over their labels; null for a metric the service does not export. */
function sumMetrics(text: string, names: readonly string[]): Record<string, number | null> {
  const sums: Record<string, number | null> = Object.fromEntries(names.map((name) => [name, null]));
  for (const line of text.split('\n')) {
    // A labelled counter has no samples until its first increment: exported, but still 0.
    const declared = /^# TYPE ([a-z_]+) /.exec(line)?.[1];
    if (declared !== undefined && declared in sums) sums[declared] ??= 0;
    const match = /^([a-z_]+)(?:\{[^}]*\})? (\S+)$/.exec(line);
    if (match && match[1] !== undefined && match[1] in sums) sums[match[1]] = (sums[match[1]] ?? 0) + Number(match[2]);
  }
  return sums;
}

async function scrapeMetrics(origin: string, agent: Agent): Promise<string> {
  const response = await request(`${origin}/metrics`, { dispatcher: agent });
  return response.body.text();
}

const repositoryRoot = fileURLToPath(new URL('../..', import.meta.url));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no free port');
  return address.port;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

/**
 * Memory is flat when the resident size after the last round is at most 25 % or 96 MiB (whichever
 * is more) above the size after round 2. Round 1 is a warm-up: code is compiled, caches, pools and
 * the allocator's arenas fill. The absolute allowance is one garbage-collection cycle: under this
 * traffic V8's heap grows by up to ~80 MiB before a full collection brings it back (measured over
 * 14 rounds: heap in use between 98 and 174 MiB, resident size levelling off near 370 MiB), so a
 * run that ends just before a collection is not a leak. A leak keeps growing past it: over a long
 * run, a few dozen KB per request.
 */
export function memoryIsFlat(rounds: RoundFigures[]): { ok: boolean; detail: string } {
  if (rounds.length < 3) return { ok: true, detail: 'n/a: needs 3 rounds (one warm-up, a reference, a last)' };
  const reference = rounds[1]?.rssEndMiB as number;
  const last = rounds[rounds.length - 1]?.rssEndMiB as number;
  const limit = Math.max(reference * 1.25, reference + 96);
  const heap = (round: RoundFigures | undefined) => (round?.heapUsedMiB == null ? 'n/a' : `${round.heapUsedMiB.toFixed(0)} MiB`);
  return {
    ok: last <= limit,
    detail:
      `resident after round ${rounds.length} ${last.toFixed(0)} MiB, limit ${limit.toFixed(0)} MiB (round 2: ${reference.toFixed(0)} MiB); ` +
      `V8 heap in use ${heap(rounds[1])} -> ${heap(rounds[rounds.length - 1])}`,
  };
}

type Service = { child: ChildProcess; pid: number; origin: string; port: number; outputTail(): string };

async function startService(env: Record<string, string>, agent: Agent): Promise<Service> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: repositoryRoot,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', HOST: '127.0.0.1', PORT: String(port), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // Whatever happens to the harness, the service does not outlive it.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  child.once('exit', () => process.off('exit', killOnExit));
  let tail = '';
  const keep = (chunk: Buffer) => {
    tail = (tail + chunk.toString()).slice(-20_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const origin = `http://127.0.0.1:${port}`;
  const started = Date.now();
  // Ready when /readyz says so: the database is reachable and migrated.
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`the service exited during start-up:\n${tail}`);
    try {
      const response = await request(`${origin}/readyz`, { dispatcher: agent });
      await response.body.dump();
      if (response.statusCode === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() - started > 120_000) {
      child.kill('SIGKILL');
      throw new Error(`the service was not ready within 120 s:\n${tail}`);
    }
    await sleep(100);
  }
  return { child, pid: child.pid as number, origin, port, outputTail: () => tail };
}

async function readyzOk(origin: string, agent: Agent): Promise<boolean> {
  try {
    const response = await request(`${origin}/readyz`, { dispatcher: agent });
    await response.body.dump();
    return response.statusCode === 200;
  } catch {
    return false;
  }
}

async function stopService(service: Service): Promise<number | null> {
  if (service.child.exitCode !== null || service.child.signalCode !== null) return service.child.exitCode;
  const exited = new Promise<number | null>((resolve) => service.child.once('exit', (code) => resolve(code)));
  service.child.kill('SIGTERM');
  const timer = setTimeout(() => service.child.kill('SIGKILL'), 20_000);
  const code = await exited;
  clearTimeout(timer);
  return code;
}

/** Sends one planned request and records what came back. */
async function send(origin: string, agent: Agent, planned: PlannedRequest, round: number): Promise<RequestRecord> {
  const startedAt = performance.now();
  const base = { round, endpoint: planned.endpoint, kind: planned.kind, body: planned.body, startedAt, phase: 'normal' as Phase };
  try {
    const response = await request(origin + endpointPaths[planned.endpoint], {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(planned.body),
      dispatcher: agent,
    });
    const text = await response.body.text();
    const endedAt = performance.now();
    let body: Record<string, any> = {};
    try {
      body = JSON.parse(text) as Record<string, any>;
    } catch {
      return { ...base, status: response.statusCode, clientError: `not JSON: ${text.slice(0, 200)}`, logIds: [], endedAt };
    }
    const status = response.statusCode;
    if (status === 200 && planned.endpoint === 'batch') {
      const results = (body.results ?? []) as Record<string, any>[];
      return {
        ...base,
        status,
        logIds: results.map((item) => String(item.request_id)),
        items: results.map((item) => ({
          url: String(item.url),
          ok: item.status === 'success',
          ...(item.status === 'success' ? { decision: String(item.decision) } : { code: String(item.error?.code) }),
        })),
        endedAt,
      };
    }
    // Every other answer, error bodies included, carries the id of its moderation_log row.
    const id = body.request_id ?? response.headers['x-request-id'];
    return {
      ...base,
      status,
      ...(status === 200 ? { decision: String(body.decision), source: String(body.source) } : { code: String(body.code) }),
      logIds: id ? [String(id)] : [],
      ...(body.request_id ? {} : { clientError: 'answer without request_id' }),
      endedAt,
    };
  } catch (error) {
    return { ...base, status: 0, clientError: (error as Error).message, logIds: [], endedAt: performance.now() };
  }
}

const badUrlPattern = /\/missing\.|\/corrupt\.|\/notes\.txt|\/reset\.jpg|10\.255\.255\.1/;
const serverErrorCodes = new Set(['internal_error', 'audit_unavailable', 'overloaded', 'database_unavailable']);

/** Why a request's answer was not one the service may give, or null when it was. */
function unexpectedAnswer(record: RequestRecord): string | null {
  const expectedOutage = (code: string | undefined) => code === 'database_unavailable' && record.phase === 'outage';
  if (record.clientError) return `client: ${record.clientError}`;
  if (record.status >= 500) return expectedOutage(record.code) ? null : `HTTP ${record.status} ${record.code}`;
  if (record.endpoint === 'batch' && record.status === 200) {
    for (const item of record.items ?? []) {
      if (item.ok) continue;
      if (serverErrorCodes.has(item.code ?? '') && !expectedOutage(item.code)) return `batch item ${item.code}`;
      if (!serverErrorCodes.has(item.code ?? '') && !badUrlPattern.test(item.url)) return `batch item for servable content: ${item.code}`;
    }
    return null;
  }
  const url = (record.body as { url?: string }).url;
  if (record.status !== 200 && record.endpoint !== 'text' && url && !badUrlPattern.test(url)) return `HTTP ${record.status} ${record.code} for servable content`;
  if (record.status !== 200 && record.endpoint === 'text') return `HTTP ${record.status} ${record.code} for a valid message`;
  return null;
}

function outcomeKey(record: RequestRecord): string {
  if (record.clientError) return `${record.endpoint} client error`;
  return `${record.endpoint} ${record.status} ${record.status === 200 ? (record.endpoint === 'batch' ? 'ok' : `${record.decision}${record.source === 'error' ? ' (provider failed)' : ''}`) : record.code}`;
}

export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const log = options.log ?? (() => undefined);
  const seed = options.seed ?? 1;
  const faults = options.faults ?? defaultFaultRates;
  const restart = options.databaseRestart ?? null;
  if (restart && !options.database.server) throw new Error(`a database restart needs a server the harness controls; ${options.database.name} has none`);
  const database = options.database;
  const poolSize = Number(options.serviceEnv?.DATABASE_POOL_SIZE ?? 10);

  const workFolder = mkdtempSync(join(tmpdir(), 'soak-run-'));
  const videoTempDir = join(workFolder, 'video-tmp');
  mkdirSync(videoTempDir);
  const providers = await startSoakProviders({ seed, faults });
  const content = await startSoakContent({ seed, newImagesPerRound: options.newImagesPerRound ?? 12, newVideosPerRound: options.newVideosPerRound ?? 2 });
  const agent = new Agent({ keepAliveTimeout: 4_000, headersTimeout: 180_000, bodyTimeout: 180_000, connections: options.concurrency + 4 });
  let service: Service | null = null;
  let sampler: NodeJS.Timeout | undefined;

  try {
    await content.prepareRound(0);
    service = await startService(
      {
        DATABASE_URL: database.url,
        DATABASE_POOL_SIZE: String(poolSize),
        LOG_LEVEL: 'warn',
        LOG_FORMAT: 'json',
        FETCH_ALLOW_PRIVATE: '127.0.0.1/32',
        VIDEO_TEMP_DIR: videoTempDir,
        VIDEO_SAMPLE_INTERVAL_S: '1',
        AUDIT_SPOOL_PATH: join(workFolder, 'audit-spool.jsonl'),
        // Room for every client's batch items in the queue: load shedding is not under test here.
        MAX_QUEUED_ANALYSES: String(options.concurrency * 10 + 100),
        ...providers.serviceEnv,
        ...options.serviceEnv,
      },
      agent,
    );
    const running = service;
    log(`service pid ${running.pid} on ${running.origin}, database ${database.name}`);
    await sleep(500);
    const baselineOther = socketsOf(running.pid).filter((socket) => socket.kind === 'other').length;

    // Memory and ffmpeg processes, sampled throughout.
    let roundPeakRss = 0;
    let roundPeakMedia = 0;
    let peakRss = 0;
    sampler = setInterval(() => {
      const rss = residentMiB(running.pid) ?? 0;
      const media = mediaChildrenOf(running.pid).length;
      roundPeakRss = Math.max(roundPeakRss, rss);
      peakRss = Math.max(peakRss, rss);
      roundPeakMedia = Math.max(roundPeakMedia, media);
    }, 250);

    const records: RequestRecord[] = [];
    const rounds: RoundFigures[] = [];
    let outageWindow: { stoppedAt: number; startedAt: number; recoveredAt: number } | null = null;

    /** `count` requests from `concurrency` clients, each sending its next request as soon as the last is answered. */
    async function traffic(count: number, round: number): Promise<void> {
      let issued = 0;
      await Promise.all(
        Array.from({ length: options.concurrency }, async () => {
          while (issued < count) {
            issued++;
            records.push(await send(running.origin, agent, content.next(), round));
          }
        }),
      );
    }

    /** Traffic at a slower pace until `done` resolves: refusals are fast, and the point is the outage, not their number. */
    async function pacedTraffic(done: Promise<unknown>, round: number): Promise<void> {
      let finished = false;
      void done.finally(() => (finished = true));
      await Promise.all(
        Array.from({ length: options.concurrency }, async () => {
          while (!finished) {
            records.push(await send(running.origin, agent, content.next(), round));
            await sleep(100);
          }
        }),
      );
    }

    async function databaseOutage(round: number): Promise<void> {
      const server = database.server as NonNullable<SoakDatabase['server']>;
      const outage = (async () => {
        const stoppedAt = performance.now();
        log(`round ${round}: stopping the database`);
        await server.stop();
        await sleep(restart?.outageMs ?? 3000);
        log('starting the database');
        const startedAt = performance.now();
        await server.start();
        // Recovered once the service says it is ready again, bounded: a service that never recovers fails the run.
        const deadline = Date.now() + 120_000;
        while (!(await readyzOk(running.origin, agent))) {
          if (Date.now() > deadline) throw new Error(`the service was not ready 120 s after the database came back:\n${running.outputTail()}`);
          await sleep(100);
        }
        outageWindow = { stoppedAt, startedAt, recoveredAt: performance.now() };
        log(`service ready again ${((outageWindow.recoveredAt - startedAt) / 1000).toFixed(1)} s after the database started`);
      })();
      await Promise.all([outage, pacedTraffic(outage, round)]);
    }

    for (let round = 1; round <= options.rounds; round++) {
      await content.prepareRound(round);
      providers.forgetRequests();
      roundPeakRss = residentMiB(running.pid) ?? 0;
      roundPeakMedia = 0;
      const before = records.length;
      const started = performance.now();
      if (restart?.round === round) {
        const half = Math.floor(options.requestsPerRound / 2);
        await traffic(half, round);
        await databaseOutage(round);
        await traffic(options.requestsPerRound - half, round);
      } else {
        await traffic(options.requestsPerRound, round);
      }
      const seconds = (performance.now() - started) / 1000;
      // The level after the round, once the work it started has finished.
      await sleep(1000);
      const memory = sumMetrics(await scrapeMetrics(running.origin, agent), memoryMetrics);
      const mib = (bytes: number | null) => (bytes === null ? null : bytes / 2 ** 20);
      const figures: RoundFigures = {
        round,
        requests: records.length - before,
        seconds,
        rssEndMiB: residentMiB(running.pid) ?? 0,
        rssPeakMiB: roundPeakRss,
        heapUsedMiB: mib(memory.nodejs_heap_size_used_bytes ?? null),
        externalMiB: mib(memory.nodejs_external_memory_bytes ?? null),
        mediaChildrenPeak: roundPeakMedia,
      };
      rounds.push(figures);
      log(`round ${round}: ${figures.requests} requests in ${seconds.toFixed(1)} s, RSS ${figures.rssEndMiB.toFixed(0)} MiB (peak ${figures.rssPeakMiB.toFixed(0)})`);
    }
    clearInterval(sampler);
    sampler = undefined;

    // The harness's own connections go first, so what remains is the service's.
    await agent.close();

    const window = outageWindow as { stoppedAt: number; startedAt: number; recoveredAt: number } | null;
    for (const record of records) {
      if (window && record.startedAt < window.recoveredAt && record.endedAt > window.stoppedAt) record.phase = 'outage';
    }

    // Every id handed out has its row, once; rows spooled during the outage may still be replaying.
    const expectedIds = new Set(records.flatMap((record) => record.logIds));
    const waitStarted = performance.now();
    let rowsById = await database.logRowsByRequestId();
    while ([...expectedIds].some((id) => !rowsById.has(id)) && performance.now() - waitStarted < 120_000) {
      await sleep(500);
      rowsById = await database.logRowsByRequestId();
    }
    const logRows = {
      expected: expectedIds.size,
      rows: [...rowsById.values()].reduce((sum, n) => sum + n, 0),
      missing: [...expectedIds].filter((id) => !rowsById.has(id)),
      duplicated: [...rowsById].filter(([, n]) => n > 1).map(([id, n]) => `${id} x${n}`),
      unknown: [...rowsById.keys()].filter((id) => !expectedIds.has(id)),
      waitSeconds: (performance.now() - waitStarted) / 1000,
    };

    // The counters once the spool is empty (its last replayed batch is counted after it is stored).
    const metricsAgent = new Agent();
    let serviceMetrics = sumMetrics(await scrapeMetrics(running.origin, metricsAgent), reportedMetrics) as SoakReport['serviceMetrics'];
    while ((serviceMetrics.moderation_audit_spool_rows ?? 0) > 0 && performance.now() - waitStarted < 150_000) {
      await sleep(500);
      serviceMetrics = sumMetrics(await scrapeMetrics(running.origin, metricsAgent), reportedMetrics) as SoakReport['serviceMetrics'];
    }
    await metricsAgent.close();

    // Leaks: wait (bounded) for idle keep-alive connections to time out and for clean-up to finish.
    const databasePort = database.url.startsWith('sqlite:') ? null : Number(new URL(database.url).port || 3306);
    const settleStarted = performance.now();
    const leakState = () => {
      const sockets = socketsOf(running.pid);
      const tcp = sockets.filter((socket): socket is Extract<SocketInfo, { kind: 'tcp' }> => socket.kind === 'tcp');
      const listen = tcp.filter((socket) => socket.state === 'LISTEN').length;
      const toDatabase = tcp.filter((socket) => socket.state !== 'LISTEN' && socket.remotePort === databasePort).length;
      const otherTcp = tcp
        .filter((socket) => socket.state !== 'LISTEN' && socket.remotePort !== databasePort)
        .map((socket) => `${socket.state} :${socket.localPort} -> :${socket.remotePort}`);
      const other = sockets.length - tcp.length;
      const children = childrenOf(running.pid);
      const mediaChildren = children.filter((child) => /ff(mpeg|probe)/.test(child.command)).map((child) => `${child.command} (pid ${child.pid})`);
      const otherChildren = children.filter((child) => !/ff(mpeg|probe)/.test(child.command)).map((child) => `${child.command} (pid ${child.pid})`);
      const tempFiles = existsSync(videoTempDir) ? readdirSync(videoTempDir) : [];
      return { listen, toDatabase, otherTcp, other, mediaChildren, otherChildren, tempFiles };
    };
    const clean = (state: ReturnType<typeof leakState>) =>
      state.otherTcp.length === 0 && state.toDatabase <= poolSize + 1 && state.other <= baselineOther + 2 && state.mediaChildren.length === 0 && state.tempFiles.length === 0;
    let state = leakState();
    while (!clean(state) && performance.now() - settleStarted < 30_000) {
      await sleep(250);
      state = leakState();
    }
    const leaks = {
      mediaChildren: state.mediaChildren,
      otherChildren: state.otherChildren,
      sockets: { listen: state.listen, database: state.toDatabase, otherTcp: state.otherTcp, other: state.other, baselineOther, databaseAllowance: poolSize + 1 },
      tempFiles: state.tempFiles,
      settleSeconds: (performance.now() - settleStarted) / 1000,
    };

    const exitCode = await stopService(running);
    service = null;

    // Figures.
    const perEndpoint = Object.fromEntries(
      endpoints.map((endpoint) => {
        const sent = records.filter((record) => record.endpoint === endpoint);
        const latencies = sent
          .filter((record) => record.phase === 'normal')
          .map((record) => record.endedAt - record.startedAt)
          .sort((a, b) => a - b);
        const figures = { requests: sent.length, inOutage: sent.length - latencies.length, p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: latencies[latencies.length - 1] ?? 0 };
        return [endpoint, figures];
      }),
    ) as SoakReport['perEndpoint'];
    const outcomes = new Map<string, number>();
    const count = (key: string) => outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
    for (const record of records) {
      count(outcomeKey(record));
      for (const item of record.items ?? []) count(`batch item ${item.ok ? item.decision : item.code}`);
    }
    const unexpected = records
      .map((record) => ({ record, why: unexpectedAnswer(record) }))
      .filter((entry) => entry.why !== null)
      .map(({ record, why }) => `${why}: round ${record.round} ${record.endpoint} (${record.kind}) ${JSON.stringify(record.body).slice(0, 160)}`);
    const outageRecords = records.filter((record) => record.phase === 'outage');
    const outage = window
      ? {
          ...window,
          requests: outageRecords.length,
          databaseUnavailable: outageRecords.filter((record) => record.code === 'database_unavailable').length,
          recoverySeconds: (window.recoveredAt - window.startedAt) / 1000,
        }
      : null;

    const memory = memoryIsFlat(rounds);
    const invariants: Invariant[] = [
      { name: 'no unexpected answers (5xx, failed connections, errors for servable content)', ok: unexpected.length === 0, detail: unexpected.length === 0 ? `${records.length} requests` : `${unexpected.length}: ${unexpected.slice(0, 10).join('; ')}` },
      {
        name: 'exactly one moderation_log row per request id',
        ok: logRows.missing.length === 0 && logRows.duplicated.length === 0,
        detail: `${logRows.expected} ids, ${logRows.rows} rows, missing ${logRows.missing.length}${logRows.missing.length ? ` (${logRows.missing.slice(0, 5).join(', ')})` : ''}, duplicated ${logRows.duplicated.length}${logRows.duplicated.length ? ` (${logRows.duplicated.slice(0, 5).join(', ')})` : ''}`,
      },
      { name: 'no moderation_log rows for unknown request ids', ok: logRows.unknown.length === 0, detail: `${logRows.unknown.length}${logRows.unknown.length ? `: ${logRows.unknown.slice(0, 5).join(', ')}` : ''}` },
      { name: 'memory flat across rounds', ok: memory.ok, detail: memory.detail },
      { name: 'no leaked ffmpeg/ffprobe processes', ok: leaks.mediaChildren.length === 0, detail: leaks.mediaChildren.join(', ') || 'none' },
      {
        name: 'no leaked sockets',
        ok: leaks.sockets.otherTcp.length === 0 && leaks.sockets.database <= leaks.sockets.databaseAllowance && leaks.sockets.other <= baselineOther + 2,
        detail: `listening ${leaks.sockets.listen}, to the database ${leaks.sockets.database} (pool allows ${leaks.sockets.databaseAllowance}), other TCP ${leaks.sockets.otherTcp.length}${leaks.sockets.otherTcp.length ? ` (${leaks.sockets.otherTcp.slice(0, 5).join(', ')})` : ''}, non-TCP ${leaks.sockets.other} (at start ${baselineOther})`,
      },
      { name: 'no temporary files left in VIDEO_TEMP_DIR', ok: leaks.tempFiles.length === 0, detail: leaks.tempFiles.join(', ') || 'none' },
      { name: 'clean shutdown afterwards (exit 0)', ok: exitCode === 0, detail: `exit code ${exitCode}` },
    ];
    const spoolLeft = serviceMetrics.moderation_audit_spool_rows;
    if (spoolLeft !== null) invariants.push({ name: 'audit spool drained', ok: spoolLeft === 0, detail: `${spoolLeft} rows waiting` });
    if (restart) {
      invariants.push({
        name: 'the outage was seen: 503 database_unavailable while the database was away',
        ok: (outage?.databaseUnavailable ?? 0) > 0,
        detail: outage ? `${outage.databaseUnavailable} of ${outage.requests} requests in the outage window` : 'no outage happened',
      });
    }

    return {
      database: database.name,
      options: { rounds: options.rounds, requestsPerRound: options.requestsPerRound, concurrency: options.concurrency, seed, faults, databaseRestart: restart },
      requests: records,
      perEndpoint,
      outcomes,
      injected: providers.injected,
      providerCalls: { sightengine: providers.sightengine.callCount, gemini: providers.gemini.callCount },
      rounds,
      peakRssMiB: peakRss,
      outage,
      logRows,
      leaks,
      serviceMetrics,
      exitCode,
      unexpected,
      invariants,
    };
  } finally {
    if (sampler) clearInterval(sampler);
    if (service) service.child.kill('SIGKILL');
    await agent.destroy().catch(() => undefined);
    await content.close();
    await providers.close();
    rmSync(workFolder, { recursive: true, force: true });
  }
}

const pad = (value: string | number, width: number) => String(value).padStart(width);

/** The figures as plain-text tables. */
export function formatSoakReport(report: SoakReport): string {
  const { options } = report;
  const lines: string[] = [];
  const faults = Object.entries(options.faults)
    .map(([kind, rate]) => `${kind} ${(rate * 100).toFixed(0)} %`)
    .join(', ');
  lines.push(
    `Soak on ${report.database}: ${options.rounds} rounds x ${options.requestsPerRound} requests, ${options.concurrency} clients, seed ${options.seed}; ` +
      `provider faults per call: ${faults}` +
      (options.databaseRestart ? `; database stopped for ${(options.databaseRestart.outageMs / 1000).toFixed(0)} s in round ${options.databaseRestart.round}` : ''),
  );
  lines.push('', 'endpoint   requests   in outage   p50 ms   p99 ms   max ms   (latency outside the outage window)');
  for (const endpoint of endpoints) {
    const figures = report.perEndpoint[endpoint];
    lines.push(
      `${endpoint.padEnd(9)} ${pad(figures.requests, 9)} ${pad(figures.inOutage, 11)} ${pad(figures.p50.toFixed(0), 8)} ${pad(figures.p99.toFixed(0), 8)} ${pad(figures.max.toFixed(0), 8)}`,
    );
  }
  lines.push('', 'injected faults   calls   normal   5xx   429   reset   timeout');
  for (const provider of ['sightengine', 'gemini'] as const) {
    const injected = report.injected[provider];
    lines.push(
      `${provider.padEnd(16)} ${pad(report.providerCalls[provider], 6)} ${pad(injected.none, 8)} ${pad(injected.serverError, 5)} ${pad(injected.rateLimited, 5)} ${pad(injected.reset, 7)} ${pad(injected.timeout, 9)}`,
    );
  }
  lines.push('', 'outcomes (endpoint, status, decision or code)');
  for (const [key, count] of [...report.outcomes].sort(([a], [b]) => a.localeCompare(b))) lines.push(`  ${key.padEnd(48)} ${pad(count, 6)}`);
  if (report.outage) {
    lines.push(
      '',
      `database outage: ${report.outage.requests} requests in the window, ${report.outage.databaseUnavailable} answered 503 database_unavailable; ` +
        `ready again ${report.outage.recoverySeconds.toFixed(1)} s after the database started`,
    );
  }
  lines.push('', 'round   requests   seconds   RSS after MiB   peak RSS MiB   heap used MiB   external MiB   ffmpeg/ffprobe peak');
  const orNa = (value: number | null) => (value === null ? 'n/a' : value.toFixed(0));
  for (const round of report.rounds) {
    lines.push(
      `${pad(round.round, 5)} ${pad(round.requests, 10)} ${pad(round.seconds.toFixed(1), 9)} ${pad(round.rssEndMiB.toFixed(0), 15)} ${pad(round.rssPeakMiB.toFixed(0), 14)} ` +
        `${pad(orNa(round.heapUsedMiB), 15)} ${pad(orNa(round.externalMiB), 14)} ${pad(round.mediaChildrenPeak, 21)}`,
    );
  }
  lines.push(`peak RSS ${report.peakRssMiB.toFixed(0)} MiB`);
  const rows = report.logRows;
  lines.push(
    '',
    `moderation_log: ${rows.expected} request ids handed out, ${rows.rows} rows; missing ${rows.missing.length}, duplicated ${rows.duplicated.length}, unknown ${rows.unknown.length} ` +
      `(all present ${rows.waitSeconds.toFixed(1)} s after the traffic stopped)`,
  );
  const metric = (name: (typeof reportedMetrics)[number]) => report.serviceMetrics[name] ?? 'n/a';
  lines.push(
    `service metrics: provider retries ${metric('moderation_provider_retries_total')}, provider errors ${metric('moderation_provider_errors_total')}, ` +
      `circuit rejections ${metric('moderation_provider_circuit_rejections_total')}; audit rows spooled ${metric('moderation_audit_spooled_rows_total')}, ` +
      `replayed ${metric('moderation_audit_replayed_rows_total')}, left in the spool ${metric('moderation_audit_spool_rows')}`,
  );
  const { sockets } = report.leaks;
  lines.push(
    `leaks after ${report.leaks.settleSeconds.toFixed(1)} s idle: ffmpeg/ffprobe ${report.leaks.mediaChildren.length}, other children ${report.leaks.otherChildren.length}, ` +
      `sockets: listening ${sockets.listen}, database ${sockets.database}, other TCP ${sockets.otherTcp.length}, non-TCP ${sockets.other} (${sockets.baselineOther} at start); ` +
      `temporary files ${report.leaks.tempFiles.length}; exit code ${report.exitCode}`,
  );
  lines.push('', 'invariants');
  for (const invariant of report.invariants) lines.push(`  ${invariant.ok ? 'ok  ' : 'FAIL'} ${invariant.name}: ${invariant.detail}`);
  return lines.join('\n');
}
