import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import { closeLoopbackServer, listenOnLoopback } from './loopback.js';

/**
 * A loopback Gemini (Generative Language API, v1beta) that speaks the REST format the `@google/genai`
 * SDK uses, so the text adapter is tested over real HTTP, through the
 * real SDK, instead of against mocks.
 *
 * Checked against @google/genai 2.32: `POST /v1beta/models/{model}:generateContent`, key in the
 * `x-goog-api-key` header, camelCase JSON body, no retries unless `httpOptions.retryOptions` is set.
 */

export type RecordedGeminiRequest = {
  method: string;
  /** Path without the query string, e.g. `/v1beta/models/gemini-2.5-flash:generateContent`. */
  path: string;
  /** Raw query string without the leading `?` (`''` when there is none), to assert no key leaks into URLs. */
  query: string;
  /** Model from the path, or null when the path is not a generateContent call. */
  model: string | null;
  /** Lower-cased header names; repeated headers are joined with ', '. */
  headers: Record<string, string>;
  /** Parsed JSON body, or the raw text when it is not JSON, or null when empty. */
  body: any;
};

export type GeminiVerdict = { decision: 'pass' | 'review' | 'flagged'; reason: string; categories: string[] };

export type GeminiJudge = (input: { userText: string; systemText: string; body: any }) => GeminiVerdict;

export type GeminiScript =
  /** 200, one candidate whose single part has this text (malformed JSON, fenced JSON, ...). */
  | { kind: 'answer'; text: string; finishReason?: string }
  /** 200, a candidate with this finishReason, safetyRatings, and no parts unless text is given. */
  | { kind: 'finish'; finishReason: string; text?: string }
  /** 200, a candidate whose content has no parts (seen from 2.5 models). */
  | { kind: 'empty' }
  /** 200, no candidates, promptFeedback.blockReason. */
  | { kind: 'promptBlocked'; blockReason: string }
  /** Google error body `{ error: { code, message, status, details } }`. */
  | { kind: 'error'; status: number; grpcStatus: string; message: string; details?: unknown[] }
  /** 429 RESOURCE_EXHAUSTED with QuotaFailure, Help and RetryInfo details. */
  | { kind: 'rateLimited'; retryDelay: string; perDay?: boolean }
  /** Wait before the headers, then answer normally (judge verdict). */
  | { kind: 'delay'; ms: number }
  /** Destroy the socket without answering. */
  | { kind: 'reset' }
  /** An HTML error page, as a proxy or load balancer in front of the API would send. */
  | { kind: 'html'; status: number };

export type FakeGemini = {
  /** Origin only: the SDK appends `/v1beta/models/...`. */
  baseUrl: string;
  apiKey: string;
  /** Every request received, including ones to unknown paths. */
  requests: RecordedGeminiRequest[];
  /** generateContent requests received. */
  readonly callCount: number;
  /** generateContent requests whose connection closed before an answer was sent: the client gave up, or a scripted reset. */
  readonly unansweredCount: number;
  /** Consumed in order, one per valid generateContent request, before normal judging. */
  enqueue(...scripts: GeminiScript[]): void;
  setJudge(judge: GeminiJudge): void;
  /**
   * Asked for every valid request the queue has no script for: a script, or undefined for normal
   * judging. Lets a load test inject faults at a rate instead of in a fixed order.
   */
  setScript(script: ((request: RecordedGeminiRequest) => GeminiScript | undefined) | null): void;
  close(): Promise<void>;
};

const MODEL_PATH = /^\/v1beta\/models\/([^/:]+):generateContent$/;
const SCHEMA_TYPES = new Set(['TYPE_UNSPECIFIED', 'STRING', 'NUMBER', 'INTEGER', 'BOOLEAN', 'ARRAY', 'OBJECT', 'NULL']);
const HARM_CATEGORIES = [
  'HARM_CATEGORY_SEXUALLY_EXPLICIT',
  'HARM_CATEGORY_HATE_SPEECH',
  'HARM_CATEGORY_HARASSMENT',
  'HARM_CATEGORY_DANGEROUS_CONTENT',
];
// Finish reasons where Google withholds the content entirely rather than sending an empty one.
const WITHHELD = new Set(['SAFETY', 'RECITATION', 'BLOCKLIST', 'PROHIBITED_CONTENT', 'SPII', 'IMAGE_SAFETY']);

