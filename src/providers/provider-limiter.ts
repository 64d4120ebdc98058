import { setTimeout as sleep } from 'node:timers/promises';
import pLimit from 'p-limit';

/**
 * A process-wide gate in front of one provider: at most `maxConcurrent` calls in flight and, when
 * `maxPerSecond` is set, calls started no closer together than 1/maxPerSecond seconds, so a burst
 * (a batch, a migration) cannot trip the provider's throughput limit. Callers are served in
 * arrival order: p-limit's queue is first in, first out, and start slots are handed out in the order
 * calls leave it.
 */
export type ProviderLimits = { maxConcurrent: number; maxPerSecond?: number | undefined };

/** The clock the limiter spaces calls by; tests pass their own. */
export type Clock = { now(): number; sleep(ms: number): Promise<unknown> };
const systemClock: Clock = { now: () => Date.now(), sleep: (ms) => sleep(ms) };

export class ProviderLimiter {
  private readonly limit;
  private readonly spacingMs: number;
  private nextStart = 0;

  constructor(
    options: ProviderLimits,
    private readonly clock: Clock = systemClock,
  ) {
    this.limit = pLimit(options.maxConcurrent);
    this.spacingMs = options.maxPerSecond ? 1000 / options.maxPerSecond : 0;
  }

  /**
   * Runs `call` once a slot is free. When `signal` aborts while the call is still waiting for its
   * slot, the returned promise rejects at once with the signal's reason and the call never runs;
   * once the call has started, its own handling of the signal decides.
   */
  run<T>(call: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (!signal) return this.limit(() => this.start(call));
    if (signal.aborted) return Promise.reject(signal.reason as Error);
    return new Promise<T>((resolve, reject) => {
      let started = false;
      const giveUp = () => {
        if (!started) reject(signal.reason as Error);
      };
      signal.addEventListener('abort', giveUp, { once: true });
      this.limit(async () => {
        if (signal.aborted) throw signal.reason;
        return this.start(async () => {
          if (signal.aborted) throw signal.reason;
          started = true;
          return call();
        });
      })
        .then(resolve, reject)
        .finally(() => signal.removeEventListener('abort', giveUp));
    });
  }

  private async start<T>(call: () => Promise<T>): Promise<T> {
    if (this.spacingMs > 0) {
      const now = this.clock.now();
      const start = Math.max(now, this.nextStart);
      this.nextStart = start + this.spacingMs;
      if (start > now) await this.clock.sleep(start - now);
    }
    return call();
  }
}
