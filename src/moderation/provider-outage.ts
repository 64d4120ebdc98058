import type { ProviderError } from '../providers/provider-error.js';
import type { AuditRecord } from './audit-record.js';
import type { Decision } from '../providers/thresholds.js';

/**
 * What an image or a video gets when its classifier cannot judge it: PROVIDER_OUTAGE_DECISION
 * (`review` unless configured otherwise). Never cached, so the next request asks again. Text keeps
 * the contract's own answer for this case, `decision: "error"` (see analyse-text.ts).
 */

const consequences: Record<Decision, string> = {
  review: 'held for human review',
  flagged: 'treated as flagged',
  pass: 'let through without a judgement',
};

export function outageReason(decision: Decision, what: string, error: ProviderError): string {
  return `The image provider (${error.provider}) could not judge ${what} (${error.message}); ${consequences[decision]}.`;
}

/** The audit row of an outage answer: the decision given, and the provider's failure behind it. */
export function recordOutage(trail: AuditRecord, decision: Decision, reason: string, error: ProviderError): void {
  Object.assign(trail, { decision, reason, source: 'error', provider: error.provider, error: error.message, rawResponse: error.details.rawResponse ?? null });
}
