import { connect, type Socket } from 'node:net';

/**
 * HTTP/1.1 over a plain socket, byte for byte: the hostile-input tests send what fetch refuses to
 * (any method, duplicate or huge headers, invalid UTF-8 in the path, a body that lies about itself).
 * Every request asks for `Connection: close`, so a response ends where the stream ends.
 */
export interface RawRequest {
  readonly method: string;
  /** Sent as is: the caller percent-encodes (or deliberately does not). */
  readonly target: string;
  /** In order, duplicates allowed; `Host` and `Connection: close` are added unless given. */
  readonly headers?: readonly (readonly [string, string])[];
  readonly body?: Buffer | string;
  /** Adds `Content-Length` for the body unless a header already describes it. */
  readonly contentLength?: boolean;
}

export interface RawResponse {
  readonly status: number;
  /** Lower-cased names; repeated headers joined with ", ". */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
  readonly text: string;
}

export type RawOutcome = { readonly kind: 'response'; readonly response: RawResponse } | { readonly kind: 'closed'; readonly bytes: number } | { readonly kind: 'timeout' };

/** Builds the request bytes (exposed for tests that trickle them slowly). */
export function requestBytes(port: number, request: RawRequest): Buffer {
  const headers = [...(request.headers ?? [])];
  const has = (name: string): boolean => headers.some(([key]) => key.toLowerCase() === name);
  if (!has('host')) headers.unshift(['Host', `127.0.0.1:${port}`]);
  if (!has('connection')) headers.push(['Connection', 'close']);
  const body = request.body === undefined ? undefined : Buffer.isBuffer(request.body) ? request.body : Buffer.from(request.body, 'utf8');
  if (body !== undefined && request.contentLength !== false && !has('content-length') && !has('transfer-encoding')) headers.push(['Content-Length', String(body.length)]);
  const head = `${request.method} ${request.target} HTTP/1.1\r\n${headers.map(([name, value]) => `${name}: ${value}\r\n`).join('')}\r\n`;
  return Buffer.concat([Buffer.from(head, 'latin1'), body ?? Buffer.alloc(0)]);
}

/** Sends one request and reads until the server closes; `timeout` when it neither answers nor closes in time. */
export function sendRaw(port: number, request: RawRequest, timeoutMs = 10_000): Promise<RawOutcome> {
  return exchange(port, requestBytes(port, request), request.method.toUpperCase() === 'HEAD', timeoutMs);
}

export function exchange(port: number, bytes: Buffer, isHead: boolean, timeoutMs: number): Promise<RawOutcome> {
  return new Promise((resolve) => {
    const socket: Socket = connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ kind: 'timeout' });
    }, timeoutMs);
    // Not `end`: Node's server drops a request whose client half-closed before the answer was ready.
    socket.on('connect', () => socket.write(bytes));
    socket.on('data', (chunk) => chunks.push(chunk));
    // A reset after the answer was sent still counts as the answer.
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      const all = Buffer.concat(chunks);
      const response = parseResponse(all, isHead);
      resolve(response === undefined ? { kind: 'closed', bytes: all.length } : { kind: 'response', response });
    });
  });
}

/** The first response in `bytes`, or undefined when there is no complete status line and header block. */
export function parseResponse(received: Buffer, isHead: boolean): RawResponse | undefined {
  let bytes = received;
  // Skip interim answers (`100 Continue` to `Expect: 100-continue`).
  while (/^HTTP\/1\.[01] 1\d\d /.test(bytes.subarray(0, 16).toString('latin1')) && bytes.indexOf('\r\n\r\n') >= 0) bytes = bytes.subarray(bytes.indexOf('\r\n\r\n') + 4);
  const end = bytes.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const [statusLine = '', ...lines] = bytes.subarray(0, end).toString('latin1').split('\r\n');
  const status = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1];
  if (status === undefined) return undefined;
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
  }
  let body = bytes.subarray(end + 4);
  if (isHead || status === '204' || status === '304') body = Buffer.alloc(0);
  else if (/chunked/i.test(headers['transfer-encoding'] ?? '')) body = dechunk(body);
  else if (headers['content-length'] !== undefined) body = body.subarray(0, Number(headers['content-length']));
  return { status: Number(status), headers, body, text: body.toString('utf8') };
}

function dechunk(data: Buffer): Buffer {
  const parts: Buffer[] = [];
  let offset = 0;
  while (offset < data.length) {
    const lineEnd = data.indexOf('\r\n', offset);
    if (lineEnd < 0) break;
    const size = Number.parseInt(data.subarray(offset, lineEnd).toString('latin1'), 16);
    if (!Number.isFinite(size) || size === 0) break;
    parts.push(data.subarray(lineEnd + 2, lineEnd + 2 + size));
    offset = lineEnd + 2 + size + 2;
  }
  return Buffer.concat(parts);
}
