import { parseArgs } from 'node:util';
import type { Config } from '../config/schema.js';
import { loadConfig } from '../config/load.js';
import { needsTotpEnrolment, OPERATOR_ROLES, type Operator, type OperatorRole } from '../domain/operators/operator.js';
import type { OperatorCredentials } from '../domain/operators/operators-service.js';
import type { OperationContext } from '../domain/common/operation-context.js';
import type { Services } from '../services.js';
import { formatTable, type Output, printable, withCliServices, parsedOrUsage } from './cli-support.js';
import { UsageError } from './keys-command.js';

/** `understudy operators create|list|disable|reset-password|reset-totp`: console operators, managed from the shell. */
export const OPERATORS_USAGE = `Usage: understudy operators <subcommand> [options] [--config <file>]

  create          --email <address> --name <name> --role admin|support|viewer [--with-totp]
                  Create a console operator. Prints a generated password and, for admin and support (or
                  with --with-totp), the TOTP secret and its otpauth:// URI. They are shown once.
  list            Every operator: email, name, role, TOTP, status and creation time.
  disable         --email <address>
                  Disable the operator; their console sessions end at once.
  reset-password  --email <address>
                  Print a new generated password (shown once), clear any lockout, end their sessions.
  reset-totp      --email <address> --reason <text>
                  Clear their TOTP and end their sessions; admins and support set up a new
                  authenticator at their next sign-in. The reason is recorded in the audit trail.

See docs/console.md.`;

type Subcommand = 'create' | 'list' | 'disable' | 'reset-password' | 'reset-totp';

export type OperatorsArguments = { readonly help: boolean; readonly config: string | undefined } & (
  | { readonly subcommand: 'create'; readonly emailAddress: string; readonly name: string; readonly role: OperatorRole; readonly withTotp: boolean }
  | { readonly subcommand: 'list' }
  | { readonly subcommand: 'disable' | 'reset-password'; readonly emailAddress: string }
  | { readonly subcommand: 'reset-totp'; readonly emailAddress: string; readonly reason: string }
);

const SUBCOMMANDS: readonly Subcommand[] = ['create', 'list', 'disable', 'reset-password', 'reset-totp'];
const ALLOWED_FLAGS: Record<Subcommand, readonly string[]> = {
  create: ['email', 'name', 'role', 'with-totp'],
  list: [],
  disable: ['email'],
  'reset-password': ['email'],
  'reset-totp': ['email', 'reason'],
};

/** Checks the arguments before anything is opened; `argv` starts with `operators <subcommand>`. */
export function parseOperatorsArguments(argv: readonly string[]): OperatorsArguments {
  const { positionals, values } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      config: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
      email: { type: 'string' },
      name: { type: 'string' },
      role: { type: 'string' },
      'with-totp': { type: 'boolean' },
      reason: { type: 'string' },
    },
  });
  const common = { help: values.help === true, config: values.config };
  const given = positionals[1];
  if (given === undefined && common.help) return { ...common, subcommand: 'list' };
  if (given === undefined) throw new UsageError('Missing operators subcommand.');
  if (!(SUBCOMMANDS as readonly string[]).includes(given)) throw new UsageError(`Unknown operators subcommand "${given}".`);
  if (positionals.length > 2) throw new UsageError(`Unexpected argument "${positionals[2]}".`);
  const subcommand = given as Subcommand;
  const stray = Object.keys(values).find((flag) => flag !== 'config' && flag !== 'help' && !ALLOWED_FLAGS[subcommand].includes(flag));
  if (stray !== undefined) throw new UsageError(`--${stray} does not apply to \`operators ${subcommand}\`.`);
  if (common.help || subcommand === 'list') return { ...common, subcommand: 'list' };
  const emailAddress = required(values.email, '--email');
  if (subcommand === 'reset-totp') return { ...common, subcommand, emailAddress, reason: required(values.reason, '--reason') };
  if (subcommand !== 'create') return { ...common, subcommand, emailAddress };
  const role = required(values.role, '--role');
  if (!(OPERATOR_ROLES as readonly string[]).includes(role)) throw new UsageError(`--role must be admin, support or viewer (got "${role}").`);
  return { ...common, subcommand, emailAddress, name: required(values.name, '--name'), role: role as OperatorRole, withTotp: values['with-totp'] === true };
}

function required(value: string | undefined, flag: string): string {
  if (value === undefined || value.trim() === '') throw new UsageError(`Missing ${flag}.`);
  return value;
}

/**
 * Parses (exit 2 with usage on bad arguments, before anything is opened), opens the services
 * `serve` uses, calls them as the `cli` actor and prints. A domain error exits 1 with its code.
 */
