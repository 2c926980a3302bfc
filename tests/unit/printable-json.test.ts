import { describe, expect, it } from 'vitest';
import { printableJson } from '../../src/http/wire/json-text.js';

describe('printableJson (NDJSON exports and the CLI --json output)', () => {
  const value = {
    ansi: 'red \u001b[31m',
    del: 'a\u007fb',
    c1: 'csi \u009b2J',
    bidi: 'user\u202e@example.com \u2066x\u2069',
    zeroWidth: 'ad\u200bmin',
    separators: 'one\u2028two\u2029',
    tag: 'flag \u{e0041}',
    plain: 'Ticket 4711: café ✓',
  };

  it('writes every control and format character as an escape, and parses back to the same value', () => {
    const text = printableJson(value);
    expect(/[\p{Cc}\p{Cf}\u2028\u2029]/u.test(text), text).toBe(false);
    expect(JSON.parse(text)).toEqual(value);
    expect(text).toContain('\\u009b');
    expect(text).toContain('\\u202e');
    expect(text).toContain('\\udb40\\udc41');
  });

  it('leaves other text exactly as JSON.stringify writes it', () => {
    expect(printableJson({ plain: value.plain, n: 1, list: [true, null] })).toBe(JSON.stringify({ plain: value.plain, n: 1, list: [true, null] }));
  });
});