const defaultJudge: GeminiJudge = () => ({ decision: 'pass', reason: 'fine', categories: [] });

const responseId = () => randomBytes(12).toString('base64url');

function safetyRatings(blocked: boolean): unknown[] {
  return HARM_CATEGORIES.map((category, index) =>
    blocked && index === HARM_CATEGORIES.length - 1
      ? { category, probability: 'HIGH', blocked: true }
      : { category, probability: 'NEGLIGIBLE' },
  );
}

function usageMetadata(promptText: string, answerText: string): Record<string, unknown> {
  const tokens = (text: string) => Math.max(1, Math.ceil(text.length / 4));
  const promptTokenCount = tokens(promptText);
  const candidatesTokenCount = answerText ? tokens(answerText) : 0;
  return {
    promptTokenCount,
    candidatesTokenCount,
    totalTokenCount: promptTokenCount + candidatesTokenCount,
    promptTokensDetails: [{ modality: 'TEXT', tokenCount: promptTokenCount }],
  };
}

function errorBody(code: number, status: string, message: string, details?: unknown[]): unknown {
  return { error: { code, message, status, ...(details ? { details } : {}) } };
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body, null, 2);
  res.writeHead(status, {
    'content-type': 'application/json; charset=UTF-8',
    'content-length': Buffer.byteLength(text),
    vary: 'Origin, X-Origin, Referer',
    server: 'scaffolding on HTTPServer2',
  });
  res.end(text);
}

