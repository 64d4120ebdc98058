import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../http/app-env.js';
import { analyseSecurity, requestErrorResponses } from '../http/error-schemas.js';
import { analyseText, PROVIDER_FAILURE_REASON, type TextAnalysisDeps } from '../moderation/analyse-text.js';
import { textCategories } from '../providers/text-moderator.js';

// Hard ceilings of the schema; the configured limits (TEXT_MAX_CHARS, ...) are checked in the use case.
const HARD_MAX_CHARS = 1_000_000;

export const AnalyseTextRequestSchema = z
  .object({
    text: z.string().min(1).max(HARD_MAX_CHARS).openapi({
      description: 'The message to judge. At most TEXT_MAX_CHARS characters (default 10000).',
      example: 'Great photo! DM me for a free iPhone giveaway 🎁 bit.ly/xyz',
    }),
    user_uuid: z.string().min(1).max(128).openapi({
      description: 'Your identifier for the author (usually a UUID); stored in moderation_log.',
      example: '5b3a1f0e-8c7d-4e62-9a1b-2f4d6c8e0a13',
    }),
    thread_context: z
      .array(z.string().max(HARD_MAX_CHARS))
      .max(1000)
      .optional()
      .openapi({
        description:
          'Earlier messages of the conversation, oldest first. Used to understand the message (replies, sarcasm, quotes); never judged themselves. At most TEXT_CONTEXT_MAX_MESSAGES messages (default 20) and TEXT_CONTEXT_MAX_CHARS characters in all (default 20000).',
        example: ['Anyone selling concert tickets?', 'I have two, message me'],
      }),
  })
  .openapi('AnalyseTextRequest', {
    example: {
      text: 'Great photo! DM me for a free iPhone giveaway 🎁 bit.ly/xyz',
      user_uuid: '5b3a1f0e-8c7d-4e62-9a1b-2f4d6c8e0a13',
      thread_context: ['Anyone selling concert tickets?', 'I have two, message me'],
    },
  });

export const AnalyseTextResponseSchema = z
  .object({
    request_id: z.string().openapi({ description: 'Key of this request in moderation_log.' }),
    decision: z.enum(['pass', 'review', 'flagged', 'error']).openapi({
      description: '`pass`, `review` (a human should look) or `flagged`; `error` when the provider could not answer (then `reason` is API_REQUEST_FAILED).',
    }),
    reason: z.string().openapi({ description: `Why, in words; exactly \`${PROVIDER_FAILURE_REASON}\` for \`error\`.` }),
    details: z.string().optional().openapi({ description: 'For `error` only: which provider failed, and how.' }),
    categories: z.array(z.enum(textCategories)).openapi({ description: 'The policy categories the message falls into; empty for pass.' }),
    is_duplicate: z.boolean().openapi({ description: 'True when the same normalised message in the same context was judged before (no provider call).' }),
    source: z.enum(['provider', 'cache_exact', 'local', 'error']).openapi({
      description: '`provider` (Gemini), `local` (offline rules), `cache_exact` (reused), `error` (provider failure).',
    }),
    provider: z.string().openapi({ description: '`gemini` or `local`.' }),
  })
  .openapi('AnalyseTextResponse', {
    example: {
      request_id: '7d2c9a4e-1b3f-4e8a-9c6d-5f0e2a1b3c4d',
      decision: 'flagged',
      reason: 'Promises a free giveaway behind a shortened link to lure users off the platform.',
      categories: ['scam', 'spam'],
      is_duplicate: false,
      source: 'provider',
      provider: 'gemini',
    },
  });

export const analyseTextRoute = createRoute({
  method: 'post',
  path: '/analyse/text',
  operationId: 'analyseText',
  tags: ['Analyse'],
  security: analyseSecurity,
  summary: 'Moderate a message, comment or bio',
  description:
    'Judges the text with Gemini when GEMINI_API_KEY is set, otherwise with offline rules. The same normalised text in the same context is answered from the store. A provider failure answers `decision: "error"`, never a 5xx and never `pass`. Every call leaves one row in moderation_log.',
  request: { body: { required: true, content: { 'application/json': { schema: AnalyseTextRequestSchema } } } },
  responses: {
    200: { description: 'The decision.', content: { 'application/json': { schema: AnalyseTextResponseSchema } } },
    ...requestErrorResponses,
  },
});

export function registerAnalyseText(app: OpenAPIHono<AppEnv>, deps: TextAnalysisDeps): void {
  app.openapi(analyseTextRoute, async (c) => {
    const body = c.req.valid('json');
    const audit = c.get('audit');
    audit.userUuid = body.user_uuid;
    const result = await analyseText(deps, { text: body.text, context: body.thread_context ?? [] }, audit, c.req.raw.signal);
    return c.json(
      {
        request_id: c.get('requestId'),
        decision: result.decision,
        reason: result.reason,
        ...(result.details !== undefined && { details: result.details }),
        categories: result.categories,
        is_duplicate: result.isDuplicate,
        source: result.source,
        provider: result.provider,
      },
      200,
    );
  });
}
