import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PACKAGE_NAME = 'understudy-server';

let cached: string | undefined;

/**
 * The installed package's version, read from its package.json, so `understudy --version` and the
 * package can never disagree. Looked for upwards from this file: it is two levels up from both
 * `src/cli` and `dist/cli`, and further from copies compiled elsewhere (the benchmark's build).
 */
export function packageVersion(): string {
  if (cached !== undefined) return cached;
  let directory = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = readManifest(join(directory, 'package.json'));
    if (manifest?.name === PACKAGE_NAME) {
      cached = typeof manifest.version === 'string' ? manifest.version : 'unknown';
      return cached;
    }
    const parent = dirname(directory);
    if (parent === directory) return 'unknown';
    directory = parent;
  }
}

function readManifest(file: string): { name?: unknown; version?: unknown } | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as { name?: unknown; version?: unknown };
  } catch {
    return undefined;
  }
}
