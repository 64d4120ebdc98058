import type { RgbaImage } from '../media/image-decode.js';
import type { CategoryScores, Decision, ReviewDetails } from './thresholds.js';

/** What every image classifier (SightEngine, the local model, video frames) offers the use cases. */

export type ImageInput = {
  /** The exact bytes that were hashed, so the provider judges what we identified. */
  bytes: Uint8Array;
  mime: string;
  /** The decoded picture, for moderators that classify pixels themselves (they scale it to `pixelSize`). */
  pixels?: RgbaImage;
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
  /** `provider`: a paid external service; `local`: judged inside this process. */
  readonly source: 'provider' | 'local';
  /** Side of the square RGBA picture this moderator reads from `input.pixels`; null when it reads the bytes. */
  readonly pixelSize: number | null;
  moderate(input: ImageInput, signal?: AbortSignal): Promise<ImageModeration>;
  /** For a model run in this process: whether it is loaded and has answered. Remote providers leave it out. */
  modelLoaded?(): boolean;
}
