import secureJson from 'secure-json-parse';
import { type DomainError, isDomainError } from '../../domain/common/domain-error.js';
import { sharedError } from '../../domain/common/errors.js';
import { checkMemberExternalId, checkMemberName, checkMetadata, checkPhoneNumber, normalizeEmail } from '../../domain/members/member.js';
import { passwordError } from '../../domain/passwords/errors.js';
import type { PasswordHashing } from '../../domain/passwords/password-hashing.js';
import type { MemberMigrationInput } from '../../domain/passwords/password-migration.js';
import { PASSWORD_HASH_TYPES, type PasswordHash, type PasswordHashConfig, type PasswordHashType } from '../../domain/passwords/stored-password.js';

/**
 * One member of an import file, decoded and checked as far as it can be without the database: the
 * fields passwords.migrate takes (same names), the address canonical, the hash checked by
 * PasswordHashing.checkMigratedHash. `hash` is undefined for a member imported without a password.
 */
export interface MemberLine {
  readonly number: number;
  /** What the line names the organization by: its id, slug or external id. */
  readonly organizationReference: string;
  readonly emailAddress: string;
  readonly fields: Omit<MemberMigrationInput, 'organizationId' | 'emailAddress' | 'hash'>;
  readonly hash: PasswordHash | undefined;
}

/** A line that cannot be imported: its number and the Stytch error_type (and message) saying why. */
export interface LineFailure {
  readonly number: number;
  readonly code: string;
  readonly message: string;
}

/** A line longer than this is refused unread: a member's fields (4 KB of metadata each) fit many times over. */
export const MAX_LINE_BYTES = 64 * 1024;
/** Nesting deeper than this is no real metadata, and would overflow the stack when written back out. */
const MAX_DEPTH = 64;

/** The config field each hash type reads; any other config on the line is a mistake. */
const CONFIG_FIELD: Readonly<Record<PasswordHashType, ConfigField | undefined>> = {
  md_5: 'md_5_config',
  sha_1: 'sha_1_config',
  sha_512: 'sha_512_config',
  argon_2i: 'argon_2_config',
  argon_2id: 'argon_2_config',
  scrypt: 'scrypt_config',
  pbkdf_2: 'pbkdf_2_config',
  bcrypt: undefined,
  phpass: undefined,
};
const CONFIG_FIELDS = ['md_5_config', 'sha_1_config', 'sha_512_config', 'argon_2_config', 'scrypt_config', 'pbkdf_2_config'] as const;
type ConfigField = (typeof CONFIG_FIELDS)[number];

const STRING_FIELDS = ['organization_id', 'email_address', 'name', 'external_id', 'mfa_phone_number', 'hash', 'hash_type'] as const;
const KNOWN_FIELDS: ReadonlySet<string> = new Set([
  ...STRING_FIELDS,
  'roles',
  'trusted_metadata',
  'untrusted_metadata',
  'set_phone_number_verified',
  ...CONFIG_FIELDS,
]);

/**
 * Decodes one line. A line that is only white space is no member (undefined). Unknown fields are
 * refused rather than ignored: in a file written by a migration script, a misspelt field
 * (`trusted_metdata`) would otherwise drop data without a word.
 */
export function decodeMemberLine(
  number: number,
  text: string,
  hashing: Pick<PasswordHashing, 'checkMigratedHash'>,
): MemberLine | LineFailure | undefined {
  if (text.trim() === '') return undefined;
  try {
    return decode(number, text, hashing);
  } catch (error) {
    if (!isDomainError(error)) throw error;
    return lineFailure(number, error);
  }
}

export function isLineFailure(value: MemberLine | LineFailure): value is LineFailure {
  return 'code' in value;
}

export function lineFailure(number: number, error: DomainError): LineFailure {
  return { number, code: error.code, message: error.message };
}

function decode(number: number, text: string, hashing: Pick<PasswordHashing, 'checkMigratedHash'>): MemberLine {
  const body = parseObject(text);
  const unknown = Object.keys(body).find((field) => !KNOWN_FIELDS.has(field));
  if (unknown !== undefined) throw badLine(`unknown field "${unknown.slice(0, 100)}"; a line takes the fields of passwords.migrate (docs/import.md).`);
  for (const field of STRING_FIELDS) {
    // null stands for an absent field, as JSON exporters often write one.
    if (body[field] === null) delete body[field];
    else if (body[field] !== undefined && typeof body[field] !== 'string') throw badLine(`${field} must be a string.`);
  }
  const organizationReference = required(body, 'organization_id');
  const emailAddress = normalizeEmail(required(body, 'email_address'));
  return {
    number,
    organizationReference,
    emailAddress,
    // Checked here as passwords.migrate checks them, so a bad line is refused before its batch's
    // transaction rather than rolling the batch back.
    fields: {
      name: mapDefined(body.name as string | undefined, checkMemberName),
      roles: optionalRoles(body.roles),
      trustedMetadata: mapDefined(optionalObject(body, 'trusted_metadata'), (metadata) => checkMetadata(metadata, 'trusted_metadata')),
      untrustedMetadata: mapDefined(optionalObject(body, 'untrusted_metadata'), (metadata) => checkMetadata(metadata, 'untrusted_metadata')),
      externalId: mapDefined(body.external_id as string | undefined, (externalId) => (externalId === '' ? externalId : checkMemberExternalId(externalId))),
      mfaPhoneNumber: mapDefined(body.mfa_phone_number as string | undefined, checkPhoneNumber),
      setPhoneNumberVerified: optionalBoolean(body, 'set_phone_number_verified'),
    },
    hash: migratedHash(body, hashing),
  };
}

