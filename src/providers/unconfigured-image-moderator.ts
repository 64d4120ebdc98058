import type { ImageModeration, ImageModerator } from './image-moderator.js';

/**
 * Used when no image classifier is configured. It never passes anything: every image is held for
 * human review with a reason that says why, and the answer is never cached, so configuring a
 * provider later takes effect for every image at once.
 */
export class UnconfiguredImageModerator implements ImageModerator {
  readonly name = 'none';
  readonly source = 'local' as const;

  async moderate(): Promise<ImageModeration> {
    return {
      decision: 'review',
      reason:
        'No image classifier is configured (set SIGHTENGINE_API_USER and SIGHTENGINE_API_SECRET); the image is held for human review.',
      details: {},
      scores: {},
      provider: this.name,
      rawResponse: null,
      cacheable: false,
    };
  }
}
