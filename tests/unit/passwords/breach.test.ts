import { mkdirSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createBreachedPasswords } from '../../../src/crypto/passwords/breach/create-breached-passwords.js';
import { RangeApiBreachedPasswords } from '../../../src/crypto/passwords/breach/range-api.js';
import { RangeDirectoryBreachedPasswords } from '../../../src/crypto/passwords/breach/range-directory.js';
import { breachRangeKey, rangeListsSuffix } from '../../../src/crypto/passwords/breach/range-key.js';
import { pwnedSha1, writeBreachRanges, type BreachRanges } from '../../support/breach-ranges.js';

/**
 * The breach sources by k-anonymity: range files in a directory, and a range API (served here by a
 * local HTTP server) that must only ever see the 5-character prefix of the password's SHA-1.
 */
const BREACHED = ['password', 'hunter2', 'Tr0ub4dor&3', 'pässwörd-ünïcode'];
const SAFE = 'no-one-has-ever-used-this-one-7Qz';

describe('range keys', () => {
  it("is the upper-case SHA-1 of the password's UTF-8, split after 5 characters", () => {
    expect(breachRangeKey('password')).toEqual({ prefix: '5BAA6', suffix: '1E4C9B93F3F0682250B6CF8331B7EE68FD8' });
    const unicode = breachRangeKey('pässwörd');
    expect(`${unicode.prefix}${unicode.suffix}`).toBe(pwnedSha1('pässwörd'));
    expect(unicode.suffix).toMatch(/^[0-9A-F]{35}$/);
  });

  it('finds a suffix in CRLF or LF ranges, in either case, and ignores padding lines (count 0) and junk', () => {
    const suffix = '1E4C9B93F3F0682250B6CF8331B7EE68FD8';
    expect(rangeListsSuffix(`0018A45C4D1DEF81644B54AB7F969B88D65:1\r\n${suffix}:9545824\r\n011053FD0102E94D6AE2F8B83D76FAF94F6:1`, suffix)).toBe(true);
    expect(rangeListsSuffix(`0018A45C4D1DEF81644B54AB7F969B88D65:1\n${suffix}:3`, suffix)).toBe(true);
    expect(rangeListsSuffix(`${suffix.toLowerCase()}:3\n`, suffix)).toBe(true);
    expect(rangeListsSuffix(`${suffix}:0\r\n`, suffix)).toBe(false);
    expect(rangeListsSuffix(`${suffix}:lots`, suffix)).toBe(false);
    expect(rangeListsSuffix(`X${suffix}:3\n${suffix.slice(1)}:3`, suffix)).toBe(false);
    expect(rangeListsSuffix('', suffix)).toBe(false);
  });
});

describe('range directory', () => {
  const fixtures: BreachRanges[] = [];
  afterEach(() => {
    for (const fixture of fixtures.splice(0)) fixture.cleanup();
  });
  const ranges = (...args: Parameters<typeof writeBreachRanges>): BreachRanges => {
    const fixture = writeBreachRanges(...args);
    fixtures.push(fixture);
    return fixture;
  };

  it('finds breached passwords in PREFIX.txt files and tells others apart', async () => {
    const source = new RangeDirectoryBreachedPasswords(ranges(BREACHED).dir);
    for (const password of BREACHED) expect(await source.isBreached(password), password).toBe(true);
    expect(await source.isBreached(SAFE)).toBe(false);
    // A near miss (another case) is another hash: not breached.
    expect(await source.isBreached('Password')).toBe(false);
  });

  it('reads bare PREFIX files and LF line endings too; a count of 0 is not a breach', async () => {
    const source = new RangeDirectoryBreachedPasswords(ranges({ hunter2: 17, password: 0 }, { fileNames: 'bare', lineEnding: '\n' }).dir);
    expect(await source.isBreached('hunter2')).toBe(true);
    expect(await source.isBreached('password')).toBe(false);
  });

  it('a missing range file means not breached; an unreadable one throws', async () => {
    const fixture = ranges([]);
    const source = new RangeDirectoryBreachedPasswords(fixture.dir);
    expect(await source.isBreached('password')).toBe(false);
    mkdirSync(join(fixture.dir, '5BAA6.txt'));
    await expect(source.isBreached('password')).rejects.toThrow(/EISDIR/);
  });

  it('createBreachedPasswords: none configured is no source; a directory that is not there stops the start; a directory wins over an API', async () => {
    expect(createBreachedPasswords({})).toBeUndefined();
    expect(() => createBreachedPasswords({ rangesDir: '/nonexistent/understudy-ranges' })).toThrow(/does not exist/);
    const fixture = ranges(['hunter2']);
    const both = createBreachedPasswords({ rangesDir: fixture.dir, rangeApiUrl: 'http://127.0.0.1:9/range/' });
    expect(both).toBeInstanceOf(RangeDirectoryBreachedPasswords);
    expect(await both?.isBreached('hunter2')).toBe(true);
    expect(createBreachedPasswords({ rangeApiUrl: 'https://api.pwnedpasswords.com/range/' })).toBeInstanceOf(RangeApiBreachedPasswords);
  });
});

