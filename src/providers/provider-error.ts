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
      /**
       * False when the failure says nothing bad about the provider's health: it blamed this request
       * (an undecodable image, an argument error) or the call never reached it. Unset means true,
       * except for cancelled calls. The circuit breaker counts only provider faults.
       */
      providerFault?: boolean;
    },
  ) {
    super(message, { cause: details.cause });
  }

  get retryable(): boolean {
    return this.details.retryable;
  }

  get providerFault(): boolean {
    return this.details.providerFault ?? this.details.kind !== 'cancelled';
  }
}
