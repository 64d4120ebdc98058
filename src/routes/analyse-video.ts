import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../http/app-env.js';
import { analyseErrorResponses, analyseSecurity } from '../http/error-schemas.js';
import { analyseVideo, type VideoAnalysisDeps } from '../moderation/analyse-video.js';
import { AnalyseImageRequestSchema, AnalyseImageResponseSchema, ReviewDetailsSchema } from './analyse-image.js';

export const AnalyseVideoRequestSchema = AnalyseImageRequestSchema.extend({
  url: AnalyseImageRequestSchema.shape.url.openapi({
    description: 'http(s) URL of the video. Accepted containers: MP4, MOV, WebM, MKV, AVI, MPEG, 3GP (decided from the bytes).',
    example: 'https://example.com/uploads/clip.mp4',
  }),
}).openapi('AnalyseVideoRequest', {
  example: { url: 'https://example.com/uploads/clip.mp4', user_uuid: '5b3a1f0e-8c7d-4e62-9a1b-2f4d6c8e0a13' },
});

const VideoSimilarItemSchema = z
  .object({
    url: z.string().nullable().openapi({ description: 'The URL the earlier video was fetched from.' }),
    similarity: z.number().int().min(0).openapi({ description: 'Mean Hamming distance between the matching frames (0 = identical).' }),
    decision: z.enum(['pass', 'review', 'flagged']),
    labels: z.array(z.string()),
    matched_frames_ratio: z.number().min(0).max(1).openapi({ description: "Share of the earlier video's sampled frames that this video's frames match." }),
  })
  .openapi('VideoSimilarItem');

export const AnalyseVideoResponseSchema = z
  .object({
    request_id: z.string().openapi({ description: 'Key of this request in moderation_log.' }),
    is_duplicate: z.boolean().openapi({
      description: 'True when the decision came without any provider call (an identical or near-identical video, or frames all known), or the video matches most frames of an earlier one.',
    }),
    decision: AnalyseImageResponseSchema.shape.decision,
    reason: z.string(),
    frames_analyzed: z.number().int().min(0).openapi({ description: 'Sampled frames that were judged (analysis stops at the first flagged frame).' }),
    flagged_at_timestamp: z.number().min(0).optional().openapi({ description: 'Seconds into the video of the first flagged frame, to the sampling interval.' }),
    review_details: ReviewDetailsSchema.optional().openapi({ description: 'Per-category details of the worst frame.' }),
    similar_items: z.array(VideoSimilarItemSchema).optional(),
    source: AnalyseImageResponseSchema.shape.source,
    provider: z.string(),
    sha256: z.string().regex(/^[0-9a-f]{64}$/).openapi({ description: 'Hex SHA-256 of the downloaded file.' }),
  })
  .openapi('AnalyseVideoResponse', {
    example: {
      request_id: '0b8f3c2e-4d1a-4c55-9a57-0f3b8c1d2e4f',
      is_duplicate: false,
      decision: 'flagged',
      reason: 'Frame at 9 s: weapon 0.93 >= 0.85 (flagged)',
      frames_analyzed: 4,
      flagged_at_timestamp: 9,
      review_details: { weapon: { score: 0.93, level: 'flagged', threshold: 0.85 } },
      source: 'provider',
      provider: 'sightengine',
      sha256: '9f2c6a1d0e4b8f7a3c5d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b',
    },
  });

export const analyseVideoRoute = createRoute({
  method: 'post',
  path: '/analyse/video',
  operationId: 'analyseVideo',
  tags: ['Analyse'],
  security: analyseSecurity,
  summary: 'Moderate a short video by URL',
  description:
    'Samples one frame every VIDEO_SAMPLE_INTERVAL_S seconds and judges each with the image classifier, skipping frames that repeat an earlier frame or match known content, and stopping at the first flagged frame. Every call leaves one row in moderation_log.',
  request: { body: { required: true, content: { 'application/json': { schema: AnalyseVideoRequestSchema } } } },
  responses: {
    200: { description: 'The decision.', content: { 'application/json': { schema: AnalyseVideoResponseSchema } } },
    ...analyseErrorResponses,
  },
});

export function registerAnalyseVideo(app: OpenAPIHono<AppEnv>, deps: VideoAnalysisDeps): void {
  app.openapi(analyseVideoRoute, async (c) => {
    const body = c.req.valid('json');
    const audit = c.get('audit');
    Object.assign(audit, { userUuid: body.user_uuid, contentIdentifier: body.url });
    const result = await analyseVideo(deps, { url: body.url }, audit);
    return c.json(
      {
        request_id: c.get('requestId'),
        is_duplicate: result.isDuplicate,
        decision: result.decision,
        reason: result.reason,
        frames_analyzed: result.framesAnalyzed,
        ...(result.flaggedAtTimestamp !== null && { flagged_at_timestamp: result.flaggedAtTimestamp }),
        ...(Object.keys(result.reviewDetails).length > 0 && { review_details: result.reviewDetails }),
        ...(result.similarItems.length > 0 && {
          similar_items: result.similarItems.map(({ matchedFramesRatio, ...item }) => ({ ...item, matched_frames_ratio: matchedFramesRatio })),
        }),
        source: result.source,
        provider: result.provider,
        sha256: result.sha256,
      },
      200,
    );
  });
}
