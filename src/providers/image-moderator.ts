import type { CategoryScores, Decision, ReviewDetails } from './thresholds.js';

/** What every image classifier (SightEngine, the local model, video frames) offers the use cases. */

export type ImageInput = {
  /** The exact bytes that were hashed, so the provider judges what we identified. */
  bytes: Uint8Array;
  mime: string;
};

export type ImageModeration = {
  decision: Decision;
  reason: string;
  details: ReviewDetails;
  scores: CategoryScores;
  provider: string;
  /** The provider's own answer, kept for the audit log. */
  rawResponse: unknown;
  /** False for placeholder answers that must not be reused for later requests. */
  cacheable: boolean;
};

export interface ImageModerator {
  readonly name: string;
  moderate(input: ImageInput, signal?: AbortSignal): Promise<ImageModeration>;
}

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
