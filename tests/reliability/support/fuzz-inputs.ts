import fc from 'fast-check';

/**
 * fast-check generators of hostile input for the fuzz tests: strings that break naive code
 * (NUL, lone surrogates, direction marks, huge), JSON of the wrong shape, raw bytes that are not
 * UTF-8 or not JSON, and path segments whose percent-encoding decodes to invalid UTF-8.
 */

/** Strings that have broken servers before; each is tried as a value, a key, a path segment. */
export const NASTY_STRINGS: readonly string[] = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\ud800',
  '\udfff',
  'x\ud83dy',
  '\u202eevil\u202c',
  '\u200f\u200e',
  '\ufeff{}',
  '\u2028\u2029',
  '👩‍👩‍👧‍👦🏳️‍🌈',
  'Z̤͔ͧ̑̓ä͖̭̈̇lͮ̒ͫǧ̗͚̚o̙̔ͮ̇͐̇',
  '../../../../etc/passwd',
  '..%2f..%2f',
  "' OR '1'='1' --",
  '"; DROP TABLE members; --',
  '%',
  '%00',
  '%zz',
  '\\',
  '\\u0000',
  '<script>alert(1)</script>',
  '{{7*7}}#{7*7}<%= 7*7 %>',
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'null',
  'undefined',
  'NaN',
  '-0',
  '1e309',
  '9007199254740993',
  'organization-test-00000000-0000-4000-8000-000000000000',
  'member-test-00000000-0000-4000-8000-000000000000',
  'member-session-test-00000000-0000-4000-8000-000000000000',
  'eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.',
  'eyJhbGciOiJSUzI1NiIsImtpZCI6Imp3ay10ZXN0LW5vcGUifQ.eyJzdWIiOiJ4In0.c2ln',
  'A'.repeat(44),
  'a@b',
  'ann@example.com\r\nBcc: x@example.com',
  '\r\n\r\nHTTP/1.1 200 OK',
];

const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((code) => String.fromCharCode(code));
const oddCharacter = fc.oneof(loneSurrogate, fc.constantFrom('\u0000', '\u202e', '\u200f', '\ufeff', '\u2028', '😀', '\ud83d', '"', '\\', '/', '%', '\n'));

export const hostileString: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...NASTY_STRINGS) },
  { weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: oddCharacter, maxLength: 24 }) },
  { weight: 2, arbitrary: fc.string({ maxLength: 20 }) },
  { weight: 1, arbitrary: fc.integer({ min: 129, max: 200_000 }).map((length) => 'x'.repeat(length)) },
);

/** Any JSON value, nested a little, with hostile strings and edge numbers. */
export function hostileJson(keys: readonly string[]): fc.Arbitrary<unknown> {
  const key = fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...keys) }, { weight: 1, arbitrary: hostileString });
  const leaf = fc.oneof(
    { weight: 4, arbitrary: hostileString },
    { weight: 2, arbitrary: fc.constantFrom(0, -1, 1.5, -0, 1e308, -1e308, 2 ** 53 + 2, 1001, 4096) },
    { weight: 1, arbitrary: fc.integer() },
    { weight: 1, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }) },
    { weight: 2, arbitrary: fc.boolean() },
    { weight: 2, arbitrary: fc.constant(null) },
  );
  const { value } = fc.letrec<{ value: unknown }>((tie) => ({
    value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, fc.array(tie('value'), { maxLength: 4 }), fc.dictionary(key, tie('value'), { maxKeys: 4 })),
  }));
  return value;
}

/** A JSON object whose keys are mostly real field names, so the schema and the services see them. */
export function hostileObject(keys: readonly string[]): fc.Arbitrary<Record<string, unknown>> {
  return fc.dictionary(fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...keys) }, { weight: 1, arbitrary: hostileString }), hostileJson(keys), { maxKeys: 6 });
}

