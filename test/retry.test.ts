import { describe, expect, it } from 'vitest';
import { ProviderError } from '../src/providers/provider-error.js';
import { parseRetryAfter, withRetries } from '../src/providers/retry.js';

const failure = (retryable: boolean, retryAfterMs?: number) =>
  new ProviderError('test', 'failed', { retryable, kind: 'test', ...(retryAfterMs !== undefined && { retryAfterMs }) });

describe('withRetries', () => {
  it('retries retryable failures up to the limit, and no further', async () => {
    let attempts = 0;
    const result = withRetries(
      async () => {
        attempts++;
        throw failure(true);
      },
      { maxRetries: 3, baseDelayMs: 1 },
    );
    await expect(result).rejects.toBeInstanceOf(ProviderError);
    expect(attempts).toBe(4);
  });

  it('does not retry a failure that is not retryable', async () => {
    let attempts = 0;
    await expect(
      withRetries(
        async () => {
          attempts++;
          throw failure(false);
        },
        { maxRetries: 3, baseDelayMs: 1 },
      ),
    ).rejects.toBeInstanceOf(ProviderError);
    expect(attempts).toBe(1);
  });

  it('gives up at once when the provider asks to wait longer than it is worth', async () => {
    let attempts = 0;
    await expect(
      withRetries(
        async () => {
          attempts++;
          throw failure(true, 120_000);
        },
        { maxRetries: 3, baseDelayMs: 1 },
      ),
    ).rejects.toBeInstanceOf(ProviderError);
    expect(attempts).toBe(1);
  });

  it('answers with the provider failure when the caller cancels during the wait', async () => {
    const controller = new AbortController();
    const result = withRetries(
      async () => {
        // The provider asks for a 20 s pause; the caller leaves during it.
        setImmediate(() => controller.abort());
        throw failure(true, 20_000);
      },
      { maxRetries: 3, baseDelayMs: 1 },
      { signal: controller.signal },
    );
    await expect(result).rejects.toMatchObject({ name: 'ProviderError', message: 'failed' });
  });

  it('does not start a wait that would end past the deadline: the last failure is the answer', async () => {
    let attempts = 0;
    const first = failure(true, 5_000);
    const result = withRetries(
      async () => {
        attempts++;
        throw first;
      },
      { maxRetries: 3, baseDelayMs: 1 },
      { deadlineAt: Date.now() + 1_000 },
    );
    await expect(result).rejects.toBe(first);
    expect(attempts).toBe(1);
  });

  it('retries while the waits fit before the deadline', async () => {
    let attempts = 0;
    const result = withRetries(
      async () => {
        if (++attempts < 3) throw failure(true, 1);
        return 'answered';
      },
      { maxRetries: 3, baseDelayMs: 1 },
      { deadlineAt: Date.now() + 60_000 },
    );
    await expect(result).resolves.toBe('answered');
    expect(attempts).toBe(3);
  });
});

describe('parseRetryAfter', () => {
  it('reads seconds and HTTP dates, and ignores nonsense', () => {
    expect(parseRetryAfter('3')).toBe(3000);
    expect(parseRetryAfter(new Date(Date.now() + 60_000).toUTCString())).toBeGreaterThan(50_000);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter(undefined)).toBeUndefined();
  });
});
