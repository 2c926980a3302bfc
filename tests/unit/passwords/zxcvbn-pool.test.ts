import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { isDomainError } from '../../../src/domain/common/domain-error.js';
import { zxcvbnEstimate } from '../../../src/domain/passwords/strength/zxcvbn-estimate.js';
import { InThreadZxcvbn, type ZxcvbnEstimator } from '../../../src/domain/passwords/strength/zxcvbn-estimator.js';
import { RateLimitedError } from '../../../src/domain/rate-limits/errors.js';
import { startZxcvbnWorker, ZxcvbnWorkerPool } from '../../../src/passwords/zxcvbn/zxcvbn-worker-pool.js';

/**
 * zxcvbn on worker threads: the same answers as on the calling thread, an event loop that keeps
 * turning while worst-case passwords are estimated, a bounded queue that refuses with 429, and
 * workers that are started lazily, replaced when they die and ended by close().
 */

/** 64 characters of look-alikes: each is read many ways, zxcvbn's slowest kind of input. */
const WORST_CASES = ['p@$$w0rd', 'P@$$w0rd', '4@$$1!0|', '1l!|@4$5', 'a1@$'].map((unit) => unit.repeat(64 / unit.length));

const pools: ZxcvbnEstimator[] = [];
afterEach(async () => {
  await Promise.all(pools.splice(0).map((pool) => pool.close()));
});

function pool(options: ConstructorParameters<typeof ZxcvbnWorkerPool>[0] = {}): ZxcvbnWorkerPool {
  const started = new ZxcvbnWorkerPool(options);
  pools.push(started);
  return started;
}

/** What a refused or failed estimate rejected with. */
async function refusal(estimate: Promise<unknown>): Promise<unknown> {
  return estimate.then(
    () => 'answered',
    (error: unknown) => error,
  );
}

function codeOf(error: unknown): unknown {
  return isDomainError(error) ? { kind: error.kind, code: error.code } : error;
}

const UNAVAILABLE = { kind: 'unavailable', code: 'server_unavailable' };

/**
 * How many times a 5 ms interval fires while `estimator` computes every password at once. Run
 * synchronously, the batch is one long task and the interval cannot fire during it.
 */
async function ticksDuring(estimator: ZxcvbnEstimator, passwords: readonly string[]): Promise<number> {
  let ticks = 0;
  const interval = setInterval(() => {
    ticks += 1;
  }, 5);
  try {
    await Promise.all(passwords.map((password) => estimator.estimate(password, ['jane.doe@acme-widgets.com'])));
    return ticks;
  } finally {
    clearInterval(interval);
  }
}

/** A worker (plain JavaScript) that runs `body` with `port` its parent port. */
function scriptedWorker(body: string): Worker {
  return new Worker(`const port = require('node:worker_threads').parentPort; ${body}`, { eval: true });
}

