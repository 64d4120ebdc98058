import { ApiError, GoogleGenAI, HarmBlockThreshold, HarmCategory, Type, type GenerateContentResponse, type Schema } from '@google/genai';
import { z } from 'zod';
import { callProvider, type ProviderCallPolicy, type ProviderCallSettings } from '../provider-call.js';
import { ProviderError } from '../provider-error.js';
import { isTextCategory, textCategories, type TextCategory, type TextInput, type TextModeration, type TextModerator } from '../text-moderator.js';
import type { Decision } from '../thresholds.js';
import { moderationPolicy } from './moderation-policy.js';
import { messageOf } from '../../errors.js';

/**
 * Gemini text moderation through the official SDK (`@google/genai`, the only module that imports
 * it). The SDK sends the key in the `x-goog-api-key` header, never in the URL. We do our own
 * retries (the SDK's are opt-in and do not read Gemini's RetryInfo) and our own timeout.
 */

export type GeminiOptions = {
  apiKey: string;
  model: string;
  baseUrl: string;
  /** Per attempt. */
  timeoutMs: number;
} & ProviderCallSettings;

const PROVIDER = 'gemini';

const responseSchema: Schema = {
  type: Type.OBJECT,
  properties: {
    decision: { type: Type.STRING, enum: ['pass', 'review', 'flagged'], description: 'The decision for the message.' },
    reason: { type: Type.STRING, description: 'One or two sentences a moderator can act on. Do not repeat slurs or personal data.' },
    categories: {
      type: Type.ARRAY,
      items: { type: Type.STRING, enum: [...textCategories] },
      description: 'Every policy category the message falls into; empty for pass.',
    },
  },
  required: ['decision', 'reason', 'categories'],
  propertyOrdering: ['decision', 'reason', 'categories'],
};

const verdictSchema = z.object({
  decision: z.enum(['pass', 'review', 'flagged']),
  reason: z.string().trim().min(1).max(2000),
  // Unknown category names are dropped rather than failing the whole answer.
  categories: z.array(z.string()).default([]),
});

// The model judges harmful content for a living: Gemini's own filters would otherwise refuse the
// very messages we ask about. Blocks it still applies are handled as signals below.
const safetySettings = [
  HarmCategory.HARM_CATEGORY_HARASSMENT,
  HarmCategory.HARM_CATEGORY_HATE_SPEECH,
  HarmCategory.HARM_CATEGORY_SEXUALLY_EXPLICIT,
  HarmCategory.HARM_CATEGORY_DANGEROUS_CONTENT,
].map((category) => ({ category, threshold: HarmBlockThreshold.BLOCK_NONE }));

const categoryByHarm: Record<string, TextCategory> = {
  HARM_CATEGORY_HARASSMENT: 'harassment',
  HARM_CATEGORY_HATE_SPEECH: 'hate',
  HARM_CATEGORY_SEXUALLY_EXPLICIT: 'sexual',
  HARM_CATEGORY_DANGEROUS_CONTENT: 'violence',
};

/** Block reasons that say "this content is harmful" (flagged); any other block asks for review. */
const harmfulBlocks = new Set(['SAFETY', 'PROHIBITED_CONTENT', 'BLOCKLIST', 'IMAGE_SAFETY']);
const blockFinishReasons = new Set([...harmfulBlocks, 'SPII', 'RECITATION', 'LANGUAGE', 'OTHER']);

export class GeminiModerator implements TextModerator {
  readonly name = PROVIDER;
  readonly source = 'provider' as const;
  private readonly client: GoogleGenAI;
  private readonly policy: ProviderCallPolicy;

  constructor(private readonly options: GeminiOptions) {
    this.client = new GoogleGenAI({ apiKey: options.apiKey, httpOptions: { baseUrl: options.baseUrl } });
    const { retry, limiter, breaker, deadlineMs, observer } = options;
    this.policy = { provider: PROVIDER, retry, limiter, breaker, deadlineMs, observer };
  }

  async moderate(input: TextInput, signal?: AbortSignal): Promise<TextModeration> {
    // Interpreted inside the call, so an unusable answer counts as that call's failure (never retried).
    return callProvider(this.policy, async (attemptSignal) => interpret(await this.callOnce(input, attemptSignal)), signal);
  }

  private async callOnce(input: TextInput, signal?: AbortSignal): Promise<GenerateContentResponse> {
    const timeout = AbortSignal.timeout(this.options.timeoutMs);
    try {
      return await this.client.models.generateContent({
        model: this.options.model,
        // The message and its context travel as one JSON document, so nothing in a message can
        // pose as a delimiter or as an instruction boundary.
        contents: [{ role: 'user', parts: [{ text: JSON.stringify({ context: input.context, message: input.text }) }] }],
        config: {
          systemInstruction: moderationPolicy,
          responseMimeType: 'application/json',
          responseSchema,
          temperature: 0,
          safetySettings,
          abortSignal: signal ? AbortSignal.any([signal, timeout]) : timeout,
        },
      });
    } catch (error) {
      throw classify(error, timeout.aborted, this.options.timeoutMs, signal);
    }
  }
}

