import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { answerJson, shareJson } from '../../src/http/wire/answer-json.js';
import { deepFreeze } from '../../src/platform/deep-freeze.js';

/** JSON-like values, with the things JSON.stringify drops or converts (undefined, functions, -0, dates). */
const value = fc.letrec((tie) => ({
  leaf: fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.double(), fc.integer(), fc.boolean(), fc.constant(null), fc.constant(undefined), fc.constant(-0), fc.date({ noInvalidDate: true })),
  node: fc.oneof({ maxDepth: 3 }, tie('leaf'), fc.array(tie('node'), { maxLength: 4 }), fc.dictionary(fc.string({ unit: 'binary' }), tie('node'), { maxKeys: 4 })),
})).node;

describe('answerJson', () => {
  it('gives exactly the bytes of JSON.stringify for any answer, shared parts spliced in or not', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string({ unit: 'binary' }), value, { maxKeys: 8 }), fc.array(fc.boolean(), { maxLength: 8 }), (body, share) => {
        const answer: Record<string, unknown> = { ...body, fn: () => 1 };
        Object.keys(answer).forEach((key, index) => {
          const part = answer[key];
          if (share[index] === true && part !== null && typeof part === 'object') answer[key] = shareJson(deepFreeze(part));
        });
        expect(answerJson(answer)).toBe(JSON.stringify(answer));
        // Again, now from the remembered text of the shared parts.
        expect(answerJson(answer)).toBe(JSON.stringify(answer));
      }),
      { numRuns: 500 },
    );
  });

  it('refuses to share an object that could still change', () => {
    expect(() => shareJson({ a: 1 })).toThrow(/frozen/);
  });
});
