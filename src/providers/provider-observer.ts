import type { CircuitState } from './circuit-breaker.js';
import { ProviderError } from './provider-error.js';

/**
 * What the moderators report about their own work, for metrics. One interface for every provider
 * (remote or local), so retry, rate-limit or circuit-breaker code can report through it too.
 */
export interface ProviderObserver {
  /** One call finished: an HTTP request to the provider, or one local inference. */
  callFinished(provider: string, seconds: number, error?: ProviderError): void;
  /** A failed call is about to be tried again. */
  retrying(provider: string, error: ProviderError): void;
  /** A provider's circuit breaker was created (closed) or changed state. */
  circuitChanged(provider: string, state: CircuitState): void;
  /** The open circuit refused a call, which therefore never reached the provider. */
  circuitRejected(provider: string): void;
}

/**
 * Runs one call and reports how long it took and how it ended. An error that is not a
 * ProviderError (a bug, a cancelled request) is reported as a failed call of kind `internal`.
 */
export async function observeCall<T>(observer: ProviderObserver | undefined, provider: string, call: () => Promise<T>): Promise<T> {
  if (!observer) return call();
  const started = performance.now();
  try {
    const result = await call();
    observer.callFinished(provider, (performance.now() - started) / 1000);
    return result;
  } catch (error) {
    const failure =
      error instanceof ProviderError ? error : new ProviderError(provider, 'unexpected failure', { retryable: false, kind: 'internal', cause: error });
    observer.callFinished(provider, (performance.now() - started) / 1000, failure);
    throw error;
  }
}