function classify(error: unknown, timedOut: boolean, timeoutMs: number, signal?: AbortSignal): ProviderError {
  if (error instanceof ApiError) {
    const body = parseErrorBody(error.message);
    const details = body?.details ?? [];
    // Google's gRPC status name (UNAVAILABLE, ...); for an HTML page the SDK puts the HTTP status text here instead.
    const status = /^[A-Z_]+$/.test(body?.status ?? '') ? (body?.status as string) : '';
    const summary = `HTTP ${error.status} ${status}: ${body?.message ?? 'no message'}`.slice(0, 500);
    const badKey = details.some((detail) => detail.reason === 'API_KEY_INVALID') || /api key/i.test(body?.message ?? '');
    const perDay = details.some((detail) => (detail.violations ?? []).some((violation) => /PerDay/i.test(violation.quotaId ?? '')));
    const retryDelay = details.find((detail) => typeof detail.retryDelay === 'string')?.retryDelay;
    const retryAfterMs = retryDelay ? parseDuration(retryDelay) : undefined;
    const retryable = !badKey && !perDay && (error.status === 429 || error.status >= 500 || error.status === 408);
    // A 400 other than a bad key, or a 413, objects to this request (its size, its content); it says
    // nothing about Gemini's health. A bad key fails every call alike, so it counts as an outage.
    const requestFault = !badKey && (error.status === 400 || error.status === 413);
    return new ProviderError(PROVIDER, summary, {
      retryable,
      providerFault: !requestFault,
      kind: badKey ? 'credentials' : perDay ? 'daily_quota' : error.status === 429 ? 'rate_limited' : status || 'http_error',
      httpStatus: error.status,
      ...(retryAfterMs !== undefined && { retryAfterMs }),
      rawResponse: body ?? error.message.slice(0, 500),
      cause: error,
    });
  }
  if (signal?.aborted) return new ProviderError(PROVIDER, 'the request was cancelled', { retryable: false, kind: 'cancelled', cause: error });
  if (timedOut) return new ProviderError(PROVIDER, `no answer within ${timeoutMs} ms`, { retryable: true, kind: 'timeout', cause: error });
  return new ProviderError(PROVIDER, `network error (${messageOf(error)})`.slice(0, 300), {
    retryable: true,
    kind: 'network',
    cause: error,
  });
}

type GoogleErrorDetail = { '@type'?: string; reason?: string; retryDelay?: string; violations?: { quotaId?: string }[] };
type GoogleError = { code?: number; message?: string; status?: string; details?: GoogleErrorDetail[] };

/** The SDK puts the whole error body, as JSON text, into the error message. */
function parseErrorBody(message: string): GoogleError | undefined {
  try {
    const parsed = JSON.parse(message) as { error?: GoogleError };
    return parsed.error && typeof parsed.error === 'object' ? parsed.error : undefined;
  } catch {
    return undefined;
  }
}

/** Protocol-buffer durations as Gemini sends them: "23s", "0.5s". */
function parseDuration(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)s$/.exec(text.trim());
  return match ? Math.round(Number(match[1]) * 1000) : undefined;
}

/** Turns Gemini's answer into a decision; a safety block is a decision too, not a failure. */
function interpret(response: GenerateContentResponse): TextModeration {
  const blockReason = response.promptFeedback?.blockReason;
  if (blockReason) {
    return blocked(`the provider refused to read the message (prompt blocked: ${blockReason})`, String(blockReason), response, []);
  }
  const candidate = response.candidates?.[0];
  if (!candidate) throw invalid('the answer has no candidate', response);

  const finishReason = String(candidate.finishReason ?? 'STOP');
  const text = (candidate.content?.parts ?? []).map((part) => part.text ?? '').join('').trim();
  if (blockFinishReasons.has(finishReason)) {
    const harmed = (candidate.safetyRatings ?? [])
      .filter((rating) => rating.blocked || rating.probability === 'HIGH')
      .map((rating) => categoryByHarm[String(rating.category)])
      .filter((category): category is TextCategory => category !== undefined);
    const categories: TextCategory[] = finishReason === 'SPII' ? ['personal_data'] : harmed;
    return blocked(`the provider stopped its answer (finish reason: ${finishReason})`, finishReason, response, categories);
  }
  if (!text) throw invalid(`the answer is empty (finish reason: ${finishReason})`, response);

  let parsed: unknown;
  try {
    parsed = JSON.parse(stripCodeFence(text));
  } catch {
    throw invalid('the answer is not valid JSON', response);
  }
  const verdict = verdictSchema.safeParse(parsed);
  if (!verdict.success) throw invalid('the answer does not match the expected schema', response);
  const categories = [...new Set(verdict.data.categories.map((category) => category.toLowerCase()).filter(isTextCategory))];
  return { decision: verdict.data.decision, reason: verdict.data.reason, categories, provider: PROVIDER, rawResponse: response };
}

/** Models sometimes wrap JSON in a markdown fence despite JSON mode. */
function stripCodeFence(text: string): string {
  const fenced = /^```(?:json)?\s*([\s\S]*?)\s*```$/i.exec(text);
  return fenced ? (fenced[1] ?? '') : text;
}

function blocked(what: string, reasonCode: string, response: GenerateContentResponse, categories: TextCategory[]): TextModeration {
  const decision: Decision = harmfulBlocks.has(reasonCode) ? 'flagged' : 'review';
  const action = decision === 'flagged' ? 'treated as flagged' : 'held for human review';
  return { decision, reason: `Blocked by the provider's safety filter: ${what}; ${action}.`, categories, provider: PROVIDER, rawResponse: response };
}

function invalid(message: string, response: GenerateContentResponse): ProviderError {
  // A malformed answer at temperature 0 would most likely come back the same: not retried.
  return new ProviderError(PROVIDER, message, { retryable: false, kind: 'invalid_response', rawResponse: response });
}
