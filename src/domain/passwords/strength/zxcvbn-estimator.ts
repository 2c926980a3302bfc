import { type ZxcvbnEstimate, zxcvbnEstimate } from './zxcvbn-estimate.js';

/**
 * Where zxcvbn runs. A worst-case estimate costs a hundred milliseconds or more of CPU, and
 * passwords.strengthCheck is called on every keystroke, so the server runs it on worker threads
 * (src/passwords/zxcvbn/), bounded: a full queue refuses with `too_many_requests` (429) and a
 * worker that fails answers `server_unavailable` (503), so a caller sees a retryable refusal.
 */
export interface ZxcvbnEstimator {
  /** zxcvbn's score and feedback for `password`, with `userInputs` (the address, a name) counting against it. */
  estimate(password: string, userInputs: readonly string[]): Promise<ZxcvbnEstimate>;
  /** Releases what the estimator holds (its threads); later estimates are refused. */
  close(): Promise<void>;
}

/**
 * zxcvbn on the calling thread: blocks the event loop for the whole estimate. For tests and
 * one-shot tools, never for the server.
 */
export class InThreadZxcvbn implements ZxcvbnEstimator {
  async estimate(password: string, userInputs: readonly string[]): Promise<ZxcvbnEstimate> {
    return zxcvbnEstimate(password, userInputs);
  }

  async close(): Promise<void> {}
}
