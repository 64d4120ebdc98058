import { deflateSync } from 'node:zlib';
import type { LookupAddress } from 'node:dns';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { buildDeps, type Deps } from '../src/deps.js';
import { AddressPolicy, parseCidrList } from '../src/media/address-policy.js';
import { Downloader } from '../src/media/download.js';
import { startContentServer, type ContentServer } from './helpers/content-server.js';
import { createSqliteDatabase, type TestDatabase } from './helpers/databases.js';

/**
 * What strangers can send: URLs aimed at the private network in every spelling, and files built to
 * exhaust memory or time. The one exempt server (FETCH_ALLOW_PRIVATE) listens on 127.0.0.2, so
 * 127.0.0.1 and everything else stays forbidden; host names resolve through an injected resolver.
 */

type Json = Record<string, any>;

const dns: Record<string, LookupAddress[]> = {
  'localhost': [{ address: '127.0.0.1', family: 4 }],
  'internal.example': [{ address: '127.0.0.1', family: 4 }],
  'metadata.example': [{ address: '169.254.169.254', family: 4 }],
  'rebind.example': [{ address: '93.184.216.34', family: 4 }, { address: '10.0.0.1', family: 4 }],
  'v6loop.example': [{ address: '::1', family: 6 }],
  'mapped.example': [{ address: '::ffff:192.168.0.1', family: 6 }],
};

async function resolve(hostname: string): Promise<LookupAddress[]> {
  const answer = dns[hostname.replace(/\.$/, '')];
  if (!answer) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
  return answer;
}

