#!/usr/bin/env node
// Derives contract/stytch-b2b-openapi.yml from Stytch's public B2B OpenAPI document.
//
//   node scripts/derive-contract.mjs <path-to-stytch-b2b-openapi.yml> [--out <file>]
//
// Keeps the facts a client or a validator needs (paths, methods, operation ids, parameters,
// request and response schemas, components.schemas with their types, required lists, enums,
// formats and bounds) and drops the document's prose and samples (descriptions, summaries,
// examples, code samples, tags), which are not ours to copy. Every key is either kept or dropped
// on purpose: a key this script does not know stops it, so a refreshed document can never lose
// a fact silently. The output depends only on the input bytes (same input, same file).
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const DEFAULT_OUT = join(ROOT, 'contract', 'stytch-b2b-openapi.yml');

/** Prose, samples and grouping: dropped wherever they appear as a keyword (never as a name). */
const DROPPED = new Set(['description', 'summary', 'example', 'examples', 'title', 'tags', 'externalDocs', 'contact', 'license', 'termsOfService']);

/** JSON Schema / OpenAPI 3.0 schema keywords that carry a fact, by the kind of value they hold. */
const SCHEMA_SCALARS = new Set([
  'type', 'format', 'enum', 'const', 'required', 'default', 'nullable', 'deprecated', 'readOnly', 'writeOnly',
  'minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'multipleOf',
  'minLength', 'maxLength', 'pattern', 'minItems', 'maxItems', 'uniqueItems', 'minProperties', 'maxProperties',
  '$ref', 'discriminator',
]);
const SCHEMA_SUBSCHEMA = new Set(['items', 'not']);
const SCHEMA_LISTS = new Set(['allOf', 'anyOf', 'oneOf']);

const HTTP_METHODS = new Set(['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace']);

/**
 * OpenAPI 3.0 requires a `description` on every response object. Stytch's wording is dropped and
 * replaced by the standard reason phrase of the status (RFC 9110), written here rather than taken
 * from Node, so the output does not change with the Node version.
 */
const REASON_PHRASES = {
  200: 'OK', 201: 'Created', 202: 'Accepted', 204: 'No Content',
  400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed',
  409: 'Conflict', 422: 'Unprocessable Content', 429: 'Too Many Requests',
  500: 'Internal Server Error', 502: 'Bad Gateway', 503: 'Service Unavailable',
  default: 'Default response',
};

class UnknownKey extends Error {}

