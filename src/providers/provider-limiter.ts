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

  run<T>(call: () => Promise<T>): Promise<T> {
    return this.limit(async () => {
      if (this.spacingMs > 0) {
        const now = this.clock.now();
        const start = Math.max(now, this.nextStart);
        this.nextStart = start + this.spacingMs;
        if (start > now) await this.clock.sleep(start - now);
      }
      return call();
    });
  }
}
