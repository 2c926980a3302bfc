#!/usr/bin/env node
// Reference servers that do none of Understudy's work but send exactly its sessions.authenticate
// answer (the same bytes, captured from the server under test), so the run shows how much of the
// ceiling is left once only the answer's size is paid for, with and without Fastify:
//   node bench/lib/reference-servers.mjs node-http|fastify <port> <answer.json>
// Each parses the JSON POST, looks the presented session_token up in a Map (every token maps to
// the one answer) and sends the answer; "ready" on stdout once listening.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import Fastify from 'fastify';

const [kind, portText, answerFile] = process.argv.slice(2);
const port = Number(portText);
const answer = readFileSync(answerFile, 'utf8');
const sessions = new Map();
const find = (token) => {
  // Any token is "known": the reference measures answering, not a lookup that might miss.
  let found = sessions.get(token);
  if (found === undefined) {
    found = answer;
    sessions.set(token, found);
  }
  return found;
};

if (kind === 'node-http') {
  createServer((request, response) => {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk) => {
      body += chunk;
    });
    request.on('end', () => {
      const payload = find(JSON.parse(body || '{}').session_token);
      response.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(payload) });
      response.end(payload);
    });
  }).listen(port, '127.0.0.1', () => process.stdout.write('ready\n'));
} else if (kind === 'fastify') {
  const app = Fastify({ logger: false });
  // Parsed into an object and serialized again, as Understudy's routes return objects.
  const parsed = JSON.parse(answer);
  app.post('/v1/b2b/sessions/authenticate', async (request) => {
    find(request.body.session_token);
    return parsed;
  });
  await app.listen({ port, host: '127.0.0.1' });
  process.stdout.write('ready\n');
} else {
  throw new Error(`unknown reference server ${kind}`);
}
