import type { ZxcvbnEstimate } from '../../domain/passwords/strength/zxcvbn-estimate.js';

/** What the pool sends a worker: one estimate at a time. */
export interface ZxcvbnRequest {
  readonly password: string;
  readonly userInputs: readonly string[];
}

/** A worker's answer to the request it was last sent: the estimate, or why zxcvbn threw. */
export type ZxcvbnReply = { readonly estimate: ZxcvbnEstimate } | { readonly failure: string };
