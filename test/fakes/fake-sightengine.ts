import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import { closeLoopbackServer, listenOnLoopback } from './loopback.js';

/**
 * A loopback SightEngine that speaks the wire format described in /work/shared/providers.md, so the
 * adapter is tested over real HTTP (multipart, keep-alive, resets) instead of against mocks.
 */

export type RecordedSightengineRequest = {
  method: string;
  /** Path with query string, so tests can check that nothing secret travels in the URL. */
  path: string;
  /** Query and body fields merged; file parts are under `media`. */
  fields: Record<string, string>;
  media: { bytes: Buffer; filename: string; contentType: string } | null;
};

export type SightengineModelScores = Record<string, unknown>;

export type ScriptedResponse =
  | { kind: 'json'; status: number; body: unknown; headers?: Record<string, string>; afterMs?: number } // afterMs: answer late
  | { kind: 'html'; status: number }
  | { kind: 'truncated' }
  | { kind: 'empty' }
  | { kind: 'reset' }
  | { kind: 'delay'; ms: number };

export type FakeSightengine = {
  baseUrl: string;
  apiUser: string;
  apiSecret: string;
  requests: RecordedSightengineRequest[];
  readonly callCount: number;
  /** check.json requests whose connection closed before an answer was sent: the client gave up, or a scripted reset. */
  readonly unansweredCount: number;
  /** Most check.json requests open at the same time since the start (or the last reset). */
  readonly peakConcurrency: number;
  resetPeakConcurrency(): void;
  enqueue(...responses: ScriptedResponse[]): void;
  setScorer(scorer: (media: Buffer) => SightengineModelScores | Promise<SightengineModelScores>): void;
  /** Milliseconds to wait before each normal (unscripted) answer; default none. */
  setLatency(latency: () => number): void;
  /**
   * Asked for every request the queue has no answer for: a scripted answer, or undefined for a
   * normal one. Lets a load test inject faults at a rate instead of in a fixed order.
   */
  setScript(script: ((request: RecordedSightengineRequest) => ScriptedResponse | undefined) | null): void;
  close(): Promise<void>;
};

// Only versioned models answer under another key; the rest use the model name as is.
const responseKeyOf: Record<string, string> = { 'nudity-2.1': 'nudity', 'gore-2.0': 'gore', 'offensive-2.0': 'offensive' };

const id = (prefix: string) => `${prefix}_${randomBytes(8).toString('hex')}`;
const requestInfo = (operations: number) => ({ id: id('req'), timestamp: Date.now() / 1000, operations });

export function failureBody(type: string, code: number, message: string): unknown {
  return { status: 'failure', request: requestInfo(0), error: { type, code, message } };
}

export function lowScores(): SightengineModelScores {
  return {
    nudity: {
      sexual_activity: 0.001,
      sexual_display: 0.001,
      erotica: 0.001,
      very_suggestive: 0.002,
      suggestive: 0.003,
      mildly_suggestive: 0.004,
      suggestive_classes: { bikini: 0.001, cleavage: 0.001, lingerie: 0.001, male_chest: 0.001, visibly_undressed: 0.001 },
      context: { sea_lake_pool: 0.001, outdoor_other: 0.01, indoor_other: 0.98 },
      none: 0.99,
    },
    weapon: {
      classes: { firearm: 0.001, firearm_gesture: 0.001, firearm_toy: 0.001, knife: 0.002 },
      firearm_action: { aiming_threat: 0.001, aiming_camera: 0.001, aiming_safe: 0.001, in_hand_not_aiming: 0.001 },
    },
    recreational_drug: { prob: 0.002, classes: { cannabis: 0.001, cannabis_logo_only: 0.001, recreational_drugs_not_cannabis: 0.001 } },
    gore: {
      prob: 0.003,
      classes: { very_bloody: 0.001, slightly_bloody: 0.002, body_organ: 0.001, serious_injury: 0.001, corpse: 0.001 },
      type: { animated: 0.001, fake: 0.001, real: 0.001 },
    },
    offensive: { nazi: 0.001, asian_swastika: 0.001, confederate: 0.001, supremacist: 0.001, terrorist: 0.001, middle_finger: 0.002 },
    'self-harm': { prob: 0.002, type: { real: 0.001, fake: 0.001, animated: 0.001 } },
  };
}

const failureStatus: Record<string, number> = { credentials_error: 401, argument_error: 400, media_error: 400 };

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

