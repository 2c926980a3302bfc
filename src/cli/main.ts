#!/usr/bin/env node
import { once } from 'node:events';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../config/load.js';
import { MasterKeyError } from '../crypto/keys/master-key.js';
import { DatabaseSchemaError } from '../storage/schema-migrations.js';
import { initialize, startServer } from '../main.js';
import { runImpersonationCli } from './impersonation-command.js';
import { runImportCli } from './import-command.js';
import { KEYS_USAGE, type KeysArguments, parseKeysArguments, runKeysCommand, UsageError } from './keys-command.js';
import { runInitAdmin, runOperatorsCli } from './operators-command.js';
import { runOutboxCli } from './outbox-command.js';
import { runAuditCli } from './audit-command.js';
import { runRedirectUrlsCli } from './redirect-urls-command.js';
import { runWebhooksCli } from './webhooks-command.js';
import { printable } from './cli-support.js';
import { packageVersion } from './version.js';
import { createLogger } from '../platform/logger.js';
import { startTracing } from '../platform/tracing.js';

const USAGE = `Usage: understudy <command> [--config <file>]

Commands:
  serve         Start the server (creates the data directory, database and project on first start).
  init          Create the data directory, database and project credentials, print them, and exit.
                With --admin-email <address> [--admin-name <name>], also create the first console admin
                (when no operator exists yet) and print its password and TOTP secret; see docs/console.md.
  keys list     List the signing keys with their state and timeline.
  keys rotate   Rotate the signing key [--activation-delay-seconds <n>, default 60]; see docs/keys.md.
  impersonate   Mint a token to impersonate a member (--organization, --member, --impersonator-email, --reason).
  impersonation policy|grants|grant|sessions|revoke|audit
                An organization's impersonation policy and access grants, the impersonated sessions going on
                now, ending them, and the audit trail; \`understudy impersonation --help\` and docs/impersonation.md tell more.
  operators create|list|disable|reset-password|reset-totp
                Console operators; \`understudy operators --help\` and docs/console.md tell more.
  redirect-urls list|add|remove
                The redirect URLs magic links may use; \`understudy redirect-urls --help\` and
                docs/redirect-urls.md tell more.
  webhooks add|list|disable|deliveries
                Signed webhook endpoints for impersonation events and their delivery log;
                \`understudy webhooks --help\` and docs/webhooks.md tell more.
  rbac policy show|apply|history
                The project's RBAC policy: the one in force, applying one from a JSON or YAML file,
                and its versions; \`understudy rbac --help\` and docs/rbac.md tell more.
  audit verify|heads
                The tamper-evident audit chains: check every record, or show each chain's head;
                \`understudy audit --help\` and docs/impersonation.md tell more.
  migrate       Apply the pending database migrations [--status: list applied and pending ones, change nothing];
                see docs/upgrading.md.
  backup <file> Copy the SQLite database to <file> while the server runs (PostgreSQL: pg_dump); see docs/backup.md.
  outbox        Sign-in email and SMS newest first: links and codes kept without a provider, delivery status with one
                [--to <email>] [--limit <n>] [--json]; see docs/email.md.
  import members --file <members.ndjson>
                Members and their password hashes from another system, in bulk, resumable;
                \`understudy import --help\` and docs/import.md tell more.
  version       Print the version (also --version).
  help          Show this text.

Configuration comes from UNDERSTUDY_* environment variables and an optional JSON file
(--config or UNDERSTUDY_CONFIG); see docs/configuration.md.`;

