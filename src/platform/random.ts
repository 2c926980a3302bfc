import { randomBytes, randomUUID } from 'node:crypto';

/** The one source of randomness (style rule 17), injected so tests can make it predictable. */
export interface Random {
  uuid(): string;
  bytes(length: number): Buffer;
}

export const cryptoRandom: Random = {
  uuid(): string {
    return randomUUID();
  },
  bytes(length: number): Buffer {
    return randomBytes(length);
  },
};

/**
 * A deterministic generator for tests: uuids count up, bytes come from a counter.
 * Never use outside tests.
 */
export class SequentialRandom implements Random {
  #counter = 0;

  uuid(): string {
    this.#counter += 1;
    const hex = this.#counter.toString(16).padStart(12, '0');
    return `00000000-0000-4000-8000-${hex}`;
  }

  bytes(length: number): Buffer {
    this.#counter += 1;
    const out = Buffer.alloc(length);
    for (let index = 0; index < length; index += 1) out[index] = (this.#counter + index) & 0xff;
    return out;
  }
}
