import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../http/app-env.js';
import { analyseErrorResponses, analyseSecurity } from '../http/error-schemas.js';
import { analyseImage, type ImageAnalysis, type ImageAnalysisDeps } from '../moderation/analyse-image.js';
import { moderationCategories } from '../providers/thresholds.js';

export const AnalyseImageRequestSchema = z
  .object({
    url: z
      .url()
      .max(2048)
      .openapi({ description: 'http(s) URL of the image. Accepted formats: JPEG, PNG, WebP, GIF, AVIF, TIFF (decided from the bytes).', example: 'https://example.com/uploads/avatar.jpg' }),
    user_uuid: z
      .string()
      .min(1)
      .max(128)
      .openapi({ description: 'Your identifier for the user who posted the image (usually a UUID); stored in moderation_log.', example: '5b3a1f0e-8c7d-4e62-9a1b-2f4d6c8e0a13' }),
  })
  .openapi('AnalyseImageRequest', {
    example: { url: 'https://example.com/uploads/avatar.jpg', user_uuid: '5b3a1f0e-8c7d-4e62-9a1b-2f4d6c8e0a13' },
  });

const DecisionSchema = z.enum(['pass', 'review', 'flagged']).openapi('Decision', {
  description: '`pass`: acceptable. `review`: a human should look. `flagged`: not acceptable.',
});

export const ReviewDetailsSchema = z
  .partialRecord(
    z.enum(moderationCategories),
    z.object({
      score: z.number().min(0).max(1).openapi({ description: 'The classifier score, 0..1.' }),
      level: z.enum(['review', 'flagged']),
      threshold: z.number().openapi({ description: 'The threshold the score reached.' }),
    }),
  )
  .openapi('ReviewDetails', {
    description: 'Per category that reached its review or flag threshold.',
    example: { weapon: { score: 0.91, level: 'flagged', threshold: 0.85 } },
  });

export const SimilarItemSchema = z
  .object({
    url: z.string().nullable().openapi({ description: 'The URL the earlier image was fetched from.' }),
    similarity: z.number().int().min(0).max(256).openapi({ description: 'Hamming distance between the perceptual hashes (0 = identical, of 256 bits).' }),
    decision: DecisionSchema,
    labels: z.array(z.string()).openapi({ description: 'Categories that reached review or flag for the earlier image.' }),
  })
  .openapi('SimilarItem');

export const AnalyseImageResponseSchema = z
  .object({
    request_id: z.string().openapi({ description: 'Key of this request in moderation_log.' }),
    is_duplicate: z.boolean().openapi({ description: 'True when the decision was reused from an identical or near-identical earlier image (no provider call).' }),
    decision: DecisionSchema,
    reason: z.string().openapi({ description: 'Why, in words.' }),
    source: z
      .enum(['provider', 'cache_exact', 'cache_near', 'local', 'error'])
      .openapi({ description: 'How the decision was reached: a SightEngine call (`provider`), the offline classifier (`local`), an exact (sha256) or near (perceptual hash) earlier match, or a provider failure (then the outage decision: `review` unless PROVIDER_OUTAGE_DECISION says otherwise).' }),
    provider: z.string().openapi({ description: 'The classifier that judged the image (or the earlier image it matched): `sightengine` or `nsfwjs` (offline).' }),
    review_details: ReviewDetailsSchema.optional(),
    similar_items: z.array(SimilarItemSchema).optional().openapi({ description: 'Earlier images within the near-duplicate distance, closest first.' }),
    sha256: z.string().regex(/^[0-9a-f]{64}$/).openapi({ description: 'Hex SHA-256 of the downloaded bytes.' }),
    phash: z
      .string()
      .regex(/^[0-9a-f]{64}$/)
      .nullable()
      .openapi({ description: '256-bit blockhash as 64 hex characters; null for images smaller than 16x16 pixels, which have no meaningful hash.' }),
  })
  .openapi('AnalyseImageResponse', {
    example: {
      request_id: '0b8f3c2e-4d1a-4c55-9a57-0f3b8c1d2e4f',
      is_duplicate: true,
      decision: 'flagged',
      reason: 'weapon 0.91 >= 0.85 (flagged)',
      source: 'cache_near',
      provider: 'sightengine',
      review_details: { weapon: { score: 0.91, level: 'flagged', threshold: 0.85 } },
      similar_items: [{ url: 'https://example.com/uploads/original.jpg', similarity: 4, decision: 'flagged', labels: ['weapon'] }],
      sha256: '9f2c6a1d0e4b8f7a3c5d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b',
      phash: 'f81bf99ffb803400e07f8c7d049f058706013e233fe33fe11f600e638ea30def',
    },
  });

export const analyseImageRoute = createRoute({
  method: 'post',
  path: '/analyse/image',
  operationId: 'analyseImage',
  tags: ['Analyse'],
  security: analyseSecurity,
  summary: 'Moderate one image by URL',
  description:
    'Downloads the image, and answers from an earlier decision when the same bytes (SHA-256) or a near-identical picture (perceptual hash) was judged before; otherwise asks the image classifier (SightEngine when configured, else the offline model). Every call leaves one row in moderation_log.',
  request: {
    body: { required: true, content: { 'application/json': { schema: AnalyseImageRequestSchema } } },
  },
  responses: {
    200: { description: 'The decision.', content: { 'application/json': { schema: AnalyseImageResponseSchema } } },
    ...analyseErrorResponses,
  },
});

/** The response fields of one analysed image, shared by the single and the batch endpoint. */
export function imageAnalysisBody(result: ImageAnalysis) {
  return {
    is_duplicate: result.isDuplicate,
    decision: result.decision,
    reason: result.reason,
    source: result.source,
    provider: result.provider,
    ...(Object.keys(result.reviewDetails).length > 0 && { review_details: result.reviewDetails }),
    ...(result.similarItems.length > 0 && { similar_items: result.similarItems }),
    sha256: result.sha256,
    phash: result.phash,
  };
}

export function registerAnalyseImage(app: OpenAPIHono<AppEnv>, deps: ImageAnalysisDeps): void {
  app.openapi(analyseImageRoute, async (c) => {
    const body = c.req.valid('json');
    const audit = c.get('audit');
    Object.assign(audit, { userUuid: body.user_uuid, contentIdentifier: body.url });
    const result = await analyseImage(deps, { url: body.url }, audit);
    return c.json({ request_id: c.get('requestId'), ...imageAnalysisBody(result) }, 200);
  });
}
