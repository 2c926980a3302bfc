import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request as the stand-in received it. */
export interface ReceivedRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/**
 * What the stand-in answers to the n-th request (0-based): a status and a body; a status and a body
 * that never ends (`endless` repeated for as long as the client reads); or `hang` to never answer.
 */
export type Answer = { readonly status: number; readonly json?: unknown; readonly text?: string } | { readonly status: number; readonly endless: string } | 'hang';

export interface HttpStandIn {
  readonly url: string;
  readonly requests: ReceivedRequest[];
  close(): Promise<void>;
}

/**
 * A real HTTP server on a free port that records every request and answers as `answer` says: the
 * other end of the SMS providers, as a test sees it.
 */
export async function startHttpStandIn(answer: (request: ReceivedRequest, index: number) => Answer): Promise<HttpStandIn> {
  const requests: ReceivedRequest[] = [];
  const server: Server = createServer((incoming, response) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => {
      const request = { method: incoming.method ?? '', path: incoming.url ?? '', headers: incoming.headers, body: Buffer.concat(chunks).toString('utf8') };
      requests.push(request);
      const reply = answer(request, requests.length - 1);
      if (reply === 'hang') return;
      if ('endless' in reply) {
        response.writeHead(reply.status, { 'content-type': 'text/plain' });
        // As fast as the client reads, until it goes away.
        const pump = (): void => {
          while (!response.destroyed && response.write(reply.endless)) {}
        };
        response.on('drain', pump);
        pump();
        return;
      }
      const body = reply.json !== undefined ? JSON.stringify(reply.json) : (reply.text ?? '');
      response.writeHead(reply.status, reply.json !== undefined ? { 'content-type': 'application/json' } : { 'content-type': 'text/plain' });
      response.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
