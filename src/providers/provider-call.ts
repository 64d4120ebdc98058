import type { CircuitBreaker } from './circuit-breaker.js';
import { ProviderError } from './provider-error.js';
import type { ProviderLimiter } from './provider-limiter.js';
import { observeCall, type ProviderObserver } from './provider-observer.js';
import { withRetries, type RetryPolicy } from './retry.js';

/**
 * The one way a remote moderator calls its provider, so every adapter gets the same protection in
 * the same order:
 *
 *   deadline ( retries ( circuit breaker ( concurrency/rate limiter ( metrics ( one attempt ) ) ) ) )
 *
 * - The deadline (`deadlineMs`) covers everything a request spends on its provider: waiting for a
 *   slot, every attempt and every wait between attempts. At the deadline the attempt under way is
 *   cut off, and no retry starts whose wait would end past it.
 * - Each attempt still has its own timeout inside the adapter (SIGHTENGINE_TIMEOUT_MS,
 *   GEMINI_TIMEOUT_MS), so one slow attempt leaves time for another.
 * - Every attempt passes the breaker, so an open circuit also stops the retries of a request that
 *   started before it opened. The breaker is asked before a call queues for a slot and again when
 *   it gets one.
 */

export type ProviderCallPolicy = {
  provider: string;
  retry: RetryPolicy;
  /** Shared by every call of the process, retries included. */
  limiter: ProviderLimiter;
  /** Shared by every call of the process; none: the provider is always called. */
  breaker?: CircuitBreaker | undefined;
  /** Time for all the provider work of one call of `callProvider`; none: only per-attempt timeouts apply. */
  deadlineMs?: number | undefined;
  observer?: ProviderObserver | undefined;
};

/** What an adapter takes to build its policy: everything but its own name. */
export type ProviderCallSettings = Omit<ProviderCallPolicy, 'provider'>;

/**
 * Runs `attempt` under the policy. `attempt` receives the signal to pass to its request: it aborts
 * when the caller goes away or the deadline passes.
 */
export async function callProvider<T>(policy: ProviderCallPolicy, attempt: (signal: AbortSignal | undefined) => Promise<T>, callerSignal?: AbortSignal): Promise<T> {
  const { provider, limiter, breaker, observer, deadlineMs } = policy;
  const deadline = deadlineMs === undefined ? undefined : AbortSignal.timeout(deadlineMs);
  const deadlineAt = deadlineMs === undefined ? undefined : Date.now() + deadlineMs;
  const signals = [callerSignal, deadline].filter((signal): signal is AbortSignal => signal !== undefined);
  const signal = signals.length > 1 ? AbortSignal.any(signals) : signals[0];

  /** Names why the work stopped when it was the caller or the deadline, not the provider. */
  const stopped = (error: unknown, reachedProvider: boolean): unknown => {
    if (callerSignal?.aborted) return new ProviderError(provider, 'the request was cancelled', { retryable: false, kind: 'cancelled', cause: error });
    if (!deadline?.aborted) return error;
    const message = reachedProvider
      ? `no answer within the deadline of ${deadlineMs} ms (PROVIDER_DEADLINE_MS)`
      : `no free call slot within the deadline of ${deadlineMs} ms (PROVIDER_DEADLINE_MS)`;
    // Waiting for a slot is our own queue, not the provider's fault: the breaker ignores it.
    return new ProviderError(provider, message, { retryable: false, kind: 'deadline', providerFault: reachedProvider, cause: error });
  };

  const observed = () =>
    observeCall(observer, provider, () =>
      attempt(signal).catch((error: unknown) => {
        throw stopped(error, true);
      }),
    );

  const once = async (): Promise<T> => {
    breaker?.failFastIfOpen();
    try {
      return await limiter.run(() => (breaker ? breaker.run(observed) : observed()), signal);
    } catch (error) {
      // A ProviderError comes from the attempt (already explained); anything else was the queue giving up.
      throw error instanceof ProviderError ? error : stopped(error, false);
    }
  };

  return withRetries(once, policy.retry, { signal, deadlineAt, onRetry: (error) => observer?.retrying(provider, error) });
}
