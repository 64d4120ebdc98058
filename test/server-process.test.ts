import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startContentServer, type ContentServer } from './helpers/content-server.js';
import { createSqliteDatabase, type TestDatabase } from './helpers/databases.js';
import { patternImage } from './helpers/images.js';
import { exitOf, startServiceProcess, type ServiceProcess } from './helpers/service-process.js';

/** The service as a user runs it: `tsx src/main.ts`, real sockets, real signals. */

/** Resolves with the error code of a new TCP connection to `origin` (undefined when it connects). */
function connectionError(origin: string): Promise<string | undefined> {
  const { hostname, port } = new URL(origin);
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname);
    socket.once('connect', () => {
      socket.destroy();
      resolve(undefined);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code));
  });
}

/** A handler that starts answering only when the test says so, and says when the download began. */
function heldImage(content: ContentServer, path: string, image: Buffer) {
  let release: () => void = () => undefined;
  const released = new Promise<void>((resolve) => (release = resolve));
  let started: () => void = () => undefined;
  const downloadStarted = new Promise<void>((resolve) => (started = resolve));
  const url = content.handle(path, (_request, response) => {
    started();
    void released.then(() => response.writeHead(200, { 'content-type': 'image/jpeg' }).end(image));
  });
  return { url, downloadStarted, release };
}

const postImage = (origin: string, url: string) =>
  fetch(`${origin}/analyse/image`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ url, user_uuid: 'u-1' }) });

describe('the service process', () => {
  let database: TestDatabase;
  let content: ContentServer;
  let service: ServiceProcess;

  beforeAll(async () => {
    database = await createSqliteDatabase();
    content = await startContentServer();
    service = await startServiceProcess({ DATABASE_URL: database.url, FETCH_ALLOW_PRIVATE: '127.0.0.1/32' });
  });

  afterAll(async () => {
    if (service?.child.exitCode === null) service.child.kill('SIGKILL');
    await content?.close();
    await database?.drop();
  });

  it('answers over real HTTP, also when the image server is slow to answer', async () => {
    const image = await patternImage(11);
    // Answering only after the request body has long been read catches a request signal that
    // aborts too early.
    const url = content.handle('/slow.jpg', (_request, response) => {
      setTimeout(() => response.writeHead(200, { 'content-type': 'image/jpeg' }).end(image), 300);
    });
    const response = await fetch(`${service.origin}/analyse/image`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ url, user_uuid: 'u-1' }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(await response.json()).toMatchObject({ decision: 'pass', provider: 'nsfwjs', source: 'local', is_duplicate: false });
    expect((await fetch(`${service.origin}/docs`)).status).toBe(200);
  });

  it('writes one JSON log line per request', async () => {
    await service.until('"route":"/docs"');
    const lines = service
      .output()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines.find((line) => line.route === '/analyse/image')).toMatchObject({ method: 'POST', status: 200, source: 'local', provider: 'nsfwjs', content_type: 'image' });
    expect(lines.find((line) => line.route === '/docs')).toMatchObject({ method: 'GET', status: 200 });
  });

  it('on SIGTERM refuses new connections, finishes the request in flight, and exits 0', async () => {
    const held = heldImage(content, '/held.jpg', await patternImage(12));
    const inFlight = postImage(service.origin, held.url);
    await held.downloadStarted;

    service.child.kill('SIGTERM');
    await service.until('SIGTERM received');
    expect(await connectionError(service.origin)).toBe('ECONNREFUSED');
    expect(service.child.exitCode).toBeNull();

    held.release();
    const response = await inFlight;
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ decision: 'pass', source: 'local' });
    expect(await exitOf(service.child)).toBe(0);
    expect(service.output()).toContain('Stopped.');
  });

  it('cuts off requests still open at SHUTDOWN_TIMEOUT_MS and exits 1', async () => {
    // A remote image provider (never reached here) spares loading the offline model.
    const other = await startServiceProcess({
      DATABASE_URL: database.url,
      FETCH_ALLOW_PRIVATE: '127.0.0.1/32',
      SHUTDOWN_TIMEOUT_MS: '200',
      IMAGE_PROVIDER: 'sightengine',
      SIGHTENGINE_API_USER: 'user',
      SIGHTENGINE_API_SECRET: 'secret-for-this-test',
      SIGHTENGINE_BASE_URL: 'http://127.0.0.1:9/1.0',
    });
    const held = heldImage(content, '/never.jpg', await patternImage(13));
    const inFlight = postImage(other.origin, held.url).then(
      () => 'answered',
      () => 'cut off',
    );
    await held.downloadStarted;
    other.child.kill('SIGTERM');
    expect(await exitOf(other.child)).toBe(1);
    expect(await inFlight).toBe('cut off');
    expect(other.output()).toContain('SHUTDOWN_TIMEOUT_MS=200');
    expect(other.output()).not.toContain('secret-for-this-test');
    held.release();
  });

  it('refuses to start, saying why, when the local image model cannot be loaded', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      env: { PATH: process.env.PATH ?? '', DATABASE_URL: database.url, PORT: '0', LOCAL_IMAGE_MODEL_PATH: '/nonexistent/model' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    // Logged (stdout) as a fatal line: the configuration was valid, so the logger exists.
    child.stdout?.on('data', (chunk) => (output += chunk));
    child.stderr?.on('data', (chunk) => (output += chunk));
    expect(await exitOf(child)).toBe(1);
    expect(output).toContain('Could not load the local image model (/nonexistent/model)');
  });

  it('refuses to start without API keys on an address other machines can reach', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      env: { PATH: process.env.PATH ?? '', DATABASE_URL: database.url, PORT: '0', HOST: '0.0.0.0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stderr?.on('data', (chunk) => (output += chunk));
    expect(await exitOf(child)).toBe(1);
    expect(output).toContain('no API_KEYS or API_KEYS_FILE is set');
    expect(output).toContain('ALLOW_UNAUTHENTICATED');
  });

  it('refuses to start on a bad setting, naming the variable', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      env: { PATH: process.env.PATH ?? '', DATABASE_URL: database.url, DEDUPE_PASS_MAX_DISTANCE: '40' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stderr?.on('data', (chunk) => (output += chunk));
    expect(await exitOf(child)).toBe(1);
    expect(output).toContain('DEDUPE_PASS_MAX_DISTANCE');
    expect(output).not.toContain('    at ');
  });
});
