/** A provider call that failed; `retryable` says whether trying again may help. */
export class ProviderError extends Error {
  override name = 'ProviderError';

  constructor(
    readonly provider: string,
    message: string,
    readonly details: {
      retryable: boolean;
      kind: string;
      httpStatus?: number;
      retryAfterMs?: number;
      rawResponse?: unknown;
      cause?: unknown;
    },
  ) {
    super(message, { cause: details.cause });
  }

  get retryable(): boolean {
    return this.details.retryable;
  }
}
