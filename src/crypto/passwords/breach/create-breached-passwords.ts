import { statSync } from 'node:fs';
import { RangeApiBreachedPasswords } from './range-api.js';
import { RangeDirectoryBreachedPasswords } from './range-directory.js';
import type { BreachRangeSource } from './range-key.js';

/**
 * The configured breach source (UNDERSTUDY_PASSWORD_BREACH_RANGES_DIR or
 * UNDERSTUDY_PASSWORD_BREACH_RANGE_API_URL), for the domain's BreachedPasswords port, or undefined
 * when neither is set: no breach checks. With both, the directory wins: it answers without the network. A directory that does not exist
 * stops the start, since every check against it would otherwise silently say "not breached".
 */
export function createBreachedPasswords(options: { rangesDir?: string | undefined; rangeApiUrl?: string | undefined; rangeApiTimeoutMs?: number }): BreachRangeSource | undefined {
  if (options.rangesDir !== undefined) {
    if (!isDirectory(options.rangesDir)) throw new Error(`the password breach ranges directory ${options.rangesDir} does not exist or is not a directory`);
    return new RangeDirectoryBreachedPasswords(options.rangesDir);
  }
  if (options.rangeApiUrl !== undefined) {
    return new RangeApiBreachedPasswords({ baseUrl: options.rangeApiUrl, ...(options.rangeApiTimeoutMs !== undefined && { timeoutMs: options.rangeApiTimeoutMs }) });
  }
  return undefined;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