async function main(argv: string[]): Promise<number> {
  // The impersonation commands have their own flags, usage text and exit codes.
  const first = parseArgs({ args: argv, allowPositionals: true, strict: false, options: { config: { type: 'string' } } }).positionals[0];
  if (first === 'impersonate' || first === 'impersonation') {
    return runImpersonationCli(first, argv, { out: writeLine(process.stdout), err: writeLine(process.stderr), drained: () => drained(process.stdout) });
  }
  if (first === 'operators') return runOperatorsCli(argv, { out: writeLine(process.stdout), err: writeLine(process.stderr) });
  if (first === 'outbox') return runOutboxCli(argv, { out: writeLine(process.stdout), err: writeLine(process.stderr) });
  if (first === 'audit') return runAuditCli(argv, { out: writeLine(process.stdout), err: writeLine(process.stderr) });
  if (first === 'redirect-urls') return runRedirectUrlsCli(argv, { out: writeLine(process.stdout), err: writeLine(process.stderr) });
  if (first === 'webhooks') return runWebhooksCli(argv, { out: writeLine(process.stdout), err: writeLine(process.stderr) });
  if (first === 'rbac') {
    // Loaded only here: it brings the YAML parser, which no other command needs at start.
    const { runRbacCli } = await import('./rbac-command.js');
    return runRbacCli(argv, { out: writeLine(process.stdout), err: writeLine(process.stderr) });
  }
  if (first === 'version' || (first === undefined && argv.includes('--version'))) {
    process.stdout.write(`${packageVersion()}\n`);
    return 0;
  }
  if (first === 'migrate' || first === 'backup') {
    // Loaded only here, like rbac: one-shot maintenance commands.
    const io = { out: writeLine(process.stdout), err: writeLine(process.stderr) };
    if (first === 'migrate') return (await import('./migrate-command.js')).runMigrateCli(argv, io);
    return (await import('./backup-command.js')).runBackupCli(argv, io);
  }
  if (first === 'import') return runImportCli(argv, { out: writeLine(process.stdout), err: writeLine(process.stderr), progress: process.stderr });
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      config: { type: 'string' },
      help: { type: 'boolean' },
      'activation-delay-seconds': { type: 'string' },
      'admin-email': { type: 'string' },
      'admin-name': { type: 'string' },
    },
  });
  const command = positionals[0] ?? 'help';
  if (values.help || command === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const keysArguments = command === 'keys' ? parseKeysArguments(positionals[1], { activationDelaySeconds: values['activation-delay-seconds'] }) : undefined;
  if (keysArguments === undefined && values['activation-delay-seconds'] !== undefined) throw new UsageError('--activation-delay-seconds applies only to `keys rotate`.');
  const adminEmail = values['admin-email'];
  const isAdminMisused = command === 'init' ? adminEmail === undefined && values['admin-name'] !== undefined : adminEmail !== undefined || values['admin-name'] !== undefined;
  if (isAdminMisused) {
    process.stderr.write(`--admin-email and --admin-name apply only to \`init\`, and --admin-name needs --admin-email.\n\n${USAGE}\n`);
    return 2;
  }
  const config = loadConfig({ configFile: values.config });
  const announce = (text: string): void => void process.stdout.write(`${text}\n`);
  switch (command) {
    case 'keys':
      return runKeysCommand(config, keysArguments as KeysArguments, { announce, out: announce, note: (text) => void process.stderr.write(`${text}\n`) });
    case 'serve':
      return serve(config, announce);
    case 'init': {
      const { store, bootstrap } = await initialize(config, { announce });
      await store.close();
      if (bootstrap.generatedSecret === undefined) {
        process.stdout.write(`Already initialized: project_id ${bootstrap.project.projectId} (${config.databaseUrl ? 'PostgreSQL' : config.dataDir}).\n`);
      }
      if (adminEmail === undefined) return 0;
      return runInitAdmin(config, { emailAddress: adminEmail, name: values['admin-name'] }, { out: writeLine(process.stdout), err: writeLine(process.stderr) });
    }
    default:
      process.stderr.write(`Unknown command "${printableLines(command)}".\n\n${USAGE}\n`);
      return 2;
  }
}

function writeLine(stream: NodeJS.WriteStream): (text: string) => void {
  return (text) => void stream.write(`${text}\n`);
}

/** Waits for a stream whose buffer is full (a slow pipe reader) to take it. */
async function drained(stream: NodeJS.WriteStream): Promise<void> {
  if (stream.writableNeedDrain) await once(stream, 'drain');
}

async function serve(config: ReturnType<typeof loadConfig>, announce: (text: string) => void): Promise<number> {
  const logger = createLogger(config.logLevel, undefined, config.logFormat);
  // Only when the OTEL_* variables ask for it; the OpenTelemetry packages are loaded only then.
  const tracing = await startTracing(process.env, { version: packageVersion, logger });
  let server: Awaited<ReturnType<typeof startServer>>;
  try {
    server = await startServer(config, { announce, logger, ...(tracing !== undefined && { tracing }) });
  } catch (error) {
    await tracing?.shutdown();
    throw error;
  }
  const lingering = await new Promise<boolean>((resolve) => {
    const stop = (signal: NodeJS.Signals): void => {
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
      logger.info({ signal }, 'understudy is stopping');
      server.close().then(
        (closed) => resolve(closed.lingering),
        (error: unknown) => {
          process.stderr.write(`error while shutting down: ${printableLines((error as Error).message)}\n`);
          resolve(false);
        },
      );
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
  // A trace export still waiting on an unresponsive collector would keep the process alive until
  // its own timeout, past a supervisor's stop grace period; everything else is closed.
  // Exiting at once could reorder the last JSON lines, which are written asynchronously (an exit
  // writes what is queued while an earlier write is still under way): they get half a second first.
  if (lingering) setTimeout(() => process.exit(0), 500).unref();
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof ConfigError) {
      process.stderr.write(`${printableLines(error.message)}\n`);
      process.exitCode = 78;
    } else if (error instanceof MasterKeyError) {
      // A configuration problem too (wrong or missing key), not a crash: no stack trace.
      process.stderr.write(`understudy: ${printableLines(error.message)}\n`);
      process.exitCode = 78;
    } else if (error instanceof DatabaseSchemaError) {
      // Pending migrations with UNDERSTUDY_AUTO_MIGRATE=false, or a database a newer version migrated.
      process.stderr.write(`understudy: ${printableLines(error.message)}\n`);
      process.exitCode = 78;
    } else if (error instanceof UsageError || String((error as { code?: unknown }).code).startsWith('ERR_PARSE_ARGS_')) {
      process.stderr.write(`${printableLines((error as Error).message)}\n\n${error instanceof UsageError ? KEYS_USAGE : USAGE}\n`);
      process.exitCode = 2;
    } else {
      process.stderr.write(`understudy: ${printableLines((error as Error).message)}\n`);
      process.exitCode = 1;
    }
  },
);

/** Like cli-support's `printable`, but keeps line breaks: messages may span lines (every configuration problem on its own). */
function printableLines(text: string): string {
  return text.split('\n').map(printable).join('\n');
}