/** Bodies that are not valid JSON, or not UTF-8, or lie about their encoding. */
export const RAW_BODIES: readonly Buffer[] = [
  Buffer.from('{"organization_name": "Half'),
  Buffer.from('{"a":1}{"b":2}'),
  Buffer.from("{'single': 'quotes'}"),
  Buffer.from('{"a":NaN,"b":Infinity}'),
  Buffer.from('{"a":1,}'),
  Buffer.from('/* comment */ {}'),
  Buffer.from('\ufeff{"organization_name":"bom"}'),
  Buffer.from('{"__proto__":{"admin":true}}'),
  Buffer.from('{"constructor":{"prototype":{"admin":true}}}'),
  Buffer.from('{"\\u005f_proto__":{}}'),
  Buffer.concat([Buffer.from('{"organization_name":"'), Buffer.from([0xc0, 0xaf, 0xe0, 0x80, 0xaf]), Buffer.from('"}')]),
  Buffer.concat([Buffer.from('{"email_address":"'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('@x.com"}')]),
  Buffer.from([0xff, 0xfe, 0x7b, 0x00, 0x7d, 0x00]),
  Buffer.from('{"a":1}', 'utf16le'),
  Buffer.from('\u0000\u0000\u0000'),
  Buffer.from('"just a string"'),
  Buffer.from('12345678901234567890123456789'),
  Buffer.from('null'),
  Buffer.from('[]'),
  Buffer.from('{"a":"\\ud800"}'),
  Buffer.from('{"a":"\\u0000"}'),
  Buffer.from('{"a":"\\x41"}'),
];

export const rawBody: fc.Arbitrary<Buffer> = fc.oneof(fc.constantFrom(...RAW_BODIES), fc.uint8Array({ maxLength: 256 }).map((bytes) => Buffer.from(bytes)));

/** Percent-encodes a path segment or query value; lone surrogates become the invalid UTF-8 bytes of a surrogate. */
export function encodeHostile(value: string): string {
  let encoded = '';
  for (let index = 0; index < value.length; index += 1) {
    const code = value.charCodeAt(index);
    const isHigh = code >= 0xd800 && code <= 0xdbff;
    const next = value.charCodeAt(index + 1);
    if (isHigh && next >= 0xdc00 && next <= 0xdfff) {
      encoded += encodeURIComponent(value.slice(index, index + 2));
      index += 1;
    } else if (code >= 0xd800 && code <= 0xdfff) {
      encoded += `%${(0xe0 | (code >> 12)).toString(16)}%${(0x80 | ((code >> 6) & 0x3f)).toString(16)}%${(0x80 | (code & 0x3f)).toString(16)}`.toUpperCase();
    } else encoded += encodeURIComponent(value[index] as string);
  }
  return encoded;
}

/** Already-encoded segments that decode to nothing sensible. */
export const RAW_SEGMENTS: readonly string[] = ['%C0%AF', '%E0%80%AF', '%ED%A0%80', '%FF%FE', '%', '%zz', '%2e%2e', '..', '.', '%2F', '%00', '%25', 'a%0d%0aSet-Cookie:%20x=1', ''];

/**
 * Path segments are ids and are logged (query strings are not); a JWT-shaped segment would trip the
 * suite's scan of the logs for JWTs, so those stay in bodies, headers and query strings.
 */
export const pathSegment = (known: readonly string[]): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...known).map(encodeHostile) },
    { weight: 4, arbitrary: hostileString.filter((value) => value.length < 2000 && !value.startsWith('eyJ')).map(encodeHostile) },
    { weight: 2, arbitrary: fc.constantFrom(...RAW_SEGMENTS) },
  );

export const queryString = (keys: readonly string[]): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 2, arbitrary: fc.constant('') },
    {
      weight: 5,
      arbitrary: fc
        .array(fc.tuple(fc.oneof(fc.constantFrom(...keys), hostileString.filter((value) => value.length < 100)), hostileString.filter((value) => value.length < 5000)), { maxLength: 4 })
        .map((pairs) => (pairs.length === 0 ? '' : `?${pairs.map(([key, value]) => `${encodeHostile(key)}=${encodeHostile(value)}`).join('&')}`)),
    },
    { weight: 1, arbitrary: fc.constantFrom('?&&==&', '?a[]=1&a[b]=2', '?__proto__[x]=1&constructor[prototype][y]=2', '?limit=1&limit=2&cursor=%ZZ', `?q=${'%C0%AF'.repeat(20)}`, '?%00=%00') },
  );

/** What goes into a generated request besides the method and path. */
export const METHODS_OTHER_THAN_THE_ROUTES: readonly string[] = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD', 'PROPFIND', 'TRACE', 'SEARCH', 'PURGE', 'get', 'post', 'FOO', 'M-SEARCH'];

export const CONTENT_TYPES: readonly string[] = [
  'application/json',
  'application/json; charset=utf-8',
  'APPLICATION/JSON',
  'application/json; charset=utf-16',
  'application/json; charset=latin1',
  'application/jsonx',
  'text/plain',
  'text/html',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=xyz',
  'application/octet-stream',
  '',
  ';;;',
  'application/json, text/plain',
];
