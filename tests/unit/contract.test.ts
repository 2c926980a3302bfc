import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';

/**
 * contract/stytch-b2b-openapi.yml holds the facts of Stytch's public B2B OpenAPI document and none
 * of its prose or samples. scripts/derive-contract.mjs makes it; these tests run the script as a
 * maintainer would and read the committed file.
 */
const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const CONTRACT = join(PROJECT_ROOT, 'contract/stytch-b2b-openapi.yml');
const SCRIPT = join(PROJECT_ROOT, 'scripts/derive-contract.mjs');
/** Path to a copy of Stytch's public document (contract/README.md says where to get it). */
const SOURCE = process.env.UNDERSTUDY_STYTCH_OPENAPI_SOURCE;

/** Objects whose keys are names (paths, schema names, property names, statuses, media types). */
const NAME_MAPS = new Set(['paths', 'schemas', 'properties', 'responses', 'content', 'headers', 'securitySchemes']);
const PROSE_KEYS = new Set(['description', 'summary', 'example', 'examples', 'title', 'tags', 'externalDocs']);
const REASON_PHRASE = /^(OK|Created|Accepted|No Content|Bad Request|Unauthorized|Forbidden|Not Found|Method Not Allowed|Conflict|Unprocessable Content|Too Many Requests|Internal Server Error|Bad Gateway|Service Unavailable|Default response)$/;

type Node = Record<string, unknown>;

