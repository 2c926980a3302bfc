import { Worker } from 'node:worker_threads';
import { sharedError } from '../../domain/common/errors.js';
import type { ZxcvbnEstimate } from '../../domain/passwords/strength/zxcvbn-estimate.js';
import type { ZxcvbnEstimator } from '../../domain/passwords/strength/zxcvbn-estimator.js';
import { rateLimitError } from '../../domain/rate-limits/errors.js';
import type { ZxcvbnReply, ZxcvbnRequest } from './zxcvbn-messages.js';

/**
 * One worker by default. Each worker holds its own copy of the ranked dictionaries (about 70 MB
 * resident once loaded, more while it works through long look-alike passwords), and a second one
 * only helps while two slow estimates overlap: the prefixes of a typed passphrase take a few
 * milliseconds each, so one worker keeps up with about a hundred keystrokes a second even on a
 * busy machine. More workers would also let a flood of worst-case passwords take more cores from
 * the event loop and from argon2 (on two cores, two workers leave none for them).
 */
export const DEFAULT_ZXCVBN_WORKERS = 1;

/**
 * Estimates that may wait for a worker. A worst-case estimate takes about 150 ms, so the last one
 * in a full queue still answers within a few seconds; past it callers get 429 with Retry-After.
 */
export const DEFAULT_ZXCVBN_QUEUE_LENGTH = 16;

interface Job {
  readonly request: ZxcvbnRequest;
  readonly resolve: (estimate: ZxcvbnEstimate) => void;
  readonly reject: (error: unknown) => void;
}

interface Slot {
  readonly worker: Worker;
  /** The estimate this worker is computing; a worker is sent one at a time. */
  job: Job | undefined;
  started: number;
}

/**
 * zxcvbn on worker threads, so that no estimate blocks the server's event loop: at most `workers`
 * threads (started on first use), one estimate each at a time, at most `queueLength` estimates
 * waiting, and any more refused at once with 429 and a Retry-After estimated from how long
 * estimates have been taking. A worker that dies is dropped (the next estimate starts another) and
 * the estimate it was computing fails with `server_unavailable` (503, retryable). Idle workers do
 * not keep the process alive; `close()` ends them.
 */
export class ZxcvbnWorkerPool implements ZxcvbnEstimator {
  readonly #workers: number;
  readonly #queueLength: number;
  readonly #startWorker: () => Worker;
  readonly #onFailure: (error: unknown) => void;
  readonly #slots = new Set<Slot>();
  readonly #waiting: Job[] = [];
  #closed = false;
  /** Moving average of one estimate's duration in milliseconds, for Retry-After. */
  #averageMs = 20;

  constructor(
    options: {
      workers?: number | undefined;
      queueLength?: number | undefined;
      /** Starts one worker thread running zxcvbn-worker.ts (tests start others). */
      startWorker?: (() => Worker) | undefined;
      /** Told why a worker failed or died (for the log); the caller only sees server_unavailable. */
      onFailure?: ((error: unknown) => void) | undefined;
    } = {},
  ) {
    this.#workers = Math.max(1, options.workers ?? DEFAULT_ZXCVBN_WORKERS);
    this.#queueLength = Math.max(0, options.queueLength ?? DEFAULT_ZXCVBN_QUEUE_LENGTH);
    this.#startWorker = options.startWorker ?? startZxcvbnWorker;
    this.#onFailure = options.onFailure ?? (() => undefined);
  }

