import { describe, expect, it } from 'vitest';
import { Metrics } from '../src/metrics.js';
import { CircuitBreaker, type BreakerClock } from '../src/providers/circuit-breaker.js';
import { ProviderError } from '../src/providers/provider-error.js';
import { rejection } from './helpers/rejection.js';

/** The breaker's state machine, on a clock the test moves by hand; the metrics are the real ones. */

const outage = () => new ProviderError('p', 'HTTP 503: overloaded', { retryable: true, kind: 'unavailable', httpStatus: 503 });
const badImage = () => new ProviderError('p', 'media_error: cannot decode', { retryable: false, kind: 'media_error', httpStatus: 400, providerFault: false });
const cancelled = () => new ProviderError('p', 'the request was cancelled', { retryable: false, kind: 'cancelled' });

function setUp(failureThreshold = 3, cooldownMs = 1_000) {
  let now = 0;
  const clock: BreakerClock = { now: () => now };
  const metrics = new Metrics();
  const breaker = new CircuitBreaker('p', { failureThreshold, cooldownMs }, metrics, clock);
  let calls = 0;
  const succeed = () =>
    breaker.run(async () => {
      calls++;
      return 'ok';
    });
  const fail = (error: ProviderError) =>
    rejection(
      breaker.run(async () => {
        calls++;
        throw error;
      }),
      ProviderError,
    );
  const scrape = async (name: string) => {
    const line = (await metrics.render()).split('\n').find((text) => text.startsWith(`${name}{provider="p"}`));
    return line === undefined ? undefined : Number(line.split(' ').at(-1));
  };
  return {
    breaker,
    succeed,
    fail,
    scrape,
    calls: () => calls,
    advance: (ms: number) => void (now += ms),
  };
}

describe('CircuitBreaker', () => {
  it('opens after the configured provider faults in a row; an answer in between starts the count again', async () => {
    const { breaker, succeed, fail, scrape } = setUp(3);
    expect(await scrape('moderation_provider_circuit_state')).toBe(0);
    await fail(outage());
    await fail(outage());
    await succeed();
    await fail(outage());
    await fail(outage());
    expect(breaker.state).toBe('closed');
    await fail(outage());
    expect(breaker.state).toBe('open');
    expect(await scrape('moderation_provider_circuit_state')).toBe(2);
  });

  it('fails fast while open, without running the call, and says why', async () => {
    const { breaker, succeed, fail, calls, scrape } = setUp(2);
    await fail(outage());
    await fail(outage());
    const before = calls();
    const refused = await rejection(succeed(), ProviderError);
    expect(refused.details).toMatchObject({ kind: 'circuit_open', retryable: false });
    expect(refused.providerFault).toBe(false);
    expect(refused.message).toMatch(/circuit open.*next probe in 1000 ms.*HTTP 503: overloaded/);
    expect(() => breaker.failFastIfOpen()).toThrow(ProviderError);
    expect(calls()).toBe(before);
    expect(await scrape('moderation_provider_circuit_rejections_total')).toBe(2);
  });

  it('lets one probe through after the cooldown, refuses the others meanwhile, and closes when it succeeds', async () => {
    const { breaker, fail, advance, calls, scrape } = setUp(1, 1_000);
    await fail(outage());
    advance(999);
    expect(() => breaker.failFastIfOpen()).toThrow(/next probe in 1 ms/);
    advance(1);
    expect(() => breaker.failFastIfOpen()).not.toThrow();

    let answer: (value: string) => void = () => undefined;
    const probe = breaker.run(() => new Promise<string>((resolve) => (answer = resolve)));
    expect(breaker.state).toBe('half_open');
    expect(await scrape('moderation_provider_circuit_state')).toBe(1);
    const other = await rejection(breaker.run(async () => 'not called'), ProviderError);
    expect(other.message).toMatch(/a probe call is under way/);

    answer('ok');
    await expect(probe).resolves.toBe('ok');
    expect(breaker.state).toBe('closed');
    expect(await scrape('moderation_provider_circuit_state')).toBe(0);
    const before = calls();
    await fail(outage());
    expect(calls()).toBe(before + 1);
  });

  it('opens again for a full cooldown when the probe fails', async () => {
    const { breaker, fail, succeed, advance } = setUp(1, 1_000);
    await fail(outage());
    advance(1_000);
    await fail(outage());
    expect(breaker.state).toBe('open');
    advance(999);
    await rejection(succeed(), ProviderError);
    advance(1);
    await succeed();
    expect(breaker.state).toBe('closed');
  });

  it('counts an answer that blames the request as a sign of life, and a cancelled call as nothing', async () => {
    const { breaker, fail, succeed, advance } = setUp(2, 1_000);
    await fail(outage());
    await fail(badImage());
    await fail(outage());
    await fail(cancelled());
    expect(breaker.state).toBe('closed');
    await fail(outage());
    expect(breaker.state).toBe('open');

    advance(1_000);
    // A probe cancelled by its caller proves nothing: the next call probes instead.
    await fail(cancelled());
    expect(breaker.state).toBe('half_open');
    await fail(badImage());
    expect(breaker.state).toBe('closed');
    await succeed();
  });

  it('ignores late answers of calls that started before the circuit opened', async () => {
    const { breaker, fail } = setUp(1, 1_000);
    let answer: (value: string) => void = () => undefined;
    const slow = breaker.run(() => new Promise<string>((resolve) => (answer = resolve)));
    await fail(outage());
    answer('late');
    await slow;
    expect(breaker.state).toBe('open');
  });

  it('never opens with a threshold of 0', async () => {
    const { breaker, fail, succeed } = setUp(0);
    for (let i = 0; i < 10; i++) await fail(outage());
    expect(breaker.state).toBe('closed');
    await expect(succeed()).resolves.toBe('ok');
  });
});
