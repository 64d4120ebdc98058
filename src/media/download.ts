import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { open } from 'node:fs/promises';
import { isIP } from 'node:net';
import { Agent, request, type Dispatcher } from 'undici';
import { AppError } from '../errors.js';
import type { AddressPolicy } from './address-policy.js';

/**
 * Fetches caller-supplied URLs safely: http/https only, every destination address checked after DNS
 * resolution by the same lookup the socket connects with (so there is no window in which a second
 * resolution could point elsewhere), every redirect hop checked again, size capped while streaming
 * and the whole download bounded in time. This is the only module that imports undici for fetching.
 */

/** Resolves a host name to all its addresses; tests inject their own to reach hostile answers. */
export type Resolver = (hostname: string, family: 0 | 4 | 6) => Promise<LookupAddress[]>;

const systemResolver: Resolver = (hostname, family) =>
  new Promise((resolve, reject) => dnsLookup(hostname, { family, all: true }, (error, addresses) => (error ? reject(error) : resolve(addresses))));

export type DownloadOptions = {
  policy: AddressPolicy;
  resolve?: Resolver;
  maxBytes: number;
  timeoutMs: number;
  maxRedirects: number;
};

export type DownloadLimits = { maxBytes?: number; timeoutMs?: number; signal?: AbortSignal };

export type Downloaded = {
  bytes: Buffer;
  /** The URL the bytes finally came from, after redirects. */
  finalUrl: string;
};

