import { describe, expect, it } from 'vitest';
import { ProviderLimiter, type Clock } from '../src/providers/provider-limiter.js';

/** A clock that stands still unless advanced, and records the waits asked of it. */
function manualClock(): Clock & { waits: number[]; advance(ms: number): void } {
  let now = 1_000_000;
  const waits: number[] = [];
  return {
    waits,
    now: () => now,
    sleep: async (ms: number) => void waits.push(ms),
    advance: (ms: number) => void (now += ms),
  };
}

describe('provider limiter', () => {
  it('never runs more calls at once than allowed, and starts them in arrival order', async () => {
    const limiter = new ProviderLimiter({ maxConcurrent: 2 });
    let running = 0;
    let peak = 0;
    const started: number[] = [];
    const releases: (() => void)[] = [];
    const calls = Array.from({ length: 6 }, (_, i) =>
      limiter.run(async () => {
        started.push(i);
        running++;
        peak = Math.max(peak, running);
        await new Promise<void>((resolve) => releases.push(resolve));
        running--;
        return i;
      }),
    );
    // Release one call at a time, each as soon as it is running.
    for (let released = 0; released < 6; released++) {
      while (releases.length <= released) await new Promise((resolve) => setImmediate(resolve));
      releases[released]?.();
    }
    expect(await Promise.all(calls)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(started).toEqual([0, 1, 2, 3, 4, 5]);
    expect(peak).toBe(2);
  });

  it('spaces call starts by 1/maxPerSecond, in arrival order', async () => {
    const clock = manualClock();
    const limiter = new ProviderLimiter({ maxConcurrent: 10, maxPerSecond: 4 }, clock);
    const order: number[] = [];
    await Promise.all([0, 1, 2, 3].map((i) => limiter.run(async () => void order.push(i))));
    expect(order).toEqual([0, 1, 2, 3]);
    // Four calls arriving together: the first starts at once, each next one 250 ms after the previous.
    expect(clock.waits).toEqual([250, 500, 750]);
  });

  it('does not wait when calls are already far enough apart', async () => {
    const clock = manualClock();
    const limiter = new ProviderLimiter({ maxConcurrent: 1, maxPerSecond: 10 }, clock);
    await limiter.run(async () => undefined);
    clock.advance(500);
    await limiter.run(async () => undefined);
    expect(clock.waits).toEqual([]);
  });

  it('frees the slot when a call fails', async () => {
    const limiter = new ProviderLimiter({ maxConcurrent: 1 });
    await expect(limiter.run(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await limiter.run(async () => 'next')).toBe('next');
  });

  it('gives up on a call still waiting for its slot when the signal aborts, and never runs it', async () => {
    const limiter = new ProviderLimiter({ maxConcurrent: 1 });
    let release: () => void = () => undefined;
    const busy = limiter.run(() => new Promise<void>((resolve) => (release = resolve)));
    const controller = new AbortController();
    let ran = false;
    const queued = limiter.run(async () => void (ran = true), controller.signal);
    controller.abort(new Error('deadline'));
    await expect(queued).rejects.toThrow('deadline');
    release();
    await busy;
    expect(await limiter.run(async () => 'next')).toBe('next');
    expect(ran).toBe(false);
  });

  it('lets a call that has started finish: its own request handles the signal', async () => {
    const limiter = new ProviderLimiter({ maxConcurrent: 1 });
    const controller = new AbortController();
    let finish: (value: string) => void = () => undefined;
    const running = limiter.run(() => new Promise<string>((resolve) => (finish = resolve)), controller.signal);
    await new Promise((resolve) => setImmediate(resolve));
    controller.abort();
    finish('answered');
    await expect(running).resolves.toBe('answered');
  });
});
