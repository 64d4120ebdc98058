import { pathToFileURL } from 'node:url';
import createClient from 'openapi-fetch';
import type { components, paths } from './schema.js';

/**
 * A typed client in a dozen lines: openapi-fetch over the types openapi-typescript generated from
 * openapi/openapi.json. Paths, request bodies and responses are checked by the compiler, so a
 * misspelt field or a missing `user_uuid` fails the build rather than the request.
 *
 * Run against a running service: `npx tsx clients/typescript/example.ts [base URL] [API key]`.
 */

export type TextDecision = components['schemas']['AnalyseTextResponse'];
export type ImageDecision = components['schemas']['AnalyseImageResponse'];
export type ApiError = components['schemas']['Error'];

export function createModerationClient(baseUrl: string, apiKey?: string) {
  return createClient<paths>({ baseUrl, headers: apiKey ? { authorization: `Bearer ${apiKey}` } : {} });
}

export type ModerationClient = ReturnType<typeof createModerationClient>;

/** Thrown for any non-2xx answer; `body` is the API's error body (code, detail, request_id). */
export class ModerationApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: ApiError,
  ) {
    super(`HTTP ${status} ${body.code}: ${body.detail} (request ${body.request_id})`);
  }
}

export async function moderateText(client: ModerationClient, text: string, userUuid: string, threadContext?: string[]): Promise<TextDecision> {
  const { data, error, response } = await client.POST('/analyse/text', {
    body: { text, user_uuid: userUuid, ...(threadContext && { thread_context: threadContext }) },
  });
  if (error) throw new ModerationApiError(response.status, error);
  return data;
}

export async function moderateImage(client: ModerationClient, url: string, userUuid: string): Promise<ImageDecision> {
  const { data, error, response } = await client.POST('/analyse/image', { body: { url, user_uuid: userUuid } });
  if (error) throw new ModerationApiError(response.status, error);
  return data;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const client = createModerationClient(process.argv[2] ?? 'http://127.0.0.1:8080', process.argv[3]);
  const result = await moderateText(client, 'Claim your free bitcoin now', 'example-user');
  console.log(`${result.decision}: ${result.reason}`);
}
