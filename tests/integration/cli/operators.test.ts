import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseOperatorsArguments } from '../../../src/cli/operators-command.js';
import { ConsoleClient, type OperatorLogin } from '../console/console-client.js';
import { type CliProcess, killLeftoverProcesses, printedCredentials, runCli, runCliToExit, temporaryDirectory } from './cli-process.js';

/**
 * `understudy operators …` and `understudy init --admin-email` as an operator runs them, on the
 * data directory of a running `understudy serve`, then signing in to its console over HTTP with
 * exactly what the command printed.
 */
const scratch = temporaryDirectory('operators');
afterAll(() => {
  killLeftoverProcesses();
  scratch.remove();
});

const PROJECT = {
  UNDERSTUDY_PROJECT_ID: 'project-test-11111111-2222-4333-8444-555555555555',
  UNDERSTUDY_PROJECT_SECRET: 'secret-test-operators-cli-0123456789',
  UNDERSTUDY_MASTER_KEY: Buffer.alloc(32, 9).toString('base64'),
};
const BASE32 = /^[A-Z2-7]{32}$/;

/** The credential lines of `operators create` (and `init --admin-email`) output. */
function printedLogin(stdout: string): OperatorLogin & { totpUri: string | null } {
  const field = (name: string): string | null => new RegExp(`^ {2}${name}: +(\\S+)$`, 'm').exec(stdout)?.[1] ?? null;
  const emailAddress = field('email');
  const password = field('password');
  if (emailAddress === null || password === null) throw new Error(`no credentials in:\n${stdout}`);
  return { emailAddress, password, totpSecret: field('TOTP secret'), totpUri: field('TOTP URI') };
}

/** Table rows (after the header) split into cells: columns are separated by two or more spaces. */
function tableRows(stdout: string): string[][] {
  const [header, ...rows] = stdout.trimEnd().split('\n');
  expect(header).toMatch(/^EMAIL +NAME +ROLE +TOTP +STATUS +CREATED$/);
  return rows.map((row) => row.split(/ {2,}/));
}

/** A code for a step later than any used before in this test file, so sign-ins never replay one (now or 30 s ahead). */
function codeTime(offsetSteps: number): Date {
  return new Date(Date.now() + offsetSteps * 30_000);
}

