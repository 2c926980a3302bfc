import type { Config } from '../config/schema.js';
import { DEFAULT_ACTIVATION_DELAY_SECONDS, type SigningKeystore } from '../crypto/keys/signing-keystore.js';
import { MASTER_KEY_FILE } from '../crypto/keys/master-key.js';
import { openServices } from '../main.js';
import { formatTable } from './cli-support.js';

/** `understudy keys list|rotate`: parses the arguments, asks the signing keystore, prints the answer. */
export const KEYS_USAGE = `Usage: understudy keys <list|rotate> [--activation-delay-seconds <n>] [--config <file>]

  list     Every signing key with its state (next | signing | published | retired) and its timeline.
  rotate   Publish a new key now; it signs after the activation delay (default ${DEFAULT_ACTIVATION_DELAY_SECONDS} s) and the
           current key stays in the JWKS until every JWT it signed has expired. See docs/keys.md.`;

/** Larger delays are surely a typo (a year); they would also leave the old key signing that long. */
const MAX_ACTIVATION_DELAY_SECONDS = 365 * 24 * 3600;

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export interface KeysArguments {
  readonly subcommand: 'list' | 'rotate';
  readonly activationDelaySeconds: number;
}

/** Checks the arguments before anything is opened, so a typo changes nothing. */
export function parseKeysArguments(subcommand: string | undefined, options: { activationDelaySeconds?: string | undefined }): KeysArguments {
  if (subcommand !== 'list' && subcommand !== 'rotate') {
    throw new UsageError(subcommand === undefined ? 'Missing keys subcommand.' : `Unknown keys subcommand "${subcommand}".`);
  }
  const given = options.activationDelaySeconds;
  if (given !== undefined && subcommand !== 'rotate') throw new UsageError('--activation-delay-seconds applies only to `keys rotate`.');
  if (given === undefined) return { subcommand, activationDelaySeconds: DEFAULT_ACTIVATION_DELAY_SECONDS };
  const seconds = /^\d+$/.test(given) ? Number(given) : Number.NaN;
  if (!(seconds <= MAX_ACTIVATION_DELAY_SECONDS)) {
    throw new UsageError(`--activation-delay-seconds must be a whole number of seconds from 0 to ${MAX_ACTIVATION_DELAY_SECONDS} (got "${given}").`);
  }
  return { subcommand, activationDelaySeconds: seconds };
}

export async function runKeysCommand(config: Config, args: KeysArguments, io: { announce: (text: string) => void; out: (text: string) => void; note: (text: string) => void }): Promise<number> {
  const opened = await openServices(config, { announce: io.announce });
  try {
    const keystore = opened.services.keystore;
    if (opened.masterKey.source === 'generated') io.note(`Created ${MASTER_KEY_FILE} in ${config.dataDir} to encrypt signing keys; set UNDERSTUDY_MASTER_KEY in production.`);
    if (args.subcommand === 'list') {
      io.out(formatKeyTable(await keystore.describeKeys()));
      return 0;
    }
    // On a fresh database there is nothing to rotate from: create the first key as `serve` would.
    await keystore.ensureSigningKey();
    const created = await keystore.rotate({ activationDelaySeconds: args.activationDelaySeconds });
    const replaced = (await keystore.describeKeys()).filter((key) => key.kid !== created.kid && key.activeUntil === created.activeFrom);
    const lines = [
      `Rotated the signing key. New key ${created.kid}:`,
      `  published in the JWKS now; signs new JWTs from ${created.activeFrom} (after ${args.activationDelaySeconds} s).`,
      ...replaced.map((key) => `Old key ${key.kid}: signs until ${key.activeUntil}; leaves the JWKS at ${key.publishedUntil}.`),
      'Running servers pick the change up within 15 seconds.',
    ];
    io.out(lines.join('\n'));
    return 0;
  } finally {
    await opened.close();
  }
}

type KeyDescription = Awaited<ReturnType<SigningKeystore['describeKeys']>>[number];

function formatKeyTable(keys: KeyDescription[]): string {
  if (keys.length === 0) return 'No signing keys yet: `understudy serve` or `understudy keys rotate` creates the first one.';
  const header = ['STATE', 'KID', 'CREATED', 'ACTIVE FROM', 'ACTIVE UNTIL', 'PUBLISHED UNTIL'];
  // In signing order: keys created within one second otherwise come out in kid order.
  const ordered = [...keys].sort((a, b) => a.activeFrom.localeCompare(b.activeFrom) || a.createdAt.localeCompare(b.createdAt));
  const rows = ordered.map((key) => [key.state, key.kid, key.createdAt, key.activeFrom, key.activeUntil ?? '-', key.publishedUntil ?? '-']);
  return formatTable(header, rows);
}