function sendError(res: ServerResponse, code: number, status: string, message: string, details?: unknown[]): void {
  sendJson(res, code, errorBody(code, status, message, details));
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function recordHeaders(req: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return headers;
}

const isObject = (value: unknown): value is Record<string, any> => typeof value === 'object' && value !== null && !Array.isArray(value);

// The REST API reads protobuf JSON, which accepts both camelCase and the proto's snake_case names.
function field(object: unknown, camel: string, snake: string): any {
  if (!isObject(object)) return undefined;
  return object[camel] ?? object[snake];
}

function textOf(content: unknown): string[] {
  const parts = field(content, 'parts', 'parts');
  if (!Array.isArray(parts)) return [];
  return parts.filter((part) => isObject(part) && typeof part.text === 'string').map((part) => part.text as string);
}

/** Returns an error message for the first schema node whose `type` is not a known Type, case-insensitively. */
function checkSchema(schema: unknown, at: string): string | null {
  if (!isObject(schema)) return `Invalid value at '${at}', expected an object`;
  const type = schema.type;
  if (type !== undefined && (typeof type !== 'string' || !SCHEMA_TYPES.has(type.toUpperCase()))) {
    return `Invalid value at '${at}.type' (type.googleapis.com/google.ai.generativelanguage.v1beta.Type), ${JSON.stringify(type)}`;
  }
  const properties = schema.properties;
  if (isObject(properties)) {
    for (const [name, child] of Object.entries(properties)) {
      const problem = checkSchema(child, `${at}.properties[${JSON.stringify(name)}].value`);
      if (problem) return problem;
    }
  }
  if (schema.items !== undefined) return checkSchema(schema.items, `${at}.items`);
  return null;
}

/** The checks Google would make (or, for JSON mode, this project's contract), as a 400 message. */
function validateBody(body: unknown): string | null {
  if (!isObject(body)) return 'Invalid JSON payload received. Expected an object.';
  const contents = body.contents;
  if (!Array.isArray(contents) || contents.length === 0) return '* GenerateContentRequest.contents: contents is not specified\n';
  for (const [index, content] of contents.entries()) {
    const parts = field(content, 'parts', 'parts');
    if (!Array.isArray(parts) || parts.length === 0) {
      return `* GenerateContentRequest.contents[${index}].parts: contents.parts must not be empty.\n`;
    }
  }
  const config = field(body, 'generationConfig', 'generation_config');
  const mimeType = field(config, 'responseMimeType', 'response_mime_type');
  if (mimeType !== 'application/json') {
    return `fake-gemini: generationConfig.responseMimeType must be "application/json" (got ${JSON.stringify(mimeType)})`;
  }
  const schema = field(config, 'responseSchema', 'response_schema');
  // The SDK moves a schema carrying `$schema` to responseJsonSchema; the real API accepts either.
  const jsonSchema = field(config, 'responseJsonSchema', 'response_json_schema');
  if (schema === undefined && jsonSchema === undefined) {
    return 'fake-gemini: generationConfig.responseSchema is required (structured output)';
  }
  if (schema !== undefined) return checkSchema(schema, 'generation_config.response_schema');
  return null;
}

export async function startFakeGemini(options: { apiKey?: string; judge?: GeminiJudge } = {}): Promise<FakeGemini> {
  const apiKey = options.apiKey ?? 'fake-gemini-key-do-not-log';
  let judge = options.judge ?? defaultJudge;
  const queue: GeminiScript[] = [];
  let scriptFor: ((request: RecordedGeminiRequest) => GeminiScript | undefined) | null = null;
  const requests: RecordedGeminiRequest[] = [];
  const timers = new Set<NodeJS.Timeout>();
  let callCount = 0;
  let unansweredCount = 0;

  function candidateResponse(request: RecordedGeminiRequest, model: string, candidate: Record<string, unknown>, answerText: string) {
    return {
      candidates: [{ ...candidate, index: 0 }],
      usageMetadata: usageMetadata(JSON.stringify(request.body?.contents ?? ''), answerText),
      modelVersion: model,
      responseId: responseId(),
    };
  }

  function answerWithText(res: ServerResponse, request: RecordedGeminiRequest, model: string, text: string, finishReason = 'STOP'): void {
    const candidate = {
      content: { parts: [{ text }], role: 'model' },
      finishReason,
      safetyRatings: safetyRatings(false),
    };
    sendJson(res, 200, candidateResponse(request, model, candidate, text));
  }

  function judged(res: ServerResponse, request: RecordedGeminiRequest, model: string): void {
    const body = request.body;
    const userText = (body.contents as unknown[]).flatMap(textOf).join('\n');
    const systemText = textOf(field(body, 'systemInstruction', 'system_instruction')).join('\n');
    let verdict: GeminiVerdict;
    try {
      verdict = judge({ userText, systemText, body });
    } catch (error) {
      return sendError(res, 500, 'INTERNAL', `fake-gemini judge threw: ${String(error)}`);
    }
    answerWithText(res, request, model, JSON.stringify(verdict));
  }

  function play(res: ServerResponse, script: GeminiScript, request: RecordedGeminiRequest, model: string): void {
    switch (script.kind) {
      case 'answer':
        return answerWithText(res, request, model, script.text, script.finishReason);
      case 'finish': {
        const blocked = script.finishReason === 'SAFETY';
        const content =
          script.text !== undefined
            ? { content: { parts: [{ text: script.text }], role: 'model' } }
            : WITHHELD.has(script.finishReason)
              ? {}
              : { content: { role: 'model' } };
        const candidate = { ...content, finishReason: script.finishReason, safetyRatings: safetyRatings(blocked) };
        return sendJson(res, 200, candidateResponse(request, model, candidate, script.text ?? ''));
      }
      case 'empty':
        return sendJson(res, 200, candidateResponse(request, model, { content: { role: 'model' }, finishReason: 'STOP' }, ''));
      case 'promptBlocked': {
        const promptFeedback = {
          blockReason: script.blockReason,
          ...(script.blockReason === 'SAFETY' ? { safetyRatings: safetyRatings(true) } : {}),
        };
        return sendJson(res, 200, {
          promptFeedback,
          usageMetadata: usageMetadata(JSON.stringify(request.body?.contents ?? ''), ''),
          modelVersion: model,
          responseId: responseId(),
        });
      }
      case 'error':
        return sendError(res, script.status, script.grpcStatus, script.message, script.details);
      case 'rateLimited': {
        const per = script.perDay ? 'Day' : 'Minute';
        const metric = 'generativelanguage.googleapis.com/generate_content_free_tier_requests';
        const limit = script.perDay ? '250' : '10';
        const message =
          'You exceeded your current quota, please check your plan and billing details. For more information on this error, ' +
          'head to: https://ai.google.dev/gemini-api/docs/rate-limits.\n' +
          `* Quota exceeded for metric: ${metric}, limit: ${limit}, model: ${model}\n` +
          `Please retry in ${script.retryDelay}.`;
        return sendError(res, 429, 'RESOURCE_EXHAUSTED', message, [
          {
            '@type': 'type.googleapis.com/google.rpc.QuotaFailure',
            violations: [
              {
                quotaMetric: metric,
                quotaId: `GenerateRequestsPer${per}PerProjectPerModel-FreeTier`,
                quotaDimensions: { location: 'global', model },
                quotaValue: limit,
              },
            ],
          },
          {
            '@type': 'type.googleapis.com/google.rpc.Help',
            links: [{ description: 'Learn more about Gemini API quotas', url: 'https://ai.google.dev/gemini-api/docs/rate-limits' }],
          },
          { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: script.retryDelay },
        ]);
      }
      case 'delay': {
        const timer = setTimeout(() => {
          timers.delete(timer);
          // The client may have given up (abort or timeout) and closed the socket meanwhile.
          if (!res.destroyed) judged(res, request, model);
        }, script.ms);
        timers.add(timer);
        return;
      }
      case 'reset':
        return void res.socket?.destroy();
      case 'html': {
        const page =
          `<!DOCTYPE html><html lang=en><meta charset=utf-8><title>Error ${script.status} (Server Error)!!1</title>` +
          `<p><b>${script.status}.</b> <ins>That's an error.</ins><p>The server encountered a temporary error and could not complete your request.` +
          '<p>Please try again in 30 seconds. <ins>That\'s all we know.</ins></html>';
        res.writeHead(script.status, { 'content-type': 'text/html; charset=UTF-8', 'content-length': Buffer.byteLength(page) });
        return void res.end(page);
      }
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const match = MODEL_PATH.exec(url.pathname);
    const model = match?.[1] !== undefined ? decodeURIComponent(match[1]) : null;
    const raw = await readBody(req);
    let body: any = null;
    let badJson = false;
    if (raw.length > 0) {
      try {
        body = JSON.parse(raw);
      } catch {
        body = raw;
        badJson = true;
      }
    }
    requests.push({
      method: req.method ?? 'GET',
      path: url.pathname,
      query: url.search.replace(/^\?/, ''),
      model,
      headers: recordHeaders(req),
      body,
    });
    const request = requests[requests.length - 1]!;

    if (model === null || req.method !== 'POST') {
      return sendError(res, 404, 'NOT_FOUND', `Method not found: ${req.method ?? 'GET'} ${url.pathname}`);
    }
    callCount++;
    res.on('close', () => {
      if (!res.writableFinished) unansweredCount++;
    });

    // Google reads the header first and also accepts `?key=`; tests assert separately that the query stays clean.
    const sentKey = request.headers['x-goog-api-key'] ?? url.searchParams.get('key') ?? undefined;
    if (sentKey === undefined || sentKey === '') {
      return sendError(
        res,
        403,
        'PERMISSION_DENIED',
        "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.",
      );
    }
    if (sentKey !== apiKey) {
      const message = 'API key not valid. Please pass a valid API key.';
      return sendError(res, 400, 'INVALID_ARGUMENT', message, [
        {
          '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
          reason: 'API_KEY_INVALID',
          domain: 'googleapis.com',
          metadata: { service: 'generativelanguage.googleapis.com' },
        },
        { '@type': 'type.googleapis.com/google.rpc.LocalizedMessage', locale: 'en-US', message },
      ]);
    }
    if (badJson) return sendError(res, 400, 'INVALID_ARGUMENT', 'Invalid JSON payload received. Unexpected token.');
    const problem = validateBody(body);
    if (problem) {
      return sendError(res, 400, 'INVALID_ARGUMENT', problem, [
        { '@type': 'type.googleapis.com/google.rpc.BadRequest', fieldViolations: [{ description: problem }] },
      ]);
    }

    // Scripts stand in for Google's answer, so a request Google would reject never consumes one.
    const script = queue.shift() ?? scriptFor?.(request);
    if (script) play(res, script, request, model);
    else judged(res, request, model);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch(() => res.socket?.destroy());
  });
  const port = await listenOnLoopback(server);

  return {
    baseUrl: `http://127.0.0.1:${port}`,
    apiKey,
    requests,
    get callCount() {
      return callCount;
    },
    get unansweredCount() {
      return unansweredCount;
    },
    enqueue: (...scripts) => void queue.push(...scripts),
    setJudge: (next) => void (judge = next),
    setScript: (next) => void (scriptFor = next),
    close: () => closeLoopbackServer(server, timers),
  };
}
