import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv, type AnySchemaObject, type ErrorObject, type ValidateFunction } from 'ajv';
import { StytchError } from 'stytch';
import { expect } from 'vitest';
import { parse } from 'yaml';

/**
 * Validates response bodies against the project's contract, the facts of Stytch's published B2B
 * OpenAPI document (contract/README.md says where they come from), the judge of wire conformance.
 * The document is parsed once per test process and each operation's validator is compiled once.
 */
const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const OPENAPI_FILE = resolve(PROJECT_ROOT, 'contract/stytch-b2b-openapi.yml');
const DOCUMENT_ID = 'https://understudy.invalid/stytch-b2b-openapi.json';

export type HttpMethod = 'get' | 'post' | 'put' | 'delete' | 'patch';
type Schema = Record<string, unknown>;

interface OpenApiDocument {
  readonly paths: Record<string, Partial<Record<HttpMethod, { responses?: Record<string, { content?: Record<string, { schema?: Schema }> }> }>>>;
  readonly components: { readonly schemas: Record<string, Schema> };
}

let loaded: { document: OpenApiDocument; ajv: Ajv } | undefined;
const validators = new Map<string, ValidateFunction>();

function load(): { document: OpenApiDocument; ajv: Ajv } {
  if (loaded !== undefined) return loaded;
  const document = parse(readFileSync(OPENAPI_FILE, 'utf8')) as OpenApiDocument;
  // strict: false because the schemas are registered inside an OpenAPI-shaped `components` wrapper, no JSON Schema keyword.
  const ajv = new Ajv({ strict: false, allErrors: true });
  // `int32` is the only format the document uses; enforce it rather than ignore it.
  ajv.addFormat('int32', { type: 'number', validate: (value: number) => Number.isInteger(value) && value >= -(2 ** 31) && value < 2 ** 31 });
  const schemas = Object.fromEntries(Object.entries(document.components.schemas).map(([name, schema]) => [name, relax(schema, '')]));
  // Registered as one document, so `#/components/schemas/...` inside it resolves against DOCUMENT_ID.
  ajv.addSchema({ $id: DOCUMENT_ID, components: { schemas } });
  loaded = { document, ajv };
  return loaded;
}

/**
 * Copies a schema, applying the one deliberate leniency: the document has no `nullable`
 * annotations at all, yet Stytch itself answers `null` for unset optional references
 * (`results_metadata.next_cursor`, `sso_default_connection_id`, `scim_active_connection`,
 * `lock_created_at`, `mfa_required`, ...). So a property NOT in its object's `required` list may
 * also be `null`. Required properties, types, enums and formats are enforced as written.
 * `refPrefix` turns local `#/...` references into references into the registered document.
 */
function relax(schema: Schema, refPrefix: string): Schema {
  const copy: Schema = { ...schema };
  if (typeof schema.$ref === 'string') copy.$ref = schema.$ref.startsWith('#') ? `${refPrefix}${schema.$ref}` : schema.$ref;
  if (isSchema(schema.items)) copy.items = relax(schema.items, refPrefix);
  if (isSchema(schema.additionalProperties)) copy.additionalProperties = relax(schema.additionalProperties, refPrefix);
  for (const combinator of ['allOf', 'anyOf', 'oneOf'] as const) {
    const list = schema[combinator];
    if (Array.isArray(list)) copy[combinator] = list.map((entry: Schema) => relax(entry, refPrefix));
  }
  if (isSchema(schema.properties)) {
    const required = new Set(Array.isArray(schema.required) ? (schema.required as string[]) : []);
    copy.properties = Object.fromEntries(
      Object.entries(schema.properties as Record<string, Schema>).map(([name, property]) => {
        const relaxed = relax(property, refPrefix);
        return [name, required.has(name) ? relaxed : { anyOf: [relaxed, { type: 'null' }] }];
      }),
    );
  }
  return copy;
}

function isSchema(value: unknown): value is Schema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The compiled validator of the 200 response of `method pathTemplate` (an exact key of `paths`). */
export function responseValidator(method: HttpMethod, pathTemplate: string): ValidateFunction {
  const key = `${method} ${pathTemplate}`;
  const cached = validators.get(key);
  if (cached !== undefined) return cached;
  const { document, ajv } = load();
  const operation = document.paths[pathTemplate]?.[method];
  if (operation === undefined) throw new Error(`The OpenAPI document has no operation ${method.toUpperCase()} ${pathTemplate}`);
  const schema = operation.responses?.['200']?.content?.['application/json']?.schema;
  if (schema === undefined) throw new Error(`${method.toUpperCase()} ${pathTemplate} documents no application/json 200 response`);
  const validate = ajv.compile(relax(schema, DOCUMENT_ID) as AnySchemaObject);
  validators.set(key, validate);
  return validate;
}

/** The schema violations of `body` as readable lines; empty when it conforms. */
export function responseSchemaErrors(method: HttpMethod, pathTemplate: string, body: unknown): string[] {
  const validate = responseValidator(method, pathTemplate);
  if (validate(body)) return [];
  return (validate.errors ?? []).map(describe);
}

function describe(error: ErrorObject): string {
  return `${error.instancePath || '(root)'} ${error.message ?? 'is invalid'} ${JSON.stringify(error.params)}`;
}

/** Fails the test, listing every violation, unless `body` matches the documented 200 response. */
export function expectToMatchResponseSchema(method: HttpMethod, pathTemplate: string, body: unknown): void {
  const errors = responseSchemaErrors(method, pathTemplate, body);
  const message = `response of ${method.toUpperCase()} ${pathTemplate} does not match the OpenAPI schema:\n  ${errors.join('\n  ')}\n`;
  expect(errors, message).toEqual([]);
}

export interface ExpectedStytchError {
  readonly status: number;
  readonly errorType: string;
  /** The project's environment, which names the request id; `test` unless said otherwise. */
  readonly environment?: 'test' | 'live';
}

/** Checks a thrown SDK error is Stytch's error envelope with this status and error_type. */
export function expectStytchError(error: unknown, expected: ExpectedStytchError): void {
  expect(error, `expected a StytchError, got ${String(error)}`).toBeInstanceOf(StytchError);
  const stytchError = error as StytchError;
  expect({ status_code: stytchError.status_code, error_type: stytchError.error_type }).toEqual({
    status_code: expected.status,
    error_type: expected.errorType,
  });
  expect(stytchError.request_id).toMatch(new RegExp(`^request-id-${expected.environment ?? 'test'}-[0-9a-f-]{36}$`));
  expect(typeof stytchError.error_message === 'string' && stytchError.error_message.length > 0, 'error_message is a non-empty string').toBe(true);
  expect(stytchError.error_url).toMatch(/^https:\/\/stytch\.com\/docs\//);
}

/** Runs `call`, expecting the SDK to reject with this Stytch error. */
export async function expectStytchRejection(call: Promise<unknown>, expected: ExpectedStytchError): Promise<StytchError> {
  const error = await call.then(
    (value) => {
      throw new Error(`expected ${expected.errorType} (${expected.status}), but the call succeeded: ${JSON.stringify(value)}`);
    },
    (reason: unknown) => reason,
  );
  expectStytchError(error, expected);
  return error as StytchError;
}