/** A PNG header claiming 50000 x 50000 pixels, with almost no data: a decompression bomb's shape. */
function bombPng(): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const crcInput = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    let crc = 0xffffffff;
    for (const byte of crcInput) {
      crc ^= byte;
      for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
    }
    const crcBuffer = Buffer.alloc(4);
    crcBuffer.writeUInt32BE((crc ^ 0xffffffff) >>> 0);
    return Buffer.concat([length, crcInput, crcBuffer]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(50_000, 0);
  header.writeUInt32BE(50_000, 4);
  header.set([8, 2, 0, 0, 0], 8);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(Buffer.alloc(1000))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

describe('hostile URLs and files', () => {
  let database: TestDatabase;
  let content: ContentServer;
  let deps: Deps;
  let app: ReturnType<typeof createApp>;
  let sentByEndlessServer = 0;

  const analyse = async (url: string) => {
    const response = await app.request('/analyse/image', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ url, user_uuid: 'attacker' }),
    });
    return { status: response.status, body: (await response.json()) as Json };
  };

  beforeAll(async () => {
    database = await createSqliteDatabase();
    content = await startContentServer('127.0.0.2');
    const built = await buildDeps(loadConfig({ LOG_LEVEL: 'error', DATABASE_URL: database.url }));
    const downloader = new Downloader({ policy: new AddressPolicy(parseCidrList('127.0.0.2/32')), maxBytes: 1024 * 1024, timeoutMs: 1500, maxRedirects: 3, resolve });
    deps = { ...built, downloader, close: async () => Promise.all([built.close(), downloader.close()]).then(() => undefined) };
    app = createApp(deps);

    for (const [path, target] of [
      ['/to-loopback', 'http://127.0.0.1/'],
      ['/to-metadata', 'http://169.254.169.254/latest/meta-data/'],
      ['/to-internal-name', 'http://internal.example/'],
      ['/to-decimal', 'http://2130706433/'],
      ['/to-v6', 'http://[::1]/'],
    ]) {
      content.handle(path as string, (_request, response) => response.writeHead(302, { location: target }).end());
    }
    content.handle('/endless', (_request, response) => {
      response.writeHead(200, { 'content-type': 'image/jpeg' });
      const chunk = Buffer.alloc(64 * 1024, 0xff);
      const write = () => {
        while (!response.destroyed && sentByEndlessServer < 100 * 1024 * 1024) {
          sentByEndlessServer += chunk.length;
          if (!response.write(chunk)) return void response.once('drain', write);
        }
        response.end();
      };
      response.on('close', () => undefined);
      write();
    });
    content.handle('/drip', (_request, response) => {
      response.writeHead(200, { 'content-type': 'image/jpeg' });
      const timer = setInterval(() => (response.destroyed ? clearInterval(timer) : response.write(Buffer.from([0xff]))), 100);
      response.on('close', () => clearInterval(timer));
    });
    content.handle('/lying-length', (request, response) => {
      // Announces 500 bytes and keeps sending.
      response.socket?.write('HTTP/1.1 200 OK\r\nContent-Type: image/jpeg\r\nContent-Length: 500\r\n\r\n');
      response.socket?.write(Buffer.alloc(5000, 0xff));
      response.socket?.end();
      void request;
    });
    content.serve('/bomb.png', bombPng(), 'image/png');
  });

  afterAll(async () => {
    await deps?.close();
    await content?.close();
    await database?.drop();
  });

  const hostile = [
    'http://127.0.0.1/', 'http://127.0.0.1:8080/admin', 'http://127.1/', 'http://2130706433/', 'http://0x7f000001/', 'http://0x7f.0.0.1/',
    'http://0177.0.0.1/', 'http://017700000001/', 'http://127.0.0.1./', 'http://localhost/', 'http://localhost./', 'http://LOCALHOST/',
    'http://[::1]/', 'http://[0:0:0:0:0:0:0:1]/', 'http://[::ffff:127.0.0.1]/', 'http://[::ffff:7f00:1]/', 'http://[::127.0.0.1]/',
    'http://[64:ff9b::7f00:1]/', 'http://[2002:7f00:1::]/', 'http://[fe80::1]/', 'http://[fc00::1]/', 'http://[::]/', 'http://0.0.0.0/',
    'http://0/', 'http://169.254.169.254/latest/meta-data/', 'http://0xa9.0xfe.0xa9.0xfe/', 'http://[::ffff:a9fe:a9fe]/',
    'http://10.0.0.1/', 'http://172.16.0.1/', 'http://192.168.1.1/', 'http://100.64.0.1/', 'http://224.0.0.1/', 'http://240.0.0.1/',
    'http://255.255.255.255/', 'http://example.com@127.0.0.1/', 'http://user:secret@cdn.example/', 'http://internal.example/',
    'http://metadata.example/', 'http://rebind.example/', 'http://v6loop.example/', 'http://mapped.example/', 'ftp://example.com/a.jpg',
    'file:///etc/passwd', 'gopher://127.0.0.1:70/', 'ws://127.0.0.1/',
  ];

  it.each(hostile)('refuses %s with 400 url_not_allowed and a log row', async (url) => {
    const { status, body } = await analyse(url);
    expect(status).toBe(400);
    expect(body.code).toBe('url_not_allowed');
    expect(body.detail).toMatch(/not allowed|Only http and https|credentials/);
    expect(await deps.store.findLogByRequestId(body.request_id)).toMatchObject({ httpStatus: 400, contentIdentifier: url, userUuid: 'attacker' });
  });

  it.each(['/to-loopback', '/to-metadata', '/to-internal-name', '/to-decimal', '/to-v6'])('refuses a redirect into private space (%s)', async (path) => {
    const { status, body } = await analyse(content.origin + path);
    expect(status).toBe(400);
    expect(body.code).toBe('url_not_allowed');
  });

  it('stops an endless download early, without buffering it', async () => {
    const { status, body } = await analyse(`${content.origin}/endless`);
    expect(status).toBe(400);
    expect(body).toMatchObject({ code: 'media_too_large' });
    // The limit is 1 MiB; what was sent beyond it sat in socket buffers, nowhere near 100 MiB.
    expect(sentByEndlessServer).toBeLessThan(16 * 1024 * 1024);
  });

  it('gives up on a server that drips one byte at a time', async () => {
    const { status, body } = await analyse(`${content.origin}/drip`);
    expect(status).toBe(400);
    expect(body).toMatchObject({ code: 'fetch_failed', detail: expect.stringContaining('no complete answer within') });
  });

  it('never takes more than the announced body from a lying Content-Length', async () => {
    const { status, body } = await analyse(`${content.origin}/lying-length`);
    expect(status).toBe(400);
    expect(['unsupported_media_type', 'fetch_failed']).toContain(body.code);
  });

  it('refuses a decompression bomb before decoding it', async () => {
    const { status, body } = await analyse(`${content.origin}/bomb.png`);
    expect(status).toBe(400);
    expect(body).toMatchObject({ code: 'media_too_large' });
    expect(body.detail).toContain('50000x50000');
    expect(body.detail).toContain('IMAGE_MAX_PIXELS');
  });
});