function isObject(value: unknown): value is Node {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Every prose or sample key of the document, as `path.to.key`; names of properties are not keys. */
function proseKeys(value: unknown, at: string, parentKey = ''): string[] {
  if (Array.isArray(value)) return value.flatMap((entry, index) => proseKeys(entry, `${at}[${index}]`));
  if (!isObject(value)) return [];
  const found: string[] = [];
  for (const [key, child] of Object.entries(value)) {
    const path = `${at}.${key}`;
    if (NAME_MAPS.has(parentKey)) {
      found.push(...proseKeys(child, path, `${parentKey}-entry`));
      continue;
    }
    // OpenAPI requires a response description: the standard reason phrase stands in for Stytch's words.
    const isResponseDescription = parentKey === 'responses-entry' && key === 'description' && typeof child === 'string' && REASON_PHRASE.test(child);
    const isDocumentTitle = at === '(root).info' && key === 'title';
    if ((PROSE_KEYS.has(key) && !isResponseDescription && !isDocumentTitle) || key.startsWith('x-')) found.push(path);
    found.push(...proseKeys(child, path, key));
  }
  return found;
}

function references(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(references);
  if (!isObject(value)) return [];
  return Object.entries(value).flatMap(([key, child]) => (key === '$ref' && typeof child === 'string' ? [child] : references(child)));
}

function derive(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [SCRIPT, ...args], { encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('the committed contract', () => {
  const text = readFileSync(CONTRACT, 'utf8');
  const contract = parse(text) as Node & { paths: Record<string, Record<string, Node>>; components: { schemas: Record<string, Node> } };

  it('keeps no description, summary, example, code sample or other prose key', () => {
    expect(proseKeys(contract, '(root)')).toEqual([]);
    expect(text).not.toMatch(/x-code-samples|\bexamples?:/);
  });

  it('keeps the facts: operations, parameters, required lists, enums, formats, and every $ref resolves', () => {
    const operation = contract.paths['/v1/b2b/organizations/{organization_id}']?.get as Node;
    expect(operation.operationId).toBe('api_organization_v1_Get');
    expect(operation.parameters).toEqual(
      expect.arrayContaining([{ name: 'organization_id', in: 'path', required: true, schema: { type: 'string' } }]),
    );
    const organization = contract.components.schemas.api_organization_v1_Organization as Node & { required: string[]; properties: Record<string, Node> };
    expect(organization.required).toContain('organization_slug');
    expect(organization.properties.email_allowed_domains).toEqual({ type: 'array', items: { type: 'string' } });
    const metrics = contract.components.schemas.api_organization_v1_MetricsResponse as { properties: Record<string, Node> };
    expect(metrics.properties.member_count).toMatchObject({ type: 'integer', format: 'int32', minimum: 0 });
    // Property names that look like prose keys are names, and stay.
    expect(Object.keys((contract.components.schemas.api_b2b_rbac_v1_PolicyRole as { properties: Node }).properties)).toContain('description');
    for (const reference of new Set(references(contract))) {
      const name = /^#\/components\/schemas\/(.+)$/.exec(reference)?.[1];
      expect(name !== undefined && name in contract.components.schemas, `${reference} resolves`).toBe(true);
    }
  });
});

describe('scripts/derive-contract.mjs', () => {
  const directory = mkdtempSync(join(tmpdir(), 'understudy-contract-'));
  afterAll(() => rmSync(directory, { recursive: true, force: true }));

  const tiny = {
    openapi: '3.0.3',
    info: { title: 'Tiny', version: '1.0.0', description: 'Prose.', license: { name: 'Proprietary' } },
    servers: [{ url: 'https://test.example', description: 'Test' }],
    tags: [{ name: 'Things' }],
    paths: {
      '/v1/things/{thing_id}': {
        get: {
          summary: 'Get',
          operationId: 'get_thing',
          tags: ['Things'],
          description: 'Returns a thing.',
          parameters: [{ name: 'thing_id', in: 'path', required: true, description: 'The id.', schema: { type: 'string', description: 'The id.' } }],
          responses: {
            '200': { description: 'Successful response', content: { 'application/json': { schema: { $ref: '#/components/schemas/Thing' } } } },
            '401': { description: 'Unauthorized', content: { 'application/json': { example: { status_code: 401 } } } },
          },
          'x-code-samples': [{ lang: 'bash', label: 'cURL', source: 'curl …' }],
        },
      },
    },
    components: {
      securitySchemes: { basicAuth: { type: 'http', scheme: 'basic', description: 'Project id and secret.' } },
      schemas: {
        Thing: {
          type: 'object',
          description: 'A thing.',
          required: ['thing_id', 'description'],
          properties: {
            thing_id: { type: 'string', description: 'Its id.', example: 'thing-1' },
            description: { type: 'string', description: 'A property named description.' },
            kind: { type: 'string', enum: ['big', 'small'] },
            count: { type: 'integer', format: 'int32', minimum: 0 },
            tags: { type: 'array', items: { $ref: '#/components/schemas/Tag' } },
            extra: { type: 'object', additionalProperties: { type: 'string', description: 'Any.' } },
          },
        },
        Tag: { oneOf: [{ type: 'string' }, { type: 'integer', title: 'Number' }] },
      },
    },
  };

  it('keeps the facts and drops the prose, examples and code samples', () => {
    const source = join(directory, 'tiny.yml');
    const out = join(directory, 'tiny-contract.yml');
    writeFileSync(source, stringify(tiny));
    const result = derive([source, '--out', out]);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const text = readFileSync(out, 'utf8');
    expect(text.split('\n')[0]).toMatch(/^# Generated by scripts\/derive-contract\.mjs/);
    expect(parse(text)).toEqual({
      openapi: '3.0.3',
      info: { title: 'Tiny', version: '1.0.0' },
      servers: [{ url: 'https://test.example' }],
      paths: {
        '/v1/things/{thing_id}': {
          get: {
            operationId: 'get_thing',
            parameters: [{ name: 'thing_id', in: 'path', required: true, schema: { type: 'string' } }],
            responses: {
              '200': { description: 'OK', content: { 'application/json': { schema: { $ref: '#/components/schemas/Thing' } } } },
              '401': { description: 'Unauthorized', content: { 'application/json': {} } },
            },
          },
        },
      },
      components: {
        securitySchemes: { basicAuth: { type: 'http', scheme: 'basic' } },
        schemas: {
          Thing: {
            type: 'object',
            required: ['thing_id', 'description'],
            properties: {
              thing_id: { type: 'string' },
              description: { type: 'string' },
              kind: { type: 'string', enum: ['big', 'small'] },
              count: { type: 'integer', format: 'int32', minimum: 0 },
              tags: { type: 'array', items: { $ref: '#/components/schemas/Tag' } },
              extra: { type: 'object', additionalProperties: { type: 'string' } },
            },
          },
          Tag: { oneOf: [{ type: 'string' }, { type: 'integer' }] },
        },
      },
    });
    // Same input, same bytes.
    const again = join(directory, 'tiny-contract-again.yml');
    expect(derive([source, '--out', again]).status).toBe(0);
    expect(readFileSync(again, 'utf8')).toBe(text);
  });

  it('stops on a key it does not know, so no fact is lost silently', () => {
    const source = join(directory, 'unknown.yml');
    const out = join(directory, 'unknown-contract.yml');
    const withUnknown = structuredClone(tiny) as typeof tiny & { components: { schemas: { Thing: Node } } };
    withUnknown.components.schemas.Thing.patternProperties = { '^x_': { type: 'string' } };
    writeFileSync(source, stringify(withUnknown));
    const result = derive([source, '--out', out]);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('components.schemas.Thing: unknown key "patternProperties"');
  });

  it.skipIf(SOURCE === undefined)(
    're-deriving the public document gives the committed contract byte for byte (set UNDERSTUDY_STYTCH_OPENAPI_SOURCE to a copy of it to run)',
    () => {
      const out = join(directory, 'rederived.yml');
      const result = derive([SOURCE ?? '', '--out', out]);
      expect(result.stderr).toBe('');
      expect(result.status).toBe(0);
      expect(readFileSync(out, 'utf8') === readFileSync(CONTRACT, 'utf8'), 'the committed contract is what the script derives').toBe(true);
    },
  );
});