function parseObject(text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = secureJson.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' });
  } catch {
    throw sharedError('invalid_json', 'The line is not valid JSON.');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw badLine('The line must be a JSON object.');
  if (deeperThan(value, MAX_DEPTH)) throw sharedError('invalid_json', `The line is nested more than ${MAX_DEPTH} levels deep.`);
  return value as Record<string, unknown>;
}

/** The hash and its configuration, checked; undefined when the line has neither hash nor hash_type. */
function migratedHash(body: Record<string, unknown>, hashing: Pick<PasswordHashing, 'checkMigratedHash'>): PasswordHash | undefined {
  const hash = body.hash as string | undefined;
  const hashType = body.hash_type as string | undefined;
  const given = CONFIG_FIELDS.filter((field) => body[field] !== undefined && body[field] !== null);
  if (hash === undefined && hashType === undefined) {
    if (given.length > 0) throw passwordError('invalid_hash_config', `${given[0]} is given without a hash.`);
    return undefined;
  }
  if (hashType === undefined) throw badLine('hash_type is required with a hash.');
  if (hash === undefined) throw badLine('hash is required with a hash_type.');
  if (!(PASSWORD_HASH_TYPES as readonly string[]).includes(hashType)) throw passwordError('invalid_hash_type');
  const field = CONFIG_FIELD[hashType as PasswordHashType];
  const stray = given.find((name) => name !== field);
  if (stray !== undefined) throw passwordError('invalid_hash_config', `${stray} does not apply to hash_type ${hashType.slice(0, 100)}.`);
  const config = field === undefined || !given.includes(field) ? null : hashConfig(field, body[field]);
  return hashing.checkMigratedHash(hashType as PasswordHashType, hash, config);
}

/**
 * A config object in the domain's form. Field values are passed on as given: the hash family's check
 * says which are missing or out of range, with the error passwords.migrate gives.
 */
function hashConfig(field: ConfigField, value: unknown): PasswordHashConfig {
  if (typeof value !== 'object' || Array.isArray(value)) throw badLine(`${field} must be an object.`);
  const given = value as Record<string, unknown>;
  // Any JSON value, typed as the field: the family's check refuses what is not.
  const config = (name: string): never => given[name] as never;
  switch (field) {
    case 'md_5_config':
    case 'sha_1_config':
    case 'sha_512_config':
      return { type: 'salted_digest', config: { prependSalt: config('prepend_salt') ?? '', appendSalt: config('append_salt') ?? '' } };
    case 'argon_2_config':
      return {
        type: 'argon_2',
        config: { salt: config('salt'), iterationAmount: config('iteration_amount'), memory: config('memory'), threads: config('threads'), keyLength: config('key_length') },
      };
    case 'scrypt_config':
      return {
        type: 'scrypt',
        config: { salt: config('salt'), nParameter: config('n_parameter'), rParameter: config('r_parameter'), pParameter: config('p_parameter'), keyLength: config('key_length') },
      };
    case 'pbkdf_2_config':
      return { type: 'pbkdf_2', config: { salt: config('salt'), iterationAmount: config('iteration_amount'), keyLength: config('key_length'), algorithm: config('algorithm') } };
  }
}

function required(body: Record<string, unknown>, field: 'organization_id' | 'email_address'): string {
  const value = body[field];
  if (typeof value !== 'string' || value === '') throw badLine(`${field} is required.`);
  return value;
}

function optionalRoles(value: unknown): readonly string[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || value.some((role) => typeof role !== 'string')) throw badLine('roles must be an array of strings.');
  return value as string[];
}

function optionalObject(body: Record<string, unknown>, field: string): Record<string, unknown> | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) throw badLine(`${field} must be an object.`);
  return value as Record<string, unknown>;
}

function optionalBoolean(body: Record<string, unknown>, field: string): boolean | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw badLine(`${field} must be true or false.`);
  return value;
}

function mapDefined<T, R>(value: T | undefined, check: (value: T) => R): R | undefined {
  return value === undefined ? undefined : check(value);
}

function badLine(message: string): DomainError {
  return sharedError('bad_request', message);
}

/** Whether a parsed JSON value nests deeper than `limit` (walked without recursion). */
function deeperThan(value: object, limit: number): boolean {
  const pending: [unknown, number][] = [[value, 1]];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const [item, depth] = next;
    if (item === null || typeof item !== 'object') continue;
    if (depth > limit) return true;
    for (const child of Object.values(item)) if (child !== null && typeof child === 'object') pending.push([child, depth + 1]);
  }
  return false;
}
