import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createModerationClient, moderateText, ModerationApiError, type ModerationClient } from '../clients/typescript/example.js';
import { renderTypescriptClient, schemaPath } from '../scripts/typescript-client.js';
import { createSqliteDatabase, type TestDatabase } from './helpers/databases.js';
import { startHttpService, type HttpService } from './helpers/http-service.js';

/** The typed client in clients/typescript: generated from the committed document, and working. */

describe('the generated TypeScript client', () => {
  let database: TestDatabase;
  let service: HttpService;
  let client: ModerationClient;

  beforeAll(async () => {
    database = await createSqliteDatabase();
    service = await startHttpService(database);
    client = createModerationClient(service.origin);
  });

  afterAll(async () => {
    await service?.close();
    await database?.drop();
  });

  it('matches openapi/openapi.json (run `npm run client:generate` after `npm run openapi:generate`)', async () => {
    expect(readFileSync(schemaPath, 'utf8')).toBe(await renderTypescriptClient());
  });

  it('gets a decision from /analyse/text over HTTP', async () => {
    const flagged = await moderateText(client, 'Claim your free bitcoin now', 'client-user', ['who has tickets?']);
    expect(flagged).toMatchObject({ decision: 'flagged', categories: ['scam'], source: 'local', provider: 'local', is_duplicate: false });
    expect(await service.deps.store.findLogByRequestId(flagged.request_id)).toMatchObject({ userUuid: 'client-user', decision: 'flagged' });

    const passed = await moderateText(client, 'See you at the match on Saturday', 'client-user');
    expect(passed.decision).toBe('pass');
  });

  it('rejects a body without user_uuid at compile time, and the service agrees at run time', async () => {
    // @ts-expect-error user_uuid is required by the schema, so the generated types refuse this call.
    const { data, error, response } = await client.POST('/analyse/text', { body: { text: 'hello' } });
    expect(data).toBeUndefined();
    expect(response.status).toBe(422);
    expect(error).toMatchObject({ code: 'invalid_request', errors: [{ path: 'user_uuid' }] });
  });

  it('turns an error answer into a ModerationApiError carrying the error body', async () => {
    const error = await moderateText(client, 'x'.repeat(20_000), 'client-user').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ModerationApiError);
    expect(error).toMatchObject({ status: 422, body: { code: 'invalid_request', request_id: expect.any(String) } });
  });
});