describe('ZxcvbnWorkerPool', () => {
  it('starts no worker before the first estimate, then answers exactly as zxcvbn on this thread', async () => {
    let started = 0;
    const zxcvbn = pool({
      startWorker: () => {
        started += 1;
        return startZxcvbnWorker();
      },
    });
    expect(started).toBe(0);
    const cases: Array<[string, string[]]> = [
      ['password', []],
      ['x7Gq!pL2#vR9@mK4', []],
      ['janedoe2024', ['jane.doe@example.com']],
      ['Jane.Doe.Acme', ['  Jane.Doe@Acme-Widgets.com ', '']],
      ['password'.repeat(500), []],
      [`vault-Orbit-7-quiet-Lantern`.repeat(3) + 'a'.repeat(4000), []],
      ['😀😀😀😀passé', ['😀@example.com']],
      ['', []],
      [WORST_CASES[0] ?? '', ['p@$$w0rd@example.com']],
    ];
    const answers = await Promise.all(cases.map(([password, inputs]) => zxcvbn.estimate(password, inputs)));
    expect(answers).toEqual(cases.map(([password, inputs]) => zxcvbnEstimate(password, inputs)));
    expect(started).toBe(1);
    expect(zxcvbn.load).toEqual({ workers: 1, running: 0, waiting: 0 });
  });

  it('keeps the event loop turning while it estimates 20 worst-case passwords at once', async () => {
    const zxcvbn = pool({ queueLength: 20 });
    // Started and its dictionaries loaded first, so that only estimating is measured.
    await zxcvbn.estimate('warm up', []);
    const batch = Array.from({ length: 20 }, (_, index) => WORST_CASES[index % WORST_CASES.length] ?? '');
    // Each estimate takes 100 ms or more, so the batch lasts seconds: a turning loop fires the
    // 5 ms interval hundreds of times. At least 20 leaves room for a loaded machine.
    expect(await ticksDuring(zxcvbn, batch)).toBeGreaterThanOrEqual(20);
  });

  it('(the same measure catches zxcvbn on the event loop: the interval never fires)', async () => {
    expect(await ticksDuring(new InThreadZxcvbn(), WORST_CASES.slice(0, 3))).toBe(0);
  });

  it('refuses past its queue with too_many_requests and a Retry-After, and accepts again once drained', async () => {
    const zxcvbn = pool({ workers: 1, queueLength: 2 });
    // However quick, an answer needs this thread's event loop, so all three are still pending below.
    const passwords = ['password', 'letmein', 'qwerty123'];
    const accepted = passwords.map((password) => zxcvbn.estimate(password, []));
    expect(zxcvbn.load).toEqual({ workers: 1, running: 1, waiting: 2 });
    const refused = await refusal(zxcvbn.estimate('one too many', []));
    expect(refused).toBeInstanceOf(RateLimitedError);
    expect(codeOf(refused)).toEqual({ kind: 'rate_limited', code: 'too_many_requests' });
    expect((refused as RateLimitedError).retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(await Promise.all(accepted)).toEqual(passwords.map((password) => zxcvbnEstimate(password, [])));
    expect(await zxcvbn.estimate('password', [])).toEqual(zxcvbnEstimate('password', []));
  });

  it('fails the estimate of a worker that dies with server_unavailable, and carries on with a new worker', async () => {
    const failures: unknown[] = [];
    let started = 0;
    const zxcvbn = pool({
      workers: 1,
      onFailure: (error) => failures.push(error),
      startWorker: () => {
        started += 1;
        return started === 1 ? scriptedWorker(`port.on('message', () => process.exit(7));`) : startZxcvbnWorker();
      },
    });
    const lost = zxcvbn.estimate('password', []);
    const waiting = zxcvbn.estimate('janedoe2024', ['jane.doe@example.com']);
    expect(codeOf(await refusal(lost))).toEqual(UNAVAILABLE);
    expect(await waiting).toEqual(zxcvbnEstimate('janedoe2024', ['jane.doe@example.com']));
    expect(started).toBe(2);
    expect(failures.map(String)).toContainEqual(expect.stringMatching(/exited with code 7/));
    expect(zxcvbn.load).toEqual({ workers: 1, running: 0, waiting: 0 });
  });

  it('replaces a worker that died while idle on the next estimate', async () => {
    let started = 0;
    const zxcvbn = pool({
      workers: 1,
      startWorker: () => {
        started += 1;
        return started === 1 ? scriptedWorker(`port.once('message', () => { port.postMessage({ estimate: { score: 4, warning: '', suggestions: [] } }); setImmediate(() => process.exit(0)); });`) : startZxcvbnWorker();
      },
    });
    expect(await zxcvbn.estimate('anything', [])).toEqual({ score: 4, warning: '', suggestions: [] });
    await vi.waitFor(() => expect(zxcvbn.load.workers).toBe(0));
    expect(await zxcvbn.estimate('password', [])).toEqual(zxcvbnEstimate('password', []));
    expect(started).toBe(2);
  });

  it('answers server_unavailable, rather than waiting forever, when its worker cannot even load', async () => {
    const failures: unknown[] = [];
    const zxcvbn = pool({ startWorker: () => new Worker(new URL('./no-such-zxcvbn-worker.js', import.meta.url)), onFailure: (error) => failures.push(error) });
    expect(codeOf(await refusal(zxcvbn.estimate('password', [])))).toEqual(UNAVAILABLE);
    expect(failures.map(String)).toContainEqual(expect.stringMatching(/no-such-zxcvbn-worker/));
  });

  it('passes on a failure of zxcvbn itself as server_unavailable, and the worker stays', async () => {
    const failures: unknown[] = [];
    const zxcvbn = pool({
      onFailure: (error) => failures.push(error),
      startWorker: () => scriptedWorker(`port.on('message', () => port.postMessage({ failure: 'RangeError: out of luck' }));`),
    });
    expect(codeOf(await refusal(zxcvbn.estimate('password', [])))).toEqual(UNAVAILABLE);
    expect(String(failures[0])).toMatch(/out of luck/);
    expect(zxcvbn.load).toEqual({ workers: 1, running: 0, waiting: 0 });
  });

  it('close() fails what runs and what waits with server_unavailable, ends its workers and refuses later estimates', async () => {
    const exits: number[] = [];
    let started = 0;
    const zxcvbn = pool({
      workers: 1,
      startWorker: () => {
        started += 1;
        const worker = startZxcvbnWorker();
        worker.on('exit', (code) => exits.push(code));
        return worker;
      },
    });
    const running = refusal(zxcvbn.estimate(WORST_CASES[0] ?? '', []));
    const waiting = refusal(zxcvbn.estimate('password', []));
    await zxcvbn.close();
    expect(exits).toHaveLength(1);
    expect(codeOf(await running)).toEqual(UNAVAILABLE);
    expect(codeOf(await waiting)).toEqual(UNAVAILABLE);
    expect(codeOf(await refusal(zxcvbn.estimate('password', [])))).toEqual(UNAVAILABLE);
    expect(started).toBe(1);
  });

  it('does not keep a process alive once idle, so a command that never closes it still exits', () => {
    const dir = mkdtempSync(join(tmpdir(), 'zxcvbn-pool-'));
    try {
      const script = join(dir, 'estimate-once.mts');
      const poolModule = pathToFileURL(join(import.meta.dirname, '../../../src/passwords/zxcvbn/zxcvbn-worker-pool.ts')).href;
      writeFileSync(script, `const { ZxcvbnWorkerPool } = await import(${JSON.stringify(poolModule)});\nconsole.log(JSON.stringify(await new ZxcvbnWorkerPool().estimate('password', [])));\n`);
      const run = spawnSync(process.execPath, ['--import', 'tsx', script], { encoding: 'utf8', timeout: 20_000, cwd: join(import.meta.dirname, '../../..') });
      expect(run.error).toBeUndefined();
      expect({ status: run.status, stderr: run.stderr }).toEqual({ status: 0, stderr: '' });
      expect(JSON.parse(run.stdout)).toEqual(zxcvbnEstimate('password', []));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