function isObject(value) {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Copies `source`, keeping the keys `keep` handles and dropping prose and vendor extensions.
 * `keep(key, value)` returns the kept value, or `undefined` to say the key is unknown.
 */
function pick(source, where, keep) {
  if (!isObject(source)) throw new UnknownKey(`${where}: expected an object, got ${JSON.stringify(source)}`);
  const copy = {};
  for (const [key, value] of Object.entries(source)) {
    if (DROPPED.has(key) || key.startsWith('x-')) continue;
    const kept = keep(key, value);
    if (kept === undefined) throw new UnknownKey(`${where}: unknown key "${key}"; decide whether it is a fact to keep or prose to drop`);
    copy[key] = kept;
  }
  return copy;
}

function mapValues(source, where, each) {
  if (!isObject(source)) throw new UnknownKey(`${where}: expected an object`);
  return Object.fromEntries(Object.entries(source).map(([name, value]) => [name, each(value, `${where}.${name}`)]));
}

function schema(source, where) {
  return pick(source, where, (key, value) => {
    if (SCHEMA_SCALARS.has(key)) return structuredClone(value);
    if (SCHEMA_SUBSCHEMA.has(key)) return schema(value, `${where}.${key}`);
    if (SCHEMA_LISTS.has(key)) return value.map((entry, index) => schema(entry, `${where}.${key}[${index}]`));
    if (key === 'properties') return mapValues(value, `${where}.properties`, schema);
    if (key === 'additionalProperties') return typeof value === 'boolean' ? value : schema(value, `${where}.additionalProperties`);
    return undefined;
  });
}

function mediaTypes(source, where) {
  return mapValues(source, where, (media, at) =>
    pick(media, at, (key, value) => (key === 'schema' ? schema(value, `${at}.schema`) : undefined)),
  );
}

function parameter(source, where) {
  return pick(source, where, (key, value) => {
    if (['name', 'in', 'required', 'deprecated', 'allowEmptyValue', 'style', 'explode', 'allowReserved', '$ref'].includes(key)) return value;
    if (key === 'schema') return schema(value, `${where}.schema`);
    if (key === 'content') return mediaTypes(value, `${where}.content`);
    return undefined;
  });
}

function response(source, where, status) {
  const copy = pick(source, where, (key, value) => {
    if (key === '$ref') return value;
    if (key === 'content') return mediaTypes(value, `${where}.content`);
    if (key === 'headers') return mapValues(value, `${where}.headers`, parameter);
    return undefined;
  });
  if (copy.$ref !== undefined) return copy;
  const phrase = REASON_PHRASES[status];
  if (phrase === undefined) throw new UnknownKey(`${where}: no reason phrase for status ${status}; add it to REASON_PHRASES`);
  return { description: phrase, ...copy };
}

function operation(source, where) {
  return pick(source, where, (key, value) => {
    if (['operationId', 'deprecated', 'security'].includes(key)) return structuredClone(value);
    if (key === 'parameters') return value.map((entry, index) => parameter(entry, `${where}.parameters[${index}]`));
    if (key === 'requestBody') {
      return pick(value, `${where}.requestBody`, (bodyKey, bodyValue) => {
        if (bodyKey === 'required' || bodyKey === '$ref') return bodyValue;
        if (bodyKey === 'content') return mediaTypes(bodyValue, `${where}.requestBody.content`);
        return undefined;
      });
    }
    if (key === 'responses') {
      return Object.fromEntries(Object.entries(value).map(([status, entry]) => [status, response(entry, `${where}.responses.${status}`, status)]));
    }
    return undefined;
  });
}

function pathItem(source, where) {
  return pick(source, where, (key, value) => {
    if (HTTP_METHODS.has(key)) return operation(value, `${where}.${key}`);
    if (key === 'parameters') return value.map((entry, index) => parameter(entry, `${where}.parameters[${index}]`));
    if (key === '$ref') return value;
    return undefined;
  });
}

/** The contract document: the facts of `source` (a parsed OpenAPI 3.0 document), nothing else. */
export function deriveContract(source) {
  return pick(source, '(root)', (key, value) => {
    if (key === 'openapi') return value;
    if (key === 'info') return pick(value, 'info', (infoKey, infoValue) => (infoKey === 'version' ? infoValue : undefined));
    if (key === 'servers') return value.map((server, index) => pick(server, `servers[${index}]`, (serverKey, serverValue) => (serverKey === 'url' ? serverValue : undefined)));
    if (key === 'security') return structuredClone(value);
    if (key === 'paths') return mapValues(value, 'paths', pathItem);
    if (key === 'components') {
      return pick(value, 'components', (componentKey, componentValue) => {
        if (componentKey === 'schemas') return mapValues(componentValue, 'components.schemas', schema);
        if (componentKey === 'securitySchemes') {
          return mapValues(componentValue, 'components.securitySchemes', (scheme, at) =>
            pick(scheme, at, (schemeKey, schemeValue) => (['type', 'scheme', 'in', 'name', 'bearerFormat'].includes(schemeKey) ? schemeValue : undefined)),
          );
        }
        return undefined;
      });
    }
    return undefined;
  });
}

/** The contract file's text for the source document's text. */
export function deriveContractText(sourceText) {
  const source = parse(sourceText);
  const contract = deriveContract(source);
  // info.title is the document's name, not prose: kept, and placed first as in the source.
  contract.info = { title: source.info.title, ...contract.info };
  const digest = createHash('sha256').update(sourceText).digest('hex');
  const header = [
    '# Generated by scripts/derive-contract.mjs; do not edit by hand (see contract/README.md).',
    "# The facts of Stytch's public B2B OpenAPI document, without its prose, examples and code samples.",
    `# Source document sha256: ${digest}`,
    '',
  ].join('\n');
  return header + stringify(contract, { lineWidth: 0, aliasDuplicateObjects: false });
}

function main(argv) {
  const args = [...argv];
  let out = DEFAULT_OUT;
  const outIndex = args.indexOf('--out');
  if (outIndex !== -1) {
    out = resolve(args[outIndex + 1] ?? '');
    args.splice(outIndex, 2);
  }
  if (args.length !== 1) {
    process.stderr.write('usage: node scripts/derive-contract.mjs <path-to-stytch-b2b-openapi.yml> [--out <file>]\n');
    return 2;
  }
  let text;
  try {
    text = deriveContractText(readFileSync(resolve(args[0]), 'utf8'));
  } catch (error) {
    if (!(error instanceof UnknownKey) && error?.code !== 'ENOENT') throw error;
    process.stderr.write(`derive-contract: ${error.message}\n`);
    return 1;
  }
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, text);
  process.stdout.write(`derive-contract: wrote ${out} (${Buffer.byteLength(text)} bytes)\n`);
  return 0;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = main(process.argv.slice(2));
}
