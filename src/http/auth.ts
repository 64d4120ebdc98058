import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { AppError } from '../errors.js';
import type { AppEnv } from './app-env.js';

/**
 * API keys. A request names its key as `Authorization: Bearer <key>` or `X-API-Key: <key>`. Keys
 * are compared as SHA-256 digests with timingSafeEqual, against every configured key, so neither a
 * key's length nor how much of it matched shows in the response time. Keys never reach a log: only
 * the key's name does (moderation_log.client).
 */

export type ApiKey = { name: string; key: string };

type Digest = { name: string; digest: Buffer };

const digest = (key: string) => createHash('sha256').update(key, 'utf8').digest();

function presentedKey(authorization: string | undefined, apiKeyHeader: string | undefined): string | undefined {
  const bearer = /^Bearer\s+(.+)$/i.exec(authorization ?? '');
  return bearer?.[1]?.trim() || apiKeyHeader?.trim() || undefined;
}

/** The name of the key, or undefined; checks every key whatever the outcome. */
export function matchApiKey(keys: Digest[], presented: string): string | undefined {
  const candidate = digest(presented);
  let match: string | undefined;
  for (const key of keys) if (timingSafeEqual(key.digest, candidate) && match === undefined) match = key.name;
  return match;
}

/**
 * Requires a valid key on every path but the public ones. With no keys configured the service is
 * open (start-up allows that only on loopback, see config.ts).
 */
export function requireApiKey(keys: ApiKey[], isPublic: (path: string) => boolean): MiddlewareHandler<AppEnv> {
  const digests = keys.map((key) => ({ name: key.name, digest: digest(key.key) }));
  return async (c, next) => {
    if (digests.length === 0 || isPublic(c.req.path)) return next();
    const presented = presentedKey(c.req.header('authorization'), c.req.header('x-api-key'));
    if (!presented) {
      throw new AppError('unauthorized', 'An API key is required: send it as "Authorization: Bearer <key>" or "X-API-Key: <key>".');
    }
    const name = matchApiKey(digests, presented);
    if (!name) throw new AppError('unauthorized', 'The API key is not valid.');
    c.set('client', name);
    const audit = c.get('audit');
    if (audit) audit.client = name;
    return next();
  };
}
