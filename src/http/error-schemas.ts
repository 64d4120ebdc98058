import { z } from '@hono/zod-openapi';
import { errorCodes, type ErrorCode, type FieldError } from '../errors.js';

/** Every error body has this shape, whatever the endpoint and whatever went wrong. */
export const ErrorResponseSchema = z
  .object({
    request_id: z.string().openapi({ description: 'Quote this when reporting a problem; it is the moderation_log key.' }),
    code: z.enum(errorCodes).openapi({ description: 'Stable machine-readable error code.' }),
    detail: z.string().openapi({ description: 'What went wrong, for a human.' }),
    errors: z
      .array(z.object({ path: z.string(), message: z.string() }))
      .optional()
      .openapi({ description: 'For invalid_request: each offending field and what is wrong with it.' }),
  })
  .openapi('Error', {
    example: {
      request_id: '0b8f3c2e-4d1a-4c55-9a57-0f3b8c1d2e4f',
      code: 'fetch_failed',
      detail: 'Could not fetch the URL: the server answered HTTP 404.',
    },
  });

const exampleRequestId = '0b8f3c2e-4d1a-4c55-9a57-0f3b8c1d2e4f';

type ErrorExample = { code: ErrorCode; detail: string; errors?: FieldError[] };

// Each status carries its own example so the docs never show, say, a fetch failure under 401.
export const errorContent = (description: string, example: ErrorExample) => ({
  description,
  content: { 'application/json': { schema: ErrorResponseSchema, example: { request_id: exampleRequestId, ...example } } },
});

/** Error responses shared by the /analyse/* endpoints. */
export const analyseErrorResponses = {
  400: errorContent(
    'The URL cannot be used: not http(s), points into a private network, cannot be fetched, is too large, or is not decodable media of an accepted format (codes url_not_allowed, fetch_failed, media_too_large, unsupported_media_type, undecodable_media).',
    { code: 'fetch_failed', detail: 'Could not fetch the URL: the server answered HTTP 404.' },
  ),
  401: errorContent('No API key, or a key that is not valid (code unauthorized). Send "Authorization: Bearer <key>" or "X-API-Key: <key>".', {
    code: 'unauthorized',
    detail: 'The API key is not valid.',
  }),
  413: errorContent('The request body is larger than MAX_BODY_BYTES (code body_too_large).', {
    code: 'body_too_large',
    detail: 'The request body is larger than 1048576 bytes (MAX_BODY_BYTES).',
  }),
  422: errorContent('The body is not JSON, not sent as application/json, or does not match the schema (code invalid_request); `errors` lists the fields.', {
    code: 'invalid_request',
    detail: 'The request body is invalid (user_uuid: Invalid input: expected string, received undefined).',
    errors: [{ path: 'user_uuid', message: 'Invalid input: expected string, received undefined' }],
  }),
  429: errorContent("The API key's rate limit is reached (code rate_limited); retry after the Retry-After header's seconds.", {
    code: 'rate_limited',
    detail: 'Too many requests for this API key; retry in 12 s.',
  }),
  500: errorContent('An unexpected failure inside the service (code internal_error). Nothing internal is revealed.', {
    code: 'internal_error',
    detail: 'An unexpected error occurred. Quote the request_id when reporting it.',
  }),
  503: errorContent(
    "The service is at capacity (code overloaded), its database is unavailable (code database_unavailable), or the audit row could be written neither to the database nor to the local spool so no answer is given (code audit_unavailable). Retry after the Retry-After header's seconds when it is present.",
    { code: 'overloaded', detail: 'The service is at capacity; retry in a few seconds.' },
  ),
} as const;

/** The same, for endpoints that fetch nothing themselves (text, and a batch whose items carry their own errors). */
export const requestErrorResponses = (({ 400: _mediaErrors, ...rest }) => rest)(analyseErrorResponses);

/** The two ways a client may present its API key. */
export const securitySchemes = {
  bearerKey: { type: 'http', scheme: 'bearer', description: 'An API key from API_KEYS, as "Authorization: Bearer <key>".' },
  headerKey: { type: 'apiKey', in: 'header', name: 'X-API-Key', description: 'An API key from API_KEYS, as "X-API-Key: <key>".' },
} as const;

/** Either scheme is enough; with no API_KEYS configured (loopback only) none is needed. */
export const analyseSecurity: Record<string, string[]>[] = [{ bearerKey: [] }, { headerKey: [] }];

/** For the operations endpoints: public while PUBLIC_ENDPOINTS names them (the default), else a key is needed. */
export const optionalKeySecurity: Record<string, string[]>[] = [{}, ...analyseSecurity];
