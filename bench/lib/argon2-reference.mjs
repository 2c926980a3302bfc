#!/usr/bin/env node
// The reference for the password scenarios: how many argon2id verifications per second this
// machine makes with the parameters the server runs with, through the same library (@node-rs/argon2,
// whose verify runs on libuv's thread pool) and with as many verifications at once as the server's
// hashing pool has slots. Started pinned like the server, it sees the CPUs the server sees, so its
// default concurrency is the pool's default (UNDERSTUDY_PASSWORD_HASH_CONCURRENCY unset: the CPUs
// this process may run on). A password sign-in verifies one hash, so this bounds its rate.
//   node bench/lib/argon2-reference.mjs <seconds> <memoryKib> <iterations> <parallelism> [concurrency]
// Prints one line: {"verifications_per_second": n, "verifications": n, "seconds": s, "concurrency": c, "parameters": {...}}.
import { availableParallelism } from 'node:os';
import { hash, verify } from '@node-rs/argon2';

const [seconds, memoryKib, iterations, parallelism] = process.argv.slice(2, 6).map(Number);
const concurrency = Number(process.argv[6] ?? availableParallelism());
if (![seconds, memoryKib, iterations, parallelism, concurrency].every((value) => Number.isFinite(value) && value > 0)) {
  process.stderr.write('usage: argon2-reference.mjs <seconds> <memoryKib> <iterations> <parallelism> [concurrency]\n');
  process.exit(2);
}

const password = 'correct horse battery staple 0';
const encoded = await hash(password, { algorithm: 2, memoryCost: memoryKib, timeCost: iterations, parallelism });
const check = async () => {
  if (!(await verify(encoded, password))) throw new Error('argon2id verification of the right password failed');
};

// Warm-up: the first verifications pay for the thread pool's start and the allocator's first pages.
await Promise.all(Array.from({ length: concurrency }, () => check()));
let count = 0;
const started = performance.now();
const deadline = started + seconds * 1000;
// `concurrency` verifications in flight all the time, each lane starting its next as one ends.
await Promise.all(
  Array.from({ length: concurrency }, async () => {
    while (performance.now() < deadline) {
      await check();
      count += 1;
    }
  }),
);
const elapsed = (performance.now() - started) / 1000;
process.stdout.write(
  `${JSON.stringify({ verifications_per_second: count / elapsed, verifications: count, seconds: elapsed, concurrency, parameters: { memory_kib: memoryKib, iterations, parallelism } })}\n`,
);