interface SeenRequest {
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
}

describe('range API', () => {
  const fixture = writeBreachRanges(BREACHED);
  const seen: SeenRequest[] = [];
  /** What the fake API does per request path; the default answers the range, as HaveIBeenPwned does. */
  let respond: (url: string, response: ServerResponse) => void;
  let server: Server;
  let base: string;

  const answerRange = (url: string, response: ServerResponse): void => {
    const prefix = url.split('/').pop() as string;
    // Padding as the real API adds it: lines with a count of 0.
    const padding = ['0000000000000000000000000000000000A:0', 'FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF:0'].join('\r\n');
    response.writeHead(200, { 'content-type': 'text/plain' }).end(`${fixture.rangeOf(prefix)}\r\n${padding}`);
  };

  beforeAll(async () => {
    server = createServer((request, response) => {
      seen.push({ url: request.url ?? '', headers: request.headers });
      respond(request.url ?? '', response);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/range/`;
  });
  afterEach(() => {
    seen.splice(0);
    respond = answerRange;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    fixture.cleanup();
  });
  respond = answerRange;

  it('sends only the 5-character prefix, asks for padding, and finds the suffix in the answer', async () => {
    const source = new RangeApiBreachedPasswords({ baseUrl: base });
    expect(await source.isBreached('password')).toBe(true);
    expect(await source.isBreached(SAFE)).toBe(false);
    expect(seen.map((request) => request.url)).toEqual(['/range/5BAA6', `/range/${pwnedSha1(SAFE).slice(0, 5)}`]);
    for (const request of seen) {
      expect(request.headers['add-padding']).toBe('true');
      // Nothing in the request carries more of the hash, let alone the password.
      const everything = `${request.url} ${JSON.stringify(request.headers)}`;
      expect(everything).not.toContain('1E4C9B93');
      expect(everything).not.toContain(pwnedSha1(SAFE).slice(5, 12));
      expect(everything.toLowerCase()).not.toContain('password');
    }
  });

  it('accepts a base URL without its final slash', async () => {
    const source = new RangeApiBreachedPasswords({ baseUrl: base.replace(/\/$/, '') });
    expect(await source.isBreached('hunter2')).toBe(true);
    expect(seen[0]?.url).toBe(`/range/${pwnedSha1('hunter2').slice(0, 5)}`);
  });

  it('throws when the API fails: an error status, an oversized answer, a refused connection', async () => {
    const source = new RangeApiBreachedPasswords({ baseUrl: base });
    respond = (_url, response) => response.writeHead(503).end('busy');
    await expect(source.isBreached('password')).rejects.toThrow(/answered 503/);
    respond = (_url, response) => response.writeHead(200).end('A'.repeat(2 * 1024 * 1024));
    await expect(source.isBreached('password')).rejects.toThrow(/more than/);
    await expect(new RangeApiBreachedPasswords({ baseUrl: 'http://127.0.0.1:9/range/' }).isBreached('password')).rejects.toThrow();
  });

  it('gives up after its timeout when the API does not answer', async () => {
    const hanging: ServerResponse[] = [];
    respond = (_url, response) => {
      hanging.push(response);
    };
    const started = performance.now();
    await expect(new RangeApiBreachedPasswords({ baseUrl: base, timeoutMs: 100 }).isBreached('password')).rejects.toThrow(/timeout|aborted/i);
    expect(performance.now() - started).toBeLessThan(2000);
    for (const response of hanging) response.end();
  });
});
