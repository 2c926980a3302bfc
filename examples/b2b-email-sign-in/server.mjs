import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { B2BClient } from 'stytch';
import { createExampleApp } from './app.mjs';

/**
 * Starts the example app. Settings come from the environment:
 *
 *   UNDERSTUDY_URL      where Understudy listens (default http://127.0.0.1:8080)
 *   STYTCH_PROJECT_ID   the project id Understudy printed on its first start
 *   STYTCH_SECRET       the project secret printed with it
 *   STYTCH_PUBLIC_TOKEN the project's public token (printed with them, and in Understudy's "listening"
 *                       log line), for "Sign in with SSO"; without it the SSO form says it is not set up
 *   UNDERSTUDY_PUBLIC_URL  where browsers reach Understudy, when not at UNDERSTUDY_URL (behind a proxy)
 *   PORT                this app's port (default 3000); HOST its address (default 127.0.0.1)
 *   APP_URL             where browsers reach this app (default http://localhost:$PORT)
 *
 * Without STYTCH_PROJECT_ID and STYTCH_SECRET, the credentials Understudy wrote on its first start
 * are read from UNDERSTUDY_CREDENTIALS_FILE (default ../../data/credentials.json, the file a plain
 * `npm start` at the repository root creates), with the public token it holds too.
 */
const here = fileURLToPath(new URL('.', import.meta.url));
const port = Number(process.env.PORT ?? 3000);
const host = process.env.HOST ?? '127.0.0.1';
const appUrl = (process.env.APP_URL ?? `http://localhost:${port}`).replace(/\/+$/, '');
const understudyUrl = (process.env.UNDERSTUDY_URL ?? 'http://127.0.0.1:8080').replace(/\/+$/, '');
const { projectId, secret, publicToken: storedPublicToken } = credentials();
const publicToken = process.env.STYTCH_PUBLIC_TOKEN ?? storedPublicToken;
const browserUrl = (process.env.UNDERSTUDY_PUBLIC_URL ?? understudyUrl).replace(/\/+$/, '');

const client = new B2BClient({
  project_id: projectId,
  secret,
  // The SDK takes any http(s) URL as `env` (and warns that it is custom); `custom_base_url` only https.
  ...(understudyUrl.startsWith('https://') ? { custom_base_url: `${understudyUrl}/` } : { env: `${understudyUrl}/` }),
});

// Understudy's own endpoints (support access, impersonation history) are called with the same credentials.
const sso = publicToken ? { url: browserUrl, publicToken } : undefined;
createExampleApp({ client, appUrl, understudy: { url: understudyUrl, projectId, secret }, sso }).listen(port, host, () => {
  console.log(`Example app on ${appUrl} (Understudy at ${understudyUrl}, project ${projectId}).`);
  if (sso === undefined) console.log('"Sign in with SSO" is off: set STYTCH_PUBLIC_TOKEN to the public token Understudy printed.');
  console.log(`Its redirect URLs are ${appUrl}/authenticate and, for password resets, ${appUrl}/reset. Allow them, from the repository root:`);
  console.log(`  node dist/cli/main.js redirect-urls add ${appUrl}/authenticate --type login,signup,invite,discovery --default`);
  console.log(`  node dist/cli/main.js redirect-urls add ${appUrl}/reset --type reset_password --default`);
  console.log('(A project with no redirect URL at all allows http://localhost:3000/authenticate only: enough for the email flows, not for password resets.)');
});

function credentials() {
  const fromEnv = { projectId: process.env.STYTCH_PROJECT_ID, secret: process.env.STYTCH_SECRET };
  if (fromEnv.projectId && fromEnv.secret) return { ...fromEnv, publicToken: undefined };
  const file = resolve(here, process.env.UNDERSTUDY_CREDENTIALS_FILE ?? '../../data/credentials.json');
  try {
    const stored = JSON.parse(readFileSync(file, 'utf8'));
    if (typeof stored.project_id === 'string' && typeof stored.secret === 'string') {
      return { projectId: stored.project_id, secret: stored.secret, publicToken: typeof stored.public_token === 'string' ? stored.public_token : undefined };
    }
  } catch {
    // Reported below.
  }
  console.error(`Set STYTCH_PROJECT_ID and STYTCH_SECRET (printed by Understudy's first start), or start Understudy first so that ${file} exists.`);
  process.exit(1);
}