describe('understudy operators beside a running server', () => {
  const env = { UNDERSTUDY_DATA_DIR: join(scratch.path, 'data'), ...PROJECT };
  const cli = (args: string[]) => runCliToExit(args, env);
  let server: CliProcess;
  let baseUrl: string;
  beforeAll(async () => {
    server = runCli(['serve'], { ...env, UNDERSTUDY_PORT: '0', UNDERSTUDY_LOG_LEVEL: 'info' });
    baseUrl = await server.listening();
  });
  afterAll(async () => {
    expect(await server?.stop()).toEqual({ code: 0, signal: null });
  });

  it('operators create --role admin prints a password, TOTP secret and otpauth URI that sign in to the console over HTTP', async () => {
    const result = await cli(['operators', 'create', '--email', 'Ada@Ops.example', '--name', 'Ada Admin', '--role', 'admin']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^Created operator ada@ops\.example \(admin, operator-test-[0-9a-f-]{36}\)\.\n/);
    const login = printedLogin(result.stdout);
    expect(login.emailAddress).toBe('ada@ops.example');
    expect(login.password.length).toBeGreaterThanOrEqual(32);
    expect(login.totpSecret).toMatch(BASE32);
    const uri = new URL(login.totpUri ?? '');
    expect(uri.protocol).toBe('otpauth:');
    expect(uri.searchParams.get('secret')).toBe(login.totpSecret);
    expect(uri.searchParams.get('issuer')).toBe('Understudy');

    const browser = new ConsoleClient(baseUrl);
    await browser.signIn(login, codeTime(0));
    const page = await browser.get('/console/organizations');
    expect(page.status).toBe(200);
    expect(page.text).toContain('Ada Admin');
  });

  it('operators create for a viewer prints no TOTP secret unless --with-totp is given', async () => {
    const [plain, withTotp] = await Promise.all([
      cli(['operators', 'create', '--email', 'vic@ops.example', '--name', 'Vic', '--role', 'viewer']),
      cli(['operators', 'create', '--email', 'val@ops.example', '--name', 'Val', '--role', 'viewer', '--with-totp']),
    ]);
    expect([plain.code, withTotp.code], plain.stderr + withTotp.stderr).toEqual([0, 0]);
    expect(printedLogin(plain.stdout).totpSecret).toBeNull();
    expect(plain.stdout).not.toContain('TOTP');
    expect(printedLogin(withTotp.stdout).totpSecret).toMatch(BASE32);
    const browser = new ConsoleClient(baseUrl);
    await browser.signIn(printedLogin(plain.stdout), codeTime(0));
    expect((await browser.get('/console/organizations')).status).toBe(200);
  });

  it('operators create with a used email (any case) exits 1 with operator_email_already_used and prints no credentials', async () => {
    const result = await cli(['operators', 'create', '--email', 'ADA@ops.example', '--name', 'Again', '--role', 'support']);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('understudy: operator_email_already_used: An operator with this email address already exists.\n');
    expect(result.stdout).toBe('');
  });

  it('operators list shows every operator with role, TOTP and status', async () => {
    const result = await cli(['operators', 'list']);
    expect(result.code, result.stderr).toBe(0);
    const rows = tableRows(result.stdout).map(([email, name, role, totp, status]) => ({ email, name, role, totp, status }));
    expect(rows).toEqual(
      expect.arrayContaining([
        { email: 'ada@ops.example', name: 'Ada Admin', role: 'admin', totp: 'yes', status: 'active' },
        { email: 'vic@ops.example', name: 'Vic', role: 'viewer', totp: 'no', status: 'active' },
        { email: 'val@ops.example', name: 'Val', role: 'viewer', totp: 'yes', status: 'active' },
      ]),
    );
    for (const row of tableRows(result.stdout)) expect(row[5]).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
  });

  it('operators disable ends the operator’s console session at once and refuses their next sign-in', async () => {
    const created = await cli(['operators', 'create', '--email', 'dan@ops.example', '--name', 'Dan', '--role', 'support']);
    const login = printedLogin(created.stdout);
    const browser = new ConsoleClient(baseUrl);
    await browser.signIn(login, codeTime(0));
    expect((await browser.get('/console/organizations')).status).toBe(200);

    const result = await cli(['operators', 'disable', '--email', 'dan@ops.example']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe('Disabled dan@ops.example; their console sessions have ended.\n');
    expect((await browser.get('/console/organizations')).status).toBe(303);
    expect((await new ConsoleClient(baseUrl).submitPassword(login.emailAddress, login.password)).status).toBe(401);
    const listed = tableRows((await cli(['operators', 'list'])).stdout).find((row) => row[0] === 'dan@ops.example');
    expect(listed?.[4]).toBe('disabled');
  });

  it('operators reset-password prints a new password: the old one stops working, the new one signs in', async () => {
    const created = await cli(['operators', 'create', '--email', 'rae@ops.example', '--name', 'Rae', '--role', 'support']);
    const login = printedLogin(created.stdout);
    const before = new ConsoleClient(baseUrl);
    await before.signIn(login, codeTime(0));

    const result = await cli(['operators', 'reset-password', '--email', 'rae@ops.example']);
    expect(result.code, result.stderr).toBe(0);
    const password = /^ {2}password: +(\S+)$/m.exec(result.stdout)?.[1] ?? '';
    expect(password).not.toBe(login.password);
    expect(password.length).toBeGreaterThanOrEqual(32);
    expect((await before.get('/console/organizations')).status).toBe(303);
    expect((await new ConsoleClient(baseUrl).submitPassword(login.emailAddress, login.password)).status).toBe(401);
    const after = new ConsoleClient(baseUrl);
    await after.signIn({ ...login, password }, codeTime(1));
    expect((await after.get('/console/organizations')).status).toBe(200);
  });

  it('operators disable and reset-password of an unknown email exit 1 with operator_not_found', async () => {
    const [disable, reset] = await Promise.all([cli(['operators', 'disable', '--email', 'ghost@ops.example']), cli(['operators', 'reset-password', '--email', 'ghost@ops.example'])]);
    for (const result of [disable, reset]) {
      expect(result.code).toBe(1);
      expect(result.stderr).toBe('understudy: operator_not_found: No such operator.\n');
    }
  });

  it('bad arguments exit 2 with the operators usage and change nothing', async () => {
    const result = await cli(['operators', 'create', '--email', 'eve@ops.example', '--name', 'Eve', '--role', 'root']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--role must be admin, support or viewer (got "root").');
    expect(result.stderr).toContain('Usage: understudy operators <subcommand>');
    expect((await cli(['operators', 'list'])).stdout).not.toContain('eve@ops.example');
  });
});

describe('operators argument parsing (exit 2 before anything opens)', () => {
  it.each([
    [['operators'], 'Missing operators subcommand.'],
    [['operators', 'promote'], 'Unknown operators subcommand "promote".'],
    [['operators', 'create', '--name', 'N', '--role', 'admin'], 'Missing --email.'],
    [['operators', 'create', '--email', 'a@b.example', '--role', 'admin'], 'Missing --name.'],
    [['operators', 'create', '--email', 'a@b.example', '--name', 'N'], 'Missing --role.'],
    [['operators', 'disable'], 'Missing --email.'],
    [['operators', 'list', '--email', 'a@b.example'], '--email does not apply to `operators list`.'],
    [['operators', 'disable', '--email', 'a@b.example', '--with-totp'], '--with-totp does not apply to `operators disable`.'],
    [['operators', 'list', 'extra'], 'Unexpected argument "extra".'],
  ])('%j is refused: %s', (argv, message) => {
    expect(() => parseOperatorsArguments(argv)).toThrow(message);
  });

  it('parses create with --with-totp and --config', () => {
    expect(parseOperatorsArguments(['operators', 'create', '--email', 'a@b.example', '--name', 'A', '--role', 'viewer', '--with-totp', '--config', 'c.json'])).toEqual({
      help: false,
      config: 'c.json',
      subcommand: 'create',
      emailAddress: 'a@b.example',
      name: 'A',
      role: 'viewer',
      withTotp: true,
    });
  });
});

describe('understudy init --admin-email', () => {
  // No configured project: init generates one and prints its credentials first.
  const env = { UNDERSTUDY_DATA_DIR: join(scratch.path, 'init'), UNDERSTUDY_MASTER_KEY: PROJECT.UNDERSTUDY_MASTER_KEY };
  const cli = (args: string[]) => runCliToExit(args, env);

  it('creates the first admin with TOTP once, printing project and admin credentials; a second run creates nothing', async () => {
    const first = await cli(['init', '--admin-email', 'Root@Ops.example', '--admin-name', 'Root Admin']);
    expect(first.code, first.stderr).toBe(0);
    expect(printedCredentials(first.stdout)?.projectId).toMatch(/^project-test-/);
    expect(first.stdout).toContain('Created the first console admin root@ops.example (admin, operator-test-');
    const login = printedLogin(first.stdout);
    expect(login.totpSecret).toMatch(BASE32);

    const second = await cli(['init', '--admin-email', 'other@ops.example']);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toMatch(/^Already initialized: project_id project-test-\S+ \(.+\)\.\nOperators already exist \(1\); no admin was created\./);
    expect(second.stdout).not.toContain('password:');
    const rows = tableRows((await cli(['operators', 'list'])).stdout);
    expect(rows.map((row) => [row[0], row[1], row[2], row[3]])).toEqual([['root@ops.example', 'Root Admin', 'admin', 'yes']]);
  });

  it('refuses --admin-email outside init, and --admin-name without --admin-email, with exit 2', async () => {
    const [serve, nameOnly] = await Promise.all([cli(['serve', '--admin-email', 'x@ops.example']), cli(['init', '--admin-name', 'X'])]);
    for (const result of [serve, nameOnly]) {
      expect(result.code).toBe(2);
      expect(result.stderr).toContain('--admin-email and --admin-name apply only to `init`');
    }
  });
});
