#!/usr/bin/env node
// The reference for the sign-in scenarios: how many RS256 signatures one core of this machine makes
// per second, with the same library and key size Understudy signs session JWTs with (jose, 2048-bit
// RSA). Every sign-in signs one JWT, so this bounds what any sign-in could reach on one core.
//   node bench/lib/rs256-reference.mjs <seconds>
// Prints one line: {"signatures_per_second": n, "signatures": n, "seconds": s}.
import { generateKeyPair, SignJWT } from 'jose';

const seconds = Number(process.argv[2] ?? 3);
const { privateKey } = await generateKeyPair('RS256', { modulusLength: 2048 });
const claims = { sub: 'member-test-00000000-0000-4000-8000-000000000001', 'https://stytch.com/session': { id: 'session-test-00000000-0000-4000-8000-000000000001' } };
const sign = () => new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: 'jwk-test-bench' }).setIssuedAt().setExpirationTime('5m').sign(privateKey);

// Warm-up: the first signatures pay for JIT compilation and key setup.
for (let index = 0; index < 200; index += 1) await sign();
let count = 0;
const started = performance.now();
const deadline = started + seconds * 1000;
while (performance.now() < deadline) {
  for (let index = 0; index < 50; index += 1) await sign();
  count += 50;
}
const elapsed = (performance.now() - started) / 1000;
process.stdout.write(`${JSON.stringify({ signatures_per_second: count / elapsed, signatures: count, seconds: elapsed })}\n`);