class RefusedAddressError extends Error {
  override name = 'RefusedAddressError';
  readonly code = 'EADDRREFUSEDBYPOLICY';
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

function guardedLookup(policy: AddressPolicy, resolve: Resolver) {
  return (hostname: string, options: { all?: boolean; family?: number | string }, callback: LookupCallback) => {
    const family = options.family === 4 || options.family === 6 ? options.family : 0;
    resolve(hostname, family).then((addresses) => {
      // Refuse the host if any of its addresses is refused: a mixed answer is a classic rebinding trick.
      for (const entry of addresses) {
        const refusal = policy.refusal(entry.address);
        if (refusal) return callback(new RefusedAddressError(`${hostname} resolves to ${refusal}`), []);
      }
      if (options.all) return callback(null, addresses);
      const first = addresses[0];
      if (!first) return callback(new Error(`${hostname} has no address`), []);
      return callback(null, first.address, first.family);
    }, (error: NodeJS.ErrnoException) => callback(error, []));
  };
}

function findCause<T extends Error>(error: unknown, type: new (...args: never[]) => T): T | undefined {
  let current: unknown = error;
  for (let depth = 0; current && depth < 8; depth++) {
    if (current instanceof type) return current;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

function describeNetworkError(error: unknown): string {
  const codes: Record<string, string> = {
    ENOTFOUND: 'the host name does not resolve',
    ECONNREFUSED: 'the connection was refused',
    ECONNRESET: 'the connection was reset',
    UND_ERR_CONNECT_TIMEOUT: 'connecting timed out',
    UND_ERR_HEADERS_TIMEOUT: 'the server did not answer in time',
    UND_ERR_BODY_TIMEOUT: 'the server stopped sending data',
    UND_ERR_SOCKET: 'the connection failed',
    CERT_HAS_EXPIRED: 'the TLS certificate has expired',
    DEPTH_ZERO_SELF_SIGNED_CERT: 'the TLS certificate is self-signed',
    ERR_TLS_CERT_ALTNAME_INVALID: 'the TLS certificate does not match the host',
  };
  let current: unknown = error;
  for (let depth = 0; current && depth < 8; depth++) {
    const code = (current as { code?: string }).code;
    if (code && codes[code]) return codes[code];
    current = (current as { cause?: unknown }).cause;
  }
  return 'the download failed';
}

export class Downloader {
  private readonly agent: Agent;

  constructor(private readonly options: DownloadOptions) {
    this.agent = new Agent({
      connect: { lookup: guardedLookup(options.policy, options.resolve ?? systemResolver), timeout: Math.min(options.timeoutMs, 10_000) },
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
      connections: 64,
    });
  }

  /** Downloads `url` into memory. Throws AppError (400-class) for anything the caller can fix. */
  async download(url: string, limits: DownloadLimits = {}): Promise<Downloaded> {
    const chunks: Buffer[] = [];
    const { received, finalUrl } = await this.fetchBody(url, limits, (chunk) => void chunks.push(chunk));
    return { bytes: Buffer.concat(chunks, received), finalUrl };
  }

  /**
   * Downloads `url` into a new file at `path` (for media a decoder must seek in, such as an MP4
   * whose index is at the end). The caller owns the file, also when this throws.
   */
  async downloadToFile(url: string, path: string, limits: DownloadLimits = {}): Promise<{ bytes: number; finalUrl: string }> {
    const file = await open(path, 'wx', 0o600);
    try {
      const { received, finalUrl } = await this.fetchBody(url, limits, async (chunk) => {
        await file.write(chunk);
      });
      return { bytes: received, finalUrl };
    } finally {
      await file.close();
    }
  }

  /** Follows checked redirects and hands the body to `sink` chunk by chunk, within the limits. */
  private async fetchBody(url: string, limits: DownloadLimits, sink: (chunk: Buffer) => Promise<void> | void): Promise<{ received: number; finalUrl: string }> {
    const maxBytes = limits.maxBytes ?? this.options.maxBytes;
    const timeoutMs = limits.timeoutMs ?? this.options.timeoutMs;
    const deadline = AbortSignal.timeout(timeoutMs);
    const signal = limits.signal ? AbortSignal.any([deadline, limits.signal]) : deadline;
    let current = this.checkUrl(url);

    for (let hop = 0; ; hop++) {
      let response: Dispatcher.ResponseData;
      try {
        response = await request(current, {
          method: 'GET',
          dispatcher: this.agent,
          signal,
          headers: { 'user-agent': 'moderation-api/0.1 (+content moderation fetcher)', accept: 'image/*,video/*;q=0.9,*/*;q=0.5' },
        });
      } catch (error) {
        throw this.translate(error, current, deadline, timeoutMs);
      }

      if (response.statusCode >= 300 && response.statusCode < 400 && response.headers.location) {
        await response.body.dump().catch(() => undefined);
        if (hop >= this.options.maxRedirects) {
          throw new AppError('fetch_failed', `Could not fetch the URL: more than ${this.options.maxRedirects} redirects.`);
        }
        current = this.checkUrl(redirectTarget(response.headers.location, current));
        continue;
      }
      if (response.statusCode < 200 || response.statusCode >= 300) {
        await response.body.dump().catch(() => undefined);
        throw new AppError('fetch_failed', `Could not fetch the URL: the server answered HTTP ${response.statusCode}.`);
      }

      const declared = Number(response.headers['content-length']);
      if (Number.isFinite(declared) && declared > maxBytes) {
        discard(response.body);
        throw tooLarge(maxBytes);
      }
      let received = 0;
      try {
        for await (const chunk of response.body) {
          received += (chunk as Buffer).length;
          // Counted as the bytes arrive: a missing or lying Content-Length cannot exhaust memory or disk.
          if (received > maxBytes) {
            discard(response.body);
            throw tooLarge(maxBytes);
          }
          await sink(chunk as Buffer);
        }
      } catch (error) {
        if (error instanceof AppError) throw error;
        discard(response.body);
        throw this.translate(error, current, deadline, timeoutMs);
      }
      if (received === 0) throw new AppError('fetch_failed', 'Could not fetch the URL: the server sent an empty body.');
      return { received, finalUrl: current };
    }
  }

  async close(): Promise<void> {
    await this.agent.close();
  }

  private checkUrl(raw: string): string {
    let parsed: URL;
    try {
      parsed = new URL(raw);
    } catch {
      throw new AppError('url_not_allowed', 'The URL is not a valid absolute URL.');
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new AppError('url_not_allowed', `Only http and https URLs can be fetched, not ${parsed.protocol.replace(':', '')}.`);
    }
    if (parsed.username || parsed.password) {
      throw new AppError('url_not_allowed', 'URLs with embedded credentials are not fetched.');
    }
    // WHATWG URL parsing already turned decimal, octal, hex and shortened IPv4 forms into dotted quads.
    const host = parsed.hostname.replace(/^\[|\]$/g, '').replace(/\.$/, '');
    if (isIP(host)) {
      const refusal = this.options.policy.refusal(host);
      if (refusal) throw new AppError('url_not_allowed', `The URL is not allowed: ${refusal}.`);
    }
    return parsed.toString();
  }

  private translate(error: unknown, url: string, deadline: AbortSignal, timeoutMs: number): AppError {
    const refused = findCause(error, RefusedAddressError);
    if (refused) return new AppError('url_not_allowed', `The URL is not allowed: ${refused.message}.`);
    if (deadline.aborted) {
      return new AppError('fetch_failed', `Could not fetch the URL: no complete answer within ${timeoutMs} ms.`);
    }
    const host = new URL(url).host;
    return new AppError('fetch_failed', `Could not fetch the URL from ${host}: ${describeNetworkError(error)}.`, { cause: error });
  }
}

/** Resolves a redirect's Location against the current URL; a malformed one is the remote server's fault. */
function redirectTarget(location: string | string[], current: string): string {
  const value = Array.isArray(location) ? location[0] : location;
  try {
    return new URL(value ?? '', current).toString();
  } catch {
    throw new AppError('fetch_failed', 'Could not fetch the URL: the server redirected to an invalid address.');
  }
}

/**
 * Abandons a response body. undici emits an 'error' event when a body is destroyed unread, and an
 * 'error' event nobody listens to would crash the process.
 */
function discard(body: Dispatcher.ResponseData['body']): void {
  body.on('error', () => undefined);
  body.destroy();
}

function tooLarge(maxBytes: number): AppError {
  return new AppError('media_too_large', `The file is larger than the limit of ${maxBytes} bytes (FETCH_MAX_BYTES).`);
}
