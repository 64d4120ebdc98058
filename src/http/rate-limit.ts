import type { MiddlewareHandler } from 'hono';
import { AppError } from '../errors.js';
import type { AppEnv } from './app-env.js';

/**
 * Per-client token buckets: each client (API key name, or "anonymous" without keys) may burst up to
 * `burst` requests and is refilled at `perSecond`. Buckets live in this process only: with several
 * instances behind a load balancer, each allows the full rate (documented in the README).
 */

export type Clock = () => number;

export class TokenBuckets {
  private readonly buckets = new Map<string, { tokens: number; updated: number }>();

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
    private readonly now: Clock = () => Date.now(),
  ) {}

  /** Takes a token; returns 0 when allowed, or the milliseconds until a token will be there. */
  take(client: string): number {
    const now = this.now();
    const bucket = this.buckets.get(client) ?? { tokens: this.burst, updated: now };
    bucket.tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.updated) / 1000) * this.perSecond);
    bucket.updated = now;
    this.buckets.set(client, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - bucket.tokens) / this.perSecond) * 1000);
  }
}

export function rateLimit(buckets: TokenBuckets): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const waitMs = buckets.take(c.get('client') ?? 'anonymous');
    if (waitMs > 0) {
      const seconds = Math.max(1, Math.ceil(waitMs / 1000));
      throw new AppError('rate_limited', `Too many requests for this API key; retry in ${seconds} s.`, { retryAfterSeconds: seconds });
    }
    return next();
  };
}
