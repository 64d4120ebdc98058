import { Agent, FormData, request } from 'undici';
import { decideFromScores, type ThresholdTable } from '../thresholds.js';
import type { ImageInput, ImageModeration, ImageModerator } from '../image-moderator.js';
import { callProvider, type ProviderCallPolicy, type ProviderCallSettings } from '../provider-call.js';
import { ProviderError } from '../provider-error.js';
import { parseRetryAfter } from '../retry.js';
import { extractScores } from './sightengine-scores.js';

/**
 * SightEngine image check. We upload the bytes we downloaded and hashed (multipart `media`) rather
 * than the URL, so the provider judges exactly what we identified and never needs to reach a URL
 * on our side. Credentials travel as form fields, never in the URL, so they cannot leak into
 * access logs.
 */

export type SightengineOptions = {
  baseUrl: string;
  apiUser: string;
  apiSecret: string;
  models: string[];
  /** Per attempt. */
  timeoutMs: number;
  thresholds: ThresholdTable;
} & ProviderCallSettings;

const PROVIDER = 'sightengine';

/** SightEngine answers some models under a shorter key: `nudity-2.1` comes back as `nudity`. */
function responseKey(model: string): string {
  return model === 'self-harm' ? model : model.replace(/-\d+(\.\d+)*$/, '');
}

// Error types SightEngine documents; only server-side trouble and throughput limits are worth a retry.
const retryableErrorTypes = new Set(['api_error', 'unknown_error']);
// Error types that blame the request (this image, these arguments), not the provider's health.
const requestErrorTypes = new Set(['argument_error', 'media_error']);
const THROUGHPUT_LIMIT_CODE = 37;

export class SightengineModerator implements ImageModerator {
  readonly name = PROVIDER;
  readonly source = 'provider' as const;
  readonly pixelSize = null;
  private readonly agent: Agent;
  private readonly policy: ProviderCallPolicy;

  constructor(private readonly options: SightengineOptions) {
    this.agent = new Agent({ headersTimeout: options.timeoutMs, bodyTimeout: options.timeoutMs, connect: { timeout: 10_000 } });
    const { retry, limiter, breaker, deadlineMs, observer } = options;
    this.policy = { provider: PROVIDER, retry, limiter, breaker, deadlineMs, observer };
  }

  async moderate(input: ImageInput, signal?: AbortSignal): Promise<ImageModeration> {
    const raw = await callProvider(this.policy, (attemptSignal) => this.callOnce(input, attemptSignal), signal);
    const scores = extractScores(raw);
    const { decision, reason, details } = decideFromScores(scores, this.options.thresholds);
    return { decision, reason, details, scores, provider: PROVIDER, rawResponse: raw, cacheable: true };
  }

  async close(): Promise<void> {
    await this.agent.close();
  }

  private async callOnce(input: ImageInput, signal?: AbortSignal): Promise<Record<string, unknown>> {
    const form = new FormData();
    form.set('models', this.options.models.join(','));
    form.set('api_user', this.options.apiUser);
    form.set('api_secret', this.options.apiSecret);
    form.set('media', new Blob([input.bytes], { type: input.mime }), `image.${input.mime.split('/')[1] ?? 'bin'}`);

    const timeout = AbortSignal.timeout(this.options.timeoutMs);
    let statusCode: number;
    let headers: Record<string, string | string[] | undefined>;
    let text: string;
    try {
      const response = await request(`${this.options.baseUrl}/check.json`, {
        method: 'POST',
        body: form,
        dispatcher: this.agent,
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
      statusCode = response.statusCode;
      headers = response.headers;
      text = await response.body.text();
    } catch (error) {
      const timedOut = timeout.aborted;
      const cancelled = signal?.aborted === true;
      throw new ProviderError(PROVIDER, cancelled ? 'the request was cancelled' : timedOut ? `no answer within ${this.options.timeoutMs} ms` : 'network error', {
        retryable: !cancelled,
        // Cancelled calls (later frames of a video already flagged) are told apart from real failures.
        kind: cancelled ? 'cancelled' : timedOut ? 'timeout' : 'network',
        cause: error,
      });
    }

    let body: Record<string, unknown> | undefined;
    try {
      const parsed: unknown = JSON.parse(text);
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) body = parsed as Record<string, unknown>;
    } catch {
      body = undefined;
    }
    const retryAfterMs = parseRetryAfter(headers['retry-after']);

    if (body?.status === 'success' && statusCode < 400) {
      // A "success" that leaves out a model we asked for has not judged that risk; passing the image
      // (and caching the pass) on it would let exactly that content through.
      const missing = this.options.models.filter((model) => !(responseKey(model) in (body as Record<string, unknown>)));
      if (missing.length === 0) return body;
      throw new ProviderError(PROVIDER, `the answer leaves out requested models (${missing.join(', ')})`, {
        retryable: false,
        kind: 'invalid_response',
        rawResponse: body,
      });
    }

    const error = body?.error as { type?: string; code?: number; message?: string } | undefined;
    if (body?.status === 'failure' && error) {
      // The HTTP status per error type is undocumented: classify by the error body, even on a 200.
      const throughput = error.type === 'usage_limit' && error.code === THROUGHPUT_LIMIT_CODE;
      throw new ProviderError(PROVIDER, `${error.type ?? 'error'} ${error.code ?? ''}: ${error.message ?? 'no message'}`.trim(), {
        retryable: throughput || retryableErrorTypes.has(error.type ?? '') || statusCode >= 500,
        kind: error.type ?? 'failure',
        providerFault: !requestErrorTypes.has(error.type ?? ''),
        httpStatus: statusCode,
        ...(retryAfterMs !== undefined && { retryAfterMs }),
        rawResponse: body,
      });
    }
    throw new ProviderError(PROVIDER, `unexpected answer: HTTP ${statusCode}${body ? '' : ' with a body that is not JSON'}`, {
      retryable: statusCode >= 500 || statusCode === 429 || (statusCode === 200 && !body),
      kind: 'invalid_response',
      httpStatus: statusCode,
      ...(retryAfterMs !== undefined && { retryAfterMs }),
      rawResponse: body ?? text.slice(0, 500),
    });
  }
}
