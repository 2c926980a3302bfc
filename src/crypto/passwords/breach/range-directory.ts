import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type BreachRangeSource, breachRangeKey, rangeListsSuffix } from './range-key.js';

/**
 * Breached passwords from a directory of HaveIBeenPwned range files, as the official downloader
 * writes them (`5BAA6.txt`) or bare (`5BAA6`): one file per 5-character prefix, read when a password
 * with that prefix is checked, never the whole directory. No network is involved. A prefix with no
 * file has no breached passwords (a partial download is allowed); any other read error throws, so
 * the caller refuses rather than calling a password safe.
 */
export class RangeDirectoryBreachedPasswords implements BreachRangeSource {
  readonly #directory: string;

  constructor(directory: string) {
    this.#directory = directory;
  }

  async isBreached(password: string): Promise<boolean> {
    const { prefix, suffix } = breachRangeKey(password);
    const range = (await this.#read(`${prefix}.txt`)) ?? (await this.#read(prefix));
    return range !== undefined && rangeListsSuffix(range, suffix);
  }

  async #read(fileName: string): Promise<string | undefined> {
    try {
      return await readFile(join(this.#directory, fileName), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }
}
