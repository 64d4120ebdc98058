import { setTimeout as sleep } from 'node:timers/promises';
import { ProviderError } from './provider-error.js';

export type RetryPolicy = { maxRetries: number; baseDelayMs: number };

/** Longest wait we honour from a provider's Retry-After before giving up on this request. */
const MAX_RETRY_AFTER_MS = 30_000;

type RetryOptions = {
  /** Stops the waiting between attempts (the caller left, or the deadline passed). */
  signal?: AbortSignal | undefined;
  /** Date.now() value after which no attempt is worth starting: a wait that would end past it is not begun. */
  deadlineAt?: number | undefined;
  onRetry?: ((error: ProviderError) => void) | undefined;
};

/**
 * Calls `attempt` until it succeeds, fails with a non-retryable error, or runs out of retries or
 * time. Waits grow exponentially with full jitter (so a burst of failing requests does not retry in
 * lock-step), and a provider's own retry delay is honoured when it sends one. When the wait would
 * end past the deadline, the last failure is the answer at once: waiting would only make the
 * caller wait longer for the same answer.
 */
export async function withRetries<T>(attempt: (attemptNumber: number) => Promise<T>, policy: RetryPolicy, options: RetryOptions = {}): Promise<T> {
  const { signal, deadlineAt, onRetry } = options;
  for (let attemptNumber = 0; ; attemptNumber++) {
    try {
      return await attempt(attemptNumber);
    } catch (error) {
      const retryable = error instanceof ProviderError && error.retryable;
      if (!retryable || attemptNumber >= policy.maxRetries || signal?.aborted) throw error;
      const backoff = Math.random() * policy.baseDelayMs * 2 ** attemptNumber;
      const requested = error.details.retryAfterMs;
      if (requested !== undefined && requested > MAX_RETRY_AFTER_MS) throw error;
      const wait = Math.max(backoff, requested ?? 0);
      if (deadlineAt !== undefined && Date.now() + wait >= deadlineAt) throw error;
      // A caller who gives up during the wait gets the provider's failure, not a bare AbortError.
      await sleep(wait, undefined, { signal }).catch(() => {
        throw error;
      });
      onRetry?.(error);
    }
  }
}

/** Parses a Retry-After header (seconds or an HTTP date) into milliseconds. */
export function parseRetryAfter(header: string | string[] | undefined): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}
