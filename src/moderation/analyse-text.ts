import { textCacheKey, textDigest } from '../dedupe/text-normalise.js';
import { AppError, type FieldError } from '../errors.js';
import { ProviderError } from '../providers/provider-error.js';
import { isTextCategory, type TextCategory, type TextModerator } from '../providers/text-moderator.js';
import type { Decision } from '../providers/thresholds.js';
import type { DecisionSource, Store } from '../store/store.js';
import type { AuditRecord } from './audit-record.js';

/**
 * POST /analyse/text as a use case: check the limits, answer from the exact cache when the same
 * normalised message was judged in the same context before, otherwise ask the text moderator.
 */

export type TextLimits = { maxChars: number; contextMaxMessages: number; contextMaxChars: number; logContent: boolean };

export type TextAnalysisDeps = { store: Store; textModerator: TextModerator; textLimits: TextLimits };

export type TextAnalysis = {
  decision: Decision | 'error';
  reason: string;
  /** Only for `error`: what went wrong with the provider. */
  details?: string;
  categories: TextCategory[];
  isDuplicate: boolean;
  source: Exclude<DecisionSource, 'cache_near'>;
  provider: string;
};

/** The contract's fixed reason when the provider cannot answer. */
export const PROVIDER_FAILURE_REASON = 'API_REQUEST_FAILED';

const characters = (text: string) => [...text].length;

function limitErrors(text: string, context: string[], limits: TextLimits): FieldError[] {
  const errors: FieldError[] = [];
  if (text.trim() === '') errors.push({ path: 'text', message: 'must contain something other than white space' });
  if (characters(text) > limits.maxChars) {
    errors.push({ path: 'text', message: `is longer than TEXT_MAX_CHARS (${limits.maxChars} characters)` });
  }
  if (context.length > limits.contextMaxMessages) {
    errors.push({ path: 'thread_context', message: `has more than TEXT_CONTEXT_MAX_MESSAGES (${limits.contextMaxMessages}) messages` });
  }
  const contextChars = context.reduce((total, message) => total + characters(message), 0);
  if (contextChars > limits.contextMaxChars) {
    errors.push({ path: 'thread_context', message: `is longer than TEXT_CONTEXT_MAX_CHARS (${limits.contextMaxChars} characters in all)` });
  }
  return errors;
}

export async function analyseText(
  deps: TextAnalysisDeps,
  request: { text: string; context: string[] },
  audit: AuditRecord,
  signal?: AbortSignal,
): Promise<TextAnalysis> {
  const { text, context } = request;
  audit.contentIdentifier = textDigest(text);
  const errors = limitErrors(text, context, deps.textLimits);
  if (errors.length > 0) {
    throw new AppError('invalid_request', `The request exceeds a limit (${errors.map((e) => `${e.path} ${e.message}`).join('; ')}).`, {
      fieldErrors: errors,
    });
  }
  audit.contentText = deps.textLimits.logContent ? text : null;

  const moderator = deps.textModerator;
  const cacheKey = textCacheKey(text, context);
  const cached = await deps.store.findJudgedText(cacheKey, moderator.name);
  if (cached) {
    Object.assign(audit, { decision: cached.decision, reason: cached.reason, source: 'cache_exact', provider: cached.provider, matchedItemId: cached.id });
    return {
      decision: cached.decision,
      reason: cached.reason,
      categories: cached.categories.filter(isTextCategory),
      isDuplicate: true,
      source: 'cache_exact',
      provider: cached.provider,
    };
  }

  audit.provider = moderator.name;
  try {
    const judged = await moderator.moderate({ text, context }, signal);
    await deps.store.saveJudgedText({ digest: cacheKey, provider: judged.provider, decision: judged.decision, reason: judged.reason, categories: judged.categories });
    Object.assign(audit, { decision: judged.decision, reason: judged.reason, source: moderator.source, rawResponse: judged.rawResponse });
    return { decision: judged.decision, reason: judged.reason, categories: judged.categories, isDuplicate: false, source: moderator.source, provider: judged.provider };
  } catch (error) {
    if (!(error instanceof ProviderError)) throw error;
    // The contract's answer for "the provider could not judge this": never a 500, never a pass, never cached.
    const details = `${error.provider}: ${error.message}`;
    Object.assign(audit, { decision: 'error', reason: PROVIDER_FAILURE_REASON, source: 'error', error: details, rawResponse: error.details.rawResponse ?? null });
    return { decision: 'error', reason: PROVIDER_FAILURE_REASON, details, categories: [], isDuplicate: false, source: 'error', provider: error.provider };
  }
}
