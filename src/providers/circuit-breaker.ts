import { ProviderError } from './provider-error.js';
import type { ProviderObserver } from './provider-observer.js';

/**
 * One circuit breaker per paid provider, so an outage fails fast instead of piling requests up
 * behind calls that will time out.
 *
 * - `closed`: calls go through. `failureThreshold` provider faults in a row open the circuit. A
 *   consecutive count, not a failure ratio in a time window: it needs no minimum traffic to mean
 *   something, behaves the same at 1 request a minute as at 100 a second, and one answer from the
 *   provider in between shows it is up.
 * - `open`: calls fail at once with a ProviderError of kind `circuit_open`, without a network
 *   request and without waiting for a call slot.
 * - `half_open`: once `cooldownMs` has passed, the next call is let through as the only probe while
 *   the others keep failing fast. Its success closes the circuit; its failure opens it for another
 *   cooldown.
 *
 * What counts: ProviderError.providerFault (5xx, 429, timeouts, resets, unreadable answers, and
 * also rejected credentials or an exhausted quota, which fail every call until someone acts). An
 * answer that blames the request itself (an undecodable image) proves the provider is up and counts
 * as a success. Cancelled calls and calls that never reached the provider count as nothing; so do
 * calls that were already running when the circuit opened.
 */

export type CircuitState = 'closed' | 'open' | 'half_open';

export type CircuitBreakerSettings = {
  /** Provider faults in a row that open the circuit; 0 turns the breaker off. */
  failureThreshold: number;
  /** How long an open circuit waits before it lets one probe through. */
  cooldownMs: number;
};

/** A monotonic clock in milliseconds; tests pass their own. */
export type BreakerClock = { now(): number };
const monotonicClock: BreakerClock = { now: () => performance.now() };

type Verdict = 'success' | 'failure' | 'neutral';

function verdictOf(error: unknown): Verdict {
  if (!(error instanceof ProviderError)) return 'neutral';
  if (error.providerFault) return 'failure';
  // The provider answered (with a complaint about this request): it is up.
  return error.details.httpStatus !== undefined ? 'success' : 'neutral';
}

export class CircuitBreaker {
  private current: CircuitState = 'closed';
  private consecutiveFailures = 0;
  private openedAt = 0;
  private probing = false;
  /** The last fault, for the message of the calls the open circuit refuses. */
  private lastFailure = '';

  constructor(
    readonly provider: string,
    private readonly settings: CircuitBreakerSettings,
    private readonly observer?: ProviderObserver,
    private readonly clock: BreakerClock = monotonicClock,
  ) {
    observer?.circuitChanged(provider, 'closed');
  }

  get state(): CircuitState {
    return this.current;
  }

  /**
   * Fails at once while the circuit is open and its cooldown has not passed. Meant for before a
   * call queues for a slot; the call itself still goes through run(), which decides for good.
   */
  failFastIfOpen(): void {
    if (this.current === 'open' && this.clock.now() - this.openedAt < this.settings.cooldownMs) throw this.rejection();
  }

  async run<T>(call: () => Promise<T>): Promise<T> {
    const probe = this.admit();
    try {
      const result = await call();
      this.record(probe, 'success');
      return result;
    } catch (error) {
      const verdict = verdictOf(error);
      if (verdict === 'failure') this.lastFailure = (error as ProviderError).message;
      this.record(probe, verdict);
      throw error;
    }
  }

  /** Lets a call through or throws; true when the call is the half-open probe. */
  private admit(): boolean {
    if (this.settings.failureThreshold === 0 || this.current === 'closed') return false;
    const cooledDown = this.clock.now() - this.openedAt >= this.settings.cooldownMs;
    if (this.probing || (this.current === 'open' && !cooledDown)) throw this.rejection();
    this.probing = true;
    this.moveTo('half_open');
    return true;
  }

  private record(probe: boolean, verdict: Verdict): void {
    if (this.settings.failureThreshold === 0) return;
    if (probe) {
      this.probing = false;
      // A cancelled probe proves nothing: the next call probes instead.
      if (verdict === 'success') this.close();
      else if (verdict === 'failure') this.open();
      return;
    }
    // Calls admitted before the circuit opened do not move it: only the probe decides.
    if (this.current !== 'closed' || verdict === 'neutral') return;
    if (verdict === 'success') {
      this.consecutiveFailures = 0;
      return;
    }
    this.consecutiveFailures++;
    if (this.consecutiveFailures >= this.settings.failureThreshold) this.open();
  }

  private open(): void {
    this.openedAt = this.clock.now();
    this.moveTo('open');
  }

  private close(): void {
    this.consecutiveFailures = 0;
    this.moveTo('closed');
  }

  private moveTo(state: CircuitState): void {
    if (state === this.current) return;
    this.current = state;
    this.observer?.circuitChanged(this.provider, state);
  }

  private rejection(): ProviderError {
    this.observer?.circuitRejected(this.provider);
    const waitMs = Math.max(0, Math.ceil(this.settings.cooldownMs - (this.clock.now() - this.openedAt)));
    const next = this.probing ? 'a probe call is under way' : `next probe in ${waitMs} ms`;
    const last = this.lastFailure ? `; last failure: ${this.lastFailure}` : '';
    return new ProviderError(this.provider, `circuit open: the provider failed repeatedly, not called (${next}${last})`.slice(0, 500), {
      retryable: false,
      kind: 'circuit_open',
      // Refused here, so it says nothing new about the provider and must not extend the outage.
      providerFault: false,
    });
  }
}
