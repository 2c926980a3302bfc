#!/usr/bin/env node
// The ceiling: a bare node:http server that parses a small JSON POST, does one Map lookup and answers
// with a JSON body of about 1 KB. Nothing that authenticates a session over HTTP on this machine can
// beat it, so Understudy's figures are reported as a share of it.
//   node bench/lib/ceiling-server.mjs <port>     (prints "ready" on stdout once listening)
import { createServer } from 'node:http';

const CEILING_KEY = 'organization-test-00000000-0000-4000-8000-000000000001';

const records = new Map();
records.set(CEILING_KEY, {
  organization_id: CEILING_KEY,
  organization_name: 'Benchmark Co',
  organization_slug: 'benchmark-co',
  trusted_metadata: { padding: 'x'.repeat(850) },
});

const port = Number(process.argv[2]);
createServer((request, response) => {
  let body = '';
  request.setEncoding('utf8');
  request.on('data', (chunk) => {
    body += chunk;
  });
  request.on('end', () => {
    const { key } = JSON.parse(body || '{}');
    const record = records.get(key);
    const payload = JSON.stringify({ request_id: 'request-id-ceiling', status_code: record ? 200 : 404, record });
    response.writeHead(record ? 200 : 404, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) });
    response.end(payload);
  });
}).listen(port, '127.0.0.1', () => process.stdout.write('ready\n'));
