import type { ModerationLogEntry } from '../store/store.js';

/**
 * What a request has learned so far, for its moderation_log row. Use cases fill it in as they go,
 * so a request that fails half-way still leaves a row saying how far it got (its sha256, say).
 * The HTTP layer adds the status and latency and writes it once, whatever the outcome.
 */
export type AuditRecord = Partial<Omit<ModerationLogEntry, 'requestId' | 'httpStatus' | 'latencyMs'>> & {
  /** The answer was shared from a concurrent request's provider call (for metrics; not a column). */
  joinedInFlight?: boolean;
};