  /** Workers started, estimates being computed and waiting, for metrics and tests. */
  get load(): { readonly workers: number; readonly running: number; readonly waiting: number } {
    let running = 0;
    for (const slot of this.#slots) if (slot.job !== undefined) running += 1;
    return { workers: this.#slots.size, running, waiting: this.#waiting.length };
  }

  estimate(password: string, userInputs: readonly string[]): Promise<ZxcvbnEstimate> {
    if (this.#closed) return Promise.reject(unavailable());
    const slot = this.#idleSlot();
    if (slot === undefined && this.#waiting.length >= this.#queueLength) {
      // The estimates ahead would take about this long to drain.
      const seconds = Math.ceil(((this.#waiting.length + this.#slots.size) * this.#averageMs) / this.#workers / 1000);
      return Promise.reject(rateLimitError(Math.max(1, seconds)));
    }
    return new Promise<ZxcvbnEstimate>((resolve, reject) => {
      const job: Job = { request: { password, userInputs: [...userInputs] }, resolve, reject };
      if (slot === undefined) this.#waiting.push(job);
      else this.#send(slot, job);
    });
  }

  /** Refuses what waits, fails what runs (both with server_unavailable) and ends every worker. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const job of this.#waiting.splice(0)) job.reject(unavailable());
    const slots = [...this.#slots];
    this.#slots.clear();
    for (const slot of slots) {
      slot.job?.reject(unavailable());
      slot.job = undefined;
    }
    await Promise.all(slots.map((slot) => slot.worker.terminate()));
  }

  /** A started worker with nothing to do, or a new one while there are fewer than `workers`. */
  #idleSlot(): Slot | undefined {
    for (const slot of this.#slots) if (slot.job === undefined) return slot;
    return this.#slots.size < this.#workers ? this.#start() : undefined;
  }

  #start(): Slot {
    const worker = this.#startWorker();
    const slot: Slot = { worker, job: undefined, started: 0 };
    this.#slots.add(slot);
    worker.on('message', (reply: ZxcvbnReply) => this.#answered(slot, reply));
    // 'error' (an uncaught exception, a module that failed to load) is always followed by 'exit'.
    worker.on('error', (error) => this.#onFailure(error));
    worker.on('messageerror', (error) => this.#failed(slot, error));
    worker.on('exit', (code) => this.#exited(slot, code));
    return slot;
  }

  #send(slot: Slot, job: Job): void {
    slot.job = job;
    slot.started = performance.now();
    // Held while it computes, so that a pending estimate keeps the process alive.
    slot.worker.ref();
    slot.worker.postMessage(job.request);
  }

  #answered(slot: Slot, reply: ZxcvbnReply): void {
    const job = slot.job;
    if (job === undefined) return;
    this.#averageMs = this.#averageMs * 0.9 + (performance.now() - slot.started) * 0.1;
    if ('estimate' in reply) job.resolve(reply.estimate);
    else {
      this.#onFailure(new Error(`zxcvbn failed in its worker: ${reply.failure}`));
      job.reject(unavailable());
    }
    this.#next(slot);
  }

  /** A reply that could not be read: that estimate fails; the worker itself is sound. */
  #failed(slot: Slot, error: unknown): void {
    this.#onFailure(error);
    slot.job?.reject(unavailable());
    this.#next(slot);
  }

  #exited(slot: Slot, code: number): void {
    // Ended by close(): its estimate was refused there already.
    if (!this.#slots.delete(slot)) return;
    this.#onFailure(new Error(`a zxcvbn worker exited with code ${code}`));
    slot.job?.reject(unavailable());
    slot.job = undefined;
    // The waiting estimates would otherwise wait for a worker that no longer exists.
    const next = this.#waiting.shift();
    if (next !== undefined) this.#send(this.#start(), next);
  }

  /** Gives the worker the next waiting estimate, or lets it idle without holding the process. */
  #next(slot: Slot): void {
    slot.job = undefined;
    const next = this.#waiting.shift();
    if (next !== undefined) this.#send(slot, next);
    else slot.worker.unref();
  }
}

function unavailable(): Error {
  return sharedError('server_unavailable', 'The password strength check could not be completed right now. Please retry the request.');
}

/**
 * The worker next to this module: compiled JavaScript (dist/, bench/.build/) runs directly; from
 * the TypeScript sources (vitest, `node --import tsx`) Node cannot load a .ts worker by itself, so
 * the worker loads it through tsx (a development dependency, present wherever the sources run).
 */
export function startZxcvbnWorker(): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./zxcvbn-worker.js', import.meta.url));
  const entry = new URL('./zxcvbn-worker.ts', import.meta.url).href;
  const tsx = import.meta.resolve('tsx/esm/api');
  const loader = `import(${JSON.stringify(tsx)}).then((tsx) => tsx.tsImport(${JSON.stringify(entry)}, ${JSON.stringify(entry)}));`;
  return new Worker(loader, { eval: true });
}