function sendFailure(res: ServerResponse, type: string, code: number, message: string): void {
  sendJson(res, failureStatus[type] ?? 400, failureBody(type, code, message));
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function parseRequest(req: IncomingMessage, url: URL): Promise<Omit<RecordedSightengineRequest, 'method' | 'path'>> {
  const fields: Record<string, string> = Object.fromEntries(url.searchParams);
  let media: RecordedSightengineRequest['media'] = null;
  const body = await readBody(req);
  const contentType = req.headers['content-type'] ?? '';
  const isForm = contentType.startsWith('multipart/form-data') || contentType.startsWith('application/x-www-form-urlencoded');
  if (req.method === 'POST' && isForm) {
    // Node's fetch parser, so boundaries, quoting and binary parts are handled as a real server would.
    const form = await new Request(url, { method: 'POST', headers: { 'content-type': contentType }, body: new Uint8Array(body) }).formData();
    for (const [name, value] of form) {
      if (typeof value === 'string') fields[name] = value;
      else if (name === 'media') media = { bytes: Buffer.from(await value.arrayBuffer()), filename: value.name, contentType: value.type };
    }
  }
  return { fields, media };
}

export async function startFakeSightengine(
  options: { apiUser?: string; apiSecret?: string; scorer?: (media: Buffer) => SightengineModelScores | Promise<SightengineModelScores> } = {},
): Promise<FakeSightengine> {
  const apiUser = options.apiUser ?? 'fake-user';
  const apiSecret = options.apiSecret ?? 'fake-secret-do-not-log';
  let scorer: (media: Buffer) => SightengineModelScores | Promise<SightengineModelScores> = options.scorer ?? (() => lowScores());
  const queue: ScriptedResponse[] = [];
  let scriptFor: ((request: RecordedSightengineRequest) => ScriptedResponse | undefined) | null = null;
  const requests: RecordedSightengineRequest[] = [];
  const timers = new Set<NodeJS.Timeout>();
  let callCount = 0;
  let inFlight = 0;
  let peakConcurrency = 0;
  let unansweredCount = 0;
  let latency: () => number = () => 0;

  async function answer(res: ServerResponse, request: RecordedSightengineRequest): Promise<void> {
    const { fields, media } = request;
    if (fields.api_user !== apiUser || fields.api_secret !== apiSecret) {
      return sendFailure(res, 'credentials_error', 1, 'Incorrect API user or API secret');
    }
    const models = (fields.models ?? '').split(',').map((model) => model.trim()).filter(Boolean);
    if (models.length === 0) return sendFailure(res, 'argument_error', 51, 'Missing models parameter');
    // A `url=` request has no bytes here, so the URL itself is what the scorer keys on.
    const content = media?.bytes ?? (fields.url ? Buffer.from(fields.url) : undefined);
    if (!content) return sendFailure(res, 'argument_error', 4, 'Missing media: provide media or url');

    const scores = await scorer(content);
    const answered: Record<string, unknown> = {};
    for (const model of models) {
      const key = responseKeyOf[model] ?? model;
      if (key in scores) answered[key] = scores[key];
    }
    sendJson(res, 200, { status: 'success', request: requestInfo(models.length), ...answered, media: { id: id('med'), uri: null } });
  }

  function play(res: ServerResponse, scripted: ScriptedResponse, request: RecordedSightengineRequest): void {
    switch (scripted.kind) {
      case 'json': {
        if (!scripted.afterMs) return sendJson(res, scripted.status, scripted.body, scripted.headers);
        const timer = setTimeout(() => {
          timers.delete(timer);
          if (!res.destroyed) sendJson(res, scripted.status, scripted.body, scripted.headers);
        }, scripted.afterMs);
        timers.add(timer);
        return;
      }
      case 'html': {
        const page = `<html><head><title>${scripted.status}</title></head><body><h1>${scripted.status} Bad Gateway</h1><hr><center>nginx</center></body></html>`;
        res.writeHead(scripted.status, { 'content-type': 'text/html' });
        return void res.end(page);
      }
      case 'truncated': {
        const full = JSON.stringify({ status: 'success', request: requestInfo(1), ...lowScores(), media: { id: id('med'), uri: null } });
        // A complete HTTP message whose JSON stops mid-way, as a misbehaving proxy would deliver it.
        return sendRaw(res, 200, full.slice(0, Math.floor(full.length / 2)));
      }
      case 'empty':
        return sendRaw(res, 200, '');
      case 'reset':
        return void res.socket?.destroy();
      case 'delay': {
        const timer = setTimeout(() => {
          timers.delete(timer);
          // The client may have given up and closed the socket meanwhile.
          if (!res.destroyed) void answer(res, request);
        }, scripted.ms);
        timers.add(timer);
        return;
      }
    }
  }

  function sendRaw(res: ServerResponse, status: number, text: string): void {
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname !== '/1.0/check.json' || (req.method !== 'POST' && req.method !== 'GET')) {
      req.resume();
      return sendJson(res, 404, { status: 'failure', error: { type: 'request_error', code: 404, message: 'Not found' } });
    }
    callCount++;
    inFlight++;
    peakConcurrency = Math.max(peakConcurrency, inFlight);
    res.on('close', () => {
      inFlight--;
      if (!res.writableFinished) unansweredCount++;
    });
    let parsed: Awaited<ReturnType<typeof parseRequest>>;
    try {
      parsed = await parseRequest(req, url);
    } catch {
      return sendFailure(res, 'argument_error', 50, 'Malformed request body');
    }
    const request: RecordedSightengineRequest = { method: req.method, path: req.url ?? '/', ...parsed };
    requests.push(request);
    const scripted = queue.shift() ?? scriptFor?.(request);
    const delay = latency();
    if (scripted) play(res, scripted, request);
    else if (delay > 0) {
      const timer = setTimeout(() => {
        timers.delete(timer);
        void answer(res, request);
      }, delay);
      timers.add(timer);
    } else void answer(res, request);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch(() => res.socket?.destroy());
  });
  const port = await listenOnLoopback(server);

  return {
    baseUrl: `http://127.0.0.1:${port}/1.0`,
    apiUser,
    apiSecret,
    requests,
    get callCount() {
      return callCount;
    },
    get unansweredCount() {
      return unansweredCount;
    },
    get peakConcurrency() {
      return peakConcurrency;
    },
    resetPeakConcurrency: () => void (peakConcurrency = inFlight),
    setLatency: (next) => void (latency = next),
    setScript: (next) => void (scriptFor = next),
    enqueue: (...responses) => void queue.push(...responses),
    setScorer: (next) => void (scorer = next),
    close: () => closeLoopbackServer(server, timers),
  };
}
