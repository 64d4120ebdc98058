import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startContentServer, type ContentServer } from './helpers/content-server.js';
import { createSqliteDatabase, type TestDatabase } from './helpers/databases.js';
import { patternImage } from './helpers/images.js';

/** The service as a user runs it: `tsx src/main.ts`, real sockets, real signals. */

type Running = { child: ChildProcess; origin: string; output: () => string };

async function startService(env: Record<string, string>): Promise<Running> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk) => (output += chunk));
  child.stderr?.on('data', (chunk) => (output += chunk));
  const origin = await new Promise<string>((resolve, reject) => {
    child.stdout?.on('data', () => {
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match?.[1]) resolve(match[1]);
    });
    child.on('exit', (code) => reject(new Error(`service exited with ${code} before listening:\n${output}`)));
  });
  return { child, origin, output: () => output };
}

async function exitOf(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return child.exitCode;
  const [code] = (await once(child, 'exit')) as [number | null];
  return code;
}

describe('the service process', () => {
  let database: TestDatabase;
  let content: ContentServer;
  let service: Running;

  beforeAll(async () => {
    database = await createSqliteDatabase();
    content = await startContentServer();
    service = await startService({ DATABASE_URL: database.url, FETCH_ALLOW_PRIVATE: '127.0.0.1/32' });
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

  it('finishes and exits cleanly on SIGTERM', async () => {
    service.child.kill('SIGTERM');
    expect(await exitOf(service.child)).toBe(0);
    expect(service.output()).toContain('SIGTERM received');
  });

  it('refuses to start, saying why, when the local image model cannot be loaded', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      env: { PATH: process.env.PATH ?? '', DATABASE_URL: database.url, PORT: '0', LOCAL_IMAGE_MODEL_PATH: '/nonexistent/model' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
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
