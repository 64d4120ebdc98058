import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../src/errors.js';
import { AddressPolicy, parseCidrList } from '../src/media/address-policy.js';
import { Downloader } from '../src/media/download.js';
import { startContentServer, type ContentServer } from './helpers/content-server.js';
import { rejection } from './helpers/rejection.js';

describe('address policy', () => {
  const policy = new AddressPolicy([]);

  it.each([
    '127.0.0.1', '10.1.2.3', '172.16.0.1', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '224.0.0.1',
    '255.255.255.255', '::1', '::', 'fe80::1', 'fd00::1', '::ffff:127.0.0.1', '::ffff:7f00:1', '::ffff:a9fe:a9fe', '[::1]',
  ])('refuses %s', (address) => {
    expect(policy.refusal(address)).toMatch(/private|not an IP/);
  });

  it.each(['93.184.216.34', '8.8.8.8', '2606:4700:4700::1111'])('allows public %s', (address) => {
    expect(policy.refusal(address)).toBeNull();
  });

  it('exempts ranges listed in FETCH_ALLOW_PRIVATE', () => {
    const exempt = new AddressPolicy(parseCidrList('10.20.0.0/16, ::1'));
    expect(exempt.refusal('10.20.3.4')).toBeNull();
    expect(exempt.refusal('::1')).toBeNull();
    expect(exempt.refusal('10.21.0.1')).not.toBeNull();
  });
});

const downloadError = (promise: Promise<unknown>) => rejection(promise, AppError);

describe('downloader', () => {
  let server: ContentServer;
  let open: Downloader;
  let strict: Downloader;

  beforeAll(async () => {
    server = await startContentServer();
    const options = { maxBytes: 1000, timeoutMs: 1500, maxRedirects: 2 };
    open = new Downloader({ ...options, policy: new AddressPolicy(parseCidrList('127.0.0.1/32')) });
    strict = new Downloader({ ...options, policy: new AddressPolicy([]) });
  });

  afterAll(async () => {
    await Promise.all([open.close(), strict.close(), server.close()]);
  });

  it('downloads a file and follows redirects up to the limit', async () => {
    server.serve('/file', Buffer.from('hello'));
    server.handle('/hop1', (_q, r) => r.writeHead(302, { location: '/file' }).end());
    const result = await open.download(server.origin + '/hop1');
    expect(result.bytes.toString()).toBe('hello');
    expect(result.finalUrl).toBe(server.origin + '/file');

    server.handle('/bad-location', (_q, r) => r.writeHead(302, { location: 'http://[bad/' }).end());
    expect((await downloadError(open.download(server.origin + '/bad-location'))).detail).toMatch(/invalid address/);

    server.handle('/loop', (_q, r) => r.writeHead(302, { location: '/loop' }).end());
    expect((await downloadError(open.download(server.origin + '/loop'))).detail).toMatch(/redirects/);
  });

  it('refuses loopback by IP and by name, in any spelling, unless allowed', async () => {
    for (const url of ['http://127.0.0.1:1/', 'http://2130706433/', 'http://0x7f.1/', 'http://017700000001/', 'http://[::1]/', 'http://[::ffff:127.0.0.1]/', 'http://localhost:1/']) {
      expect((await downloadError(strict.download(url))).code).toBe('url_not_allowed');
    }
  });

  it('checks every redirect hop against the policy', async () => {
    const exemptHop = new Downloader({ maxBytes: 1000, timeoutMs: 1500, maxRedirects: 2, policy: new AddressPolicy(parseCidrList('127.0.0.1/32')) });
    server.handle('/to-metadata', (_q, r) => r.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' }).end());
    const error = await downloadError(exemptHop.download(server.origin + '/to-metadata'));
    expect(error.code).toBe('url_not_allowed');
    await exemptHop.close();
  });

  it('stops a body larger than the limit, whether Content-Length is absent, honest or lying', async () => {
    server.handle('/chunked', (_q, r) => {
      r.writeHead(200);
      for (let i = 0; i < 50; i++) r.write(Buffer.alloc(100));
      r.end();
    });
    server.serve('/declared', Buffer.alloc(5000));
    expect((await downloadError(open.download(server.origin + '/chunked'))).code).toBe('media_too_large');
    expect((await downloadError(open.download(server.origin + '/declared'))).code).toBe('media_too_large');
  });

  it('gives up on a server that stalls, with a fetch error', async () => {
    server.handle('/stall', (_q, r) => {
      r.writeHead(200, { 'content-length': '500' });
      r.write(Buffer.alloc(10));
    });
    const error = await downloadError(open.download(server.origin + '/stall'));
    expect(error.code).toBe('fetch_failed');
  });

  it('streams into a file, within the same size limit', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'download-test-'));
    try {
      server.serve('/small', Buffer.from('x'.repeat(900)));
      const saved = await open.downloadToFile(server.origin + '/small', join(folder, 'small'));
      expect(saved.bytes).toBe(900);
      expect(readFileSync(join(folder, 'small'), 'utf8')).toBe('x'.repeat(900));
      server.serve('/big', Buffer.alloc(5000));
      expect((await downloadError(open.downloadToFile(server.origin + '/big', join(folder, 'big')))).code).toBe('media_too_large');
      expect(statSync(join(folder, 'big')).size).toBeLessThanOrEqual(1000);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it('reports HTTP errors and empty bodies clearly', async () => {
    expect((await downloadError(open.download(server.origin + '/nope'))).detail).toMatch(/HTTP 404/);
    server.serve('/empty', Buffer.alloc(0));
    expect((await downloadError(open.download(server.origin + '/empty'))).detail).toMatch(/empty/);
  });
});
