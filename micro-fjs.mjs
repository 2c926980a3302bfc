// Throwaway: is fast-json-stringify, compiled from the contract's response schema, faster than JSON.stringify?
import { readFileSync } from 'node:fs';
import fjs from 'fast-json-stringify';
import { parse } from 'yaml';
const doc = parse(readFileSync('contract/stytch-b2b-openapi.yml', 'utf8'));
function resolve(node, seen = []) {
  if (Array.isArray(node)) return node.map((n) => resolve(n, seen));
  if (!node || typeof node !== 'object') return node;
  if (node.$ref) { const name = node.$ref.split('/').pop(); if (seen.includes(name)) return {}; return resolve(doc.components.schemas[name], [...seen, name]); }
  const out = {};
  for (const [k, v] of Object.entries(node)) if (!['format', 'nullable', 'enum', 'required'].includes(k)) out[k] = resolve(v, seen);
  return out;
}
const schema = resolve(doc.components.schemas.api_b2b_session_v1_AuthenticateResponse);
// Optional fields may be null on our wire: allow null everywhere for the comparison.
(function nullable(n) { if (!n || typeof n !== 'object') return; if (typeof n.type === 'string' && n.type !== 'object' && n.type !== 'array') n.type = [n.type, 'null']; for (const v of Object.values(n)) nullable(v); })(schema);
const body = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const stringify = fjs(schema);
const a = JSON.stringify(body), b = stringify(body);
console.log('bytes equal:', a === b, a.length, b.length);
for (const [name, fn] of [['JSON.stringify', JSON.stringify], ['fast-json-stringify', stringify], ['JSON.stringify', JSON.stringify], ['fast-json-stringify', stringify]]) {
  const n = 200000; const t = process.hrtime.bigint(); for (let i = 0; i < n; i++) fn(body); const ns = Number(process.hrtime.bigint() - t) / n;
  console.log(name, (ns / 1000).toFixed(2), 'µs per answer');
}
