import { randomUUID } from 'node:crypto';
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { errorCodes } from '../errors.js';
import type { AppEnv } from '../http/app-env.js';
import { statusOf, toAppError } from '../http/error-handler.js';
import { analyseSecurity, requestErrorResponses } from '../http/error-schemas.js';
import { appendAuditRow, auditUnavailable, type AuditDeps } from '../http/middleware.js';
import { analyseImageBatch } from '../moderation/analyse-image-batch.js';
import type { ImageAnalysisDeps } from '../moderation/analyse-image.js';
import { AnalyseImageRequestSchema, AnalyseImageResponseSchema, imageAnalysisBody } from './analyse-image.js';

export const MAX_BATCH_IMAGES = 50;

export const AnalyseImagesBatchRequestSchema = z
  .object({
    images: z
      .array(AnalyseImageRequestSchema)
      .min(1)
      .max(MAX_BATCH_IMAGES)
      .openapi({ description: `1 to ${MAX_BATCH_IMAGES} images, each { url, user_uuid }.` }),
    max_concurrent: z.number().int().min(1).max(10).default(5).openapi({
      description:
        'How many images of this batch are worked on at once (1-10, default 5). Provider calls are also bounded process-wide (SIGHTENGINE_MAX_CONCURRENT), whatever the batches ask for.',
      example: 5,
    }),
  })
  .openapi('AnalyseImagesBatchRequest', {
    example: {
      images: [
        { url: 'https://example.com/album/1.jpg', user_uuid: '5b3a1f0e-8c7d-4e62-9a1b-2f4d6c8e0a13' },
        { url: 'https://example.com/album/2.jpg', user_uuid: '5b3a1f0e-8c7d-4e62-9a1b-2f4d6c8e0a13' },
      ],
      max_concurrent: 5,
    },
  });

const BatchItemSchema = AnalyseImageResponseSchema.partial()
  .extend({
    request_id: z.string().openapi({ description: 'Key of this item in moderation_log.' }),
    url: z.string().openapi({ description: 'The URL as submitted.' }),
    status: z.enum(['success', 'error']).openapi({ description: '`success`: the fields of a single-image answer follow. `error`: see `error`.' }),
    error: z
      .object({ code: z.enum(errorCodes), detail: z.string() })
      .optional()
      .openapi({ description: 'Why this item has no decision; the same codes as the single-image endpoint.' }),
  })
  .openapi('AnalyseImagesBatchItem');

export const AnalyseImagesBatchResponseSchema = z
  .object({
    batch_id: z.string().openapi({ description: 'Shared by the moderation_log rows of every item.' }),
    total_images: z.number().int(),
    processed: z.number().int().openapi({ description: 'Items that received a decision (status success).' }),
    max_concurrent: z.number().int(),
    results: z.array(BatchItemSchema).openapi({ description: 'One per submitted image, in input order.' }),
  })
  .openapi('AnalyseImagesBatchResponse', {
    example: {
      batch_id: '3f1c2b4a-5d6e-4f70-8192-a3b4c5d6e7f8',
      total_images: 2,
      processed: 1,
      max_concurrent: 5,
      results: [
        {
          request_id: '0b8f3c2e-4d1a-4c55-9a57-0f3b8c1d2e4f',
          url: 'https://example.com/album/1.jpg',
          status: 'success',
          is_duplicate: false,
          decision: 'pass',
          reason: 'no category reached its review threshold',
          source: 'provider',
          provider: 'sightengine',
          sha256: '9f2c6a1d0e4b8f7a3c5d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b',
          phash: 'f81bf99ffb803400e07f8c7d049f058706013e233fe33fe11f600e638ea30def',
        },
        {
          request_id: '7d2c9a4e-1b3f-4e8a-9c6d-5f0e2a1b3c4d',
          url: 'https://example.com/album/2.jpg',
          status: 'error',
          error: { code: 'fetch_failed', detail: 'Could not fetch the URL: the server answered HTTP 404.' },
        },
      ],
    },
  });

export const analyseImagesBatchRoute = createRoute({
  method: 'post',
  path: '/analyse/images/batch',
  operationId: 'analyseImagesBatch',
  tags: ['Analyse'],
  security: analyseSecurity,
  summary: 'Moderate up to 50 images at once',
  description:
    'Each image is analysed as by POST /analyse/image and answered in input order; one failing image never fails the batch. The same URL twice is fetched and judged once. Every image leaves its own moderation_log row, carrying the batch_id.',
  request: { body: { required: true, content: { 'application/json': { schema: AnalyseImagesBatchRequestSchema } } } },
  responses: {
    200: { description: 'One result per image.', content: { 'application/json': { schema: AnalyseImagesBatchResponseSchema } } },
    ...requestErrorResponses,
  },
});

export function registerAnalyseImagesBatch(app: OpenAPIHono<AppEnv>, deps: ImageAnalysisDeps & AuditDeps): void {
  app.openapi(analyseImagesBatchRoute, async (c) => {
    const body = c.req.valid('json');
    const started = performance.now();
    const batchId = randomUUID();
    // From here every item writes its own row; the request itself writes none.
    c.set('auditWrittenByHandler', true);
    c.get('audit').batchId = batchId;
    const outcomes = await analyseImageBatch(deps, {
      batchId,
      items: body.images.map((image) => ({ url: image.url, userUuid: image.user_uuid })),
      maxConcurrent: body.max_concurrent,
    });

    const results = await Promise.all(
      outcomes.map(async (outcome) => {
        const requestId = randomUUID();
        let error = outcome.error === undefined ? undefined : toAppError(outcome.error);
        if (error?.code === 'internal_error') deps.logger.error({ request_id: requestId, batch_id: batchId, err: outcome.error }, 'unexpected error in a batch item');
        if (error) outcome.audit.error = `${error.code}: ${error.detail}`;
        const written = await appendAuditRow(deps, {
          ...outcome.audit,
          contentType: 'image',
          requestId,
          httpStatus: error ? statusOf(error.code) : 200,
          latencyMs: outcome.finishedAt - started,
        });
        if (!written) error = auditUnavailable();
        const item = { request_id: requestId, url: outcome.item.url };
        if (!error && outcome.result) return { ...item, status: 'success' as const, ...imageAnalysisBody(outcome.result) };
        const failure = error ?? auditUnavailable();
        return { ...item, status: 'error' as const, error: { code: failure.code, detail: failure.detail } };
      }),
    );
    return c.json(
      {
        batch_id: batchId,
        total_images: results.length,
        processed: results.filter((result) => result.status === 'success').length,
        max_concurrent: body.max_concurrent,
        results,
      },
      200,
    );
  });
}
