import { setTimeout as sleep } from 'node:timers/promises';
import pLimit from 'p-limit';

/**
 * A process-wide gate in front of one provider: at most `maxConcurrent` calls in flight and, when
 * `maxPerSecond` is set, calls started no closer together than 1/maxPerSecond seconds, so a burst
 * (a batch, a migration) cannot trip the provider's throughput limit. Callers are served in
 * arrival order: p-limit's queue is first in, first out, and start slots are handed out in the order
 * calls leave it.
 */
export class ProviderLimiter {
  private readonly limit;
  private readonly spacingMs: number;
  private nextStart = 0;

  constructor(options: { maxConcurrent: number; maxPerSecond?: number | undefined }) {
    this.limit = pLimit(options.maxConcurrent);
    this.spacingMs = options.maxPerSecond ? 1000 / options.maxPerSecond : 0;
  }

  /** Calls waiting for a slot; for metrics and tests. */
  get pending(): number {
    return this.limit.pendingCount;
  }

  run<T>(call: () => Promise<T>): Promise<T> {
    return this.limit(async () => {
      if (this.spacingMs > 0) {
        const now = Date.now();
        const start = Math.max(now, this.nextStart);
        this.nextStart = start + this.spacingMs;
        if (start > now) await sleep(start - now);
      }
      return call();
    });
  }
}