export async function runOperatorsCli(argv: readonly string[], io: Output): Promise<number> {
  const parsed = parsedOrUsage(() => parseOperatorsArguments(argv), OPERATORS_USAGE, io);
  if ('exitCode' in parsed) return parsed.exitCode;
  const args = parsed.args;
  if (args.help) {
    io.out(OPERATORS_USAGE);
    return 0;
  }
  return withServices(loadConfig({ configFile: args.config }), io, (services, context) => runSubcommand(services, context, args, io.out));
}

/**
 * `understudy init --admin-email <e> [--admin-name <n>]`: creates the first admin when no operator
 * exists yet and prints its credentials; otherwise says so and changes nothing.
 */
export async function runInitAdmin(config: Config, admin: { emailAddress: string; name: string | undefined }, io: Output): Promise<number> {
  return withServices(config, io, async (services, context) => {
    const existing = await services.operators.list();
    if (existing.length > 0) {
      io.out(`Operators already exist (${existing.length}); no admin was created. Use \`understudy operators create\` to add one.`);
      return 0;
    }
    const name = admin.name ?? admin.emailAddress.split('@')[0] ?? admin.emailAddress;
    const created = await services.operators.create(context, { emailAddress: admin.emailAddress, name, role: 'admin', withTotp: true });
    io.out(describeCredentials('Created the first console admin', created));
    return 0;
  });
}

async function runSubcommand(services: Services, context: OperationContext, args: OperatorsArguments, out: (text: string) => void): Promise<number> {
  switch (args.subcommand) {
    case 'create': {
      const created = await services.operators.create(context, { emailAddress: args.emailAddress, name: args.name, role: args.role, withTotp: args.withTotp });
      out(describeCredentials('Created operator', created));
      return 0;
    }
    case 'list': {
      const operators = await services.operators.list();
      out(operators.length === 0 ? 'No operators yet: `understudy operators create` or `understudy init --admin-email` creates the first.' : operatorTable(operators));
      return 0;
    }
    case 'disable': {
      const operator = await services.operators.disable(context, args.emailAddress);
      out(`Disabled ${printable(operator.emailAddress)}; their console sessions have ended.`);
      return 0;
    }
    case 'reset-password': {
      const { operator, password } = await services.operators.resetPassword(context, args.emailAddress);
      out(
        [
          `New password for ${printable(operator.emailAddress)} (their console sessions have ended):`,
          '',
          `  password:    ${password}`,
          '',
          'Give it to them over a safe channel; it is not shown again.',
        ].join('\n'),
      );
      return 0;
    }
    case 'reset-totp': {
      out(describeTotpReset(await services.operators.resetTotp(context, args.emailAddress, args.reason)));
      return 0;
    }
  }
}

function describeTotpReset(operator: Operator): string {
  const email = printable(operator.emailAddress);
  const next = needsTotpEnrolment(operator)
    ? 'At their next sign-in, after their password, they set up a new authenticator in the console.'
    : 'As a viewer they sign in with their password alone, and may add an authenticator on their account page.';
  return [`Reset the TOTP of ${email}; their console sessions and impersonations have ended.`, next].join('\n');
}

/** The one time a password and TOTP secret are shown. */
function describeCredentials(headline: string, created: OperatorCredentials): string {
  const { operator } = created;
  const email = printable(operator.emailAddress);
  const lines = [`${headline} ${email} (${operator.role}, ${operator.operatorId}).`, '', `  email:       ${email}`, `  password:    ${created.password}`];
  if (created.totpSecret !== null && created.totpUri !== null) {
    lines.push(`  TOTP secret: ${created.totpSecret}`, `  TOTP URI:    ${created.totpUri}`);
  }
  lines.push('', 'Sign in at /console/login.');
  if (created.totpSecret !== null) lines.push('Add the TOTP secret (or the URI) to an authenticator app: sign-in asks for its 6-digit code.');
  lines.push('These credentials are not shown again; give them to the operator over a safe channel.');
  return lines.join('\n');
}

function operatorTable(operators: readonly Operator[]): string {
  const header = ['EMAIL', 'NAME', 'ROLE', 'TOTP', 'STATUS', 'CREATED'];
  const rows = operators.map((operator) => [
    operator.emailAddress,
    operator.name,
    operator.role,
    operator.sealedTotpSecret === null ? 'no' : 'yes',
    operator.disabledAt === null ? 'active' : 'disabled',
    operator.createdAt,
  ]);
  return formatTable(header, rows);
}

/** First-start credentials are printed on stdout too, as `init` does; a generated master key is noted on stderr. */
function withServices(config: Config, io: Output, work: (services: Services, context: OperationContext) => Promise<number>): Promise<number> {
  return withCliServices(config, { ...io, announce: io.out, noteGeneratedMasterKey: true }, work);
}
