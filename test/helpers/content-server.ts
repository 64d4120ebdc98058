import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A loopback web server that hands out test files, the way user uploads are served by a CDN. */

type Handler = (request: IncomingMessage, response: ServerResponse) => void;

export type ContentServer = {
  origin: string;
  /** Serves `body` at `path`; returns the full URL. */
  serve(path: string, body: Buffer, contentType?: string): string;
  handle(path: string, handler: Handler): string;
  hits(path: string): number;
  close(): Promise<void>;
};

/** `host` may be any loopback address (127.0.0.2 lets a test exempt the server but not 127.0.0.1). */
export async function startContentServer(host = '127.0.0.1'): Promise<ContentServer> {
  const handlers = new Map<string, Handler>();
  const hitCounts = new Map<string, number>();
  const server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0] ?? '/';
    hitCounts.set(path, (hitCounts.get(path) ?? 0) + 1);
    const handler = handlers.get(path);
    if (!handler) {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    handler(request, response);
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const origin = `http://${host}:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    serve(path, body, contentType = 'application/octet-stream') {
      handlers.set(path, (_request, response) => {
        response.writeHead(200, { 'content-type': contentType, 'content-length': body.length }).end(body);
      });
      return origin + path;
    },
    handle(path, handler) {
      handlers.set(path, handler);
      return origin + path;
    },
    hits: (path) => hitCounts.get(path) ?? 0,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
