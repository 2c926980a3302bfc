import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { B2BClient } from 'stytch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseImpersonateArguments } from '../../../src/cli/impersonate-command.js';
import { parseImpersonationArguments } from '../../../src/cli/impersonation-command.js';
import { expectStytchRejection } from '../../support/openapi.js';
import { createThrowawayPostgresDatabase, POSTGRES_SKIP_REASON, POSTGRES_URL } from '../../support/stores.js';
import { type CliProcess, killLeftoverProcesses, runCli, runCliToExit, temporaryDirectory } from './cli-process.js';

/**
 * `understudy impersonate` and `understudy impersonation …` as an operator runs them, on the data
 * directory (or database) of a running `understudy serve` that the SDK talks to: the supported setup.
 */
const scratch = temporaryDirectory('impersonation');
afterAll(() => {
  killLeftoverProcesses();
  scratch.remove();
});

const PROJECT_ID = 'project-test-11111111-2222-4333-8444-555555555555';
const SECRET = 'secret-test-impersonation-cli-0123456789';
const PROJECT = { UNDERSTUDY_PROJECT_ID: PROJECT_ID, UNDERSTUDY_PROJECT_SECRET: SECRET, UNDERSTUDY_MASTER_KEY: Buffer.alloc(32, 7).toString('base64') };
const REDIRECT_URL = 'https://app.example.com/impersonate?from=support';
const REASON = 'Ticket 4711: cannot see invoices';
const TOKEN = /^[A-Za-z0-9_-]{44}$/;

interface ServedProject {
  readonly env: Record<string, string>;
  readonly server: CliProcess;
  readonly baseUrl: string;
  readonly client: B2BClient;
  readonly organizationId: string;
  readonly memberId: string;
}

/** Starts `understudy serve` and creates organization `acme` with member ann@acme.com through the SDK. */
async function serveWithMember(env: Record<string, string>): Promise<ServedProject> {
  const server = runCli(['serve'], { ...env, UNDERSTUDY_PORT: '0', UNDERSTUDY_LOG_LEVEL: 'info' });
  const baseUrl = await server.listening();
  const client = new B2BClient({ project_id: PROJECT_ID, secret: SECRET, env: `${baseUrl}/` });
  const { organization } = await client.organizations.create({ organization_name: 'Acme', organization_slug: 'acme' });
  const { member } = await client.organizations.members.create({ organization_id: organization.organization_id, email_address: 'ann@acme.com', external_id: 'ann-1' });
  return { env, server, baseUrl, client, organizationId: organization.organization_id, memberId: member.member_id };
}

function mintArguments(overrides: { member?: string; reason?: string | null; extra?: string[] } = {}): string[] {
  const reason = overrides.reason === undefined ? ['--reason', REASON] : overrides.reason === null ? [] : ['--reason', overrides.reason];
  return ['impersonate', '--organization', 'acme', '--member', overrides.member ?? 'ann@acme.com', '--impersonator-email', 'Sam@Support.example', ...reason, ...(overrides.extra ?? [])];
}

/** The server's own NDJSON export of the audit trail, fetched with the project credentials. */
async function serverAuditNdjson(served: ServedProject): Promise<string> {
  const reply = await fetch(`${served.baseUrl}/v1/b2b/impersonation/audit?format=ndjson`, {
    headers: { authorization: `Basic ${Buffer.from(`${PROJECT_ID}:${SECRET}`).toString('base64')}` },
  });
  expect(reply.status).toBe(200);
  return reply.text();
}

/** Table rows (after the header) split into cells: columns are separated by two or more spaces. */
function tableRows(stdout: string, header: RegExp): string[][] {
  const [first, ...rows] = stdout.trimEnd().split('\n');
  expect(first).toMatch(header);
  return rows.map((row) => row.split(/ {2,}/));
}

describe('understudy impersonate and impersonation beside a running server (SQLite)', () => {
  const env = { UNDERSTUDY_DATA_DIR: join(scratch.path, 'data'), UNDERSTUDY_IMPERSONATION_REDIRECT_URL: REDIRECT_URL, ...PROJECT };
  const cli = (args: string[], extra: Record<string, string> = {}) => runCliToExit(args, { ...env, ...extra });
  let served: ServedProject;
  let session: { token: string; memberSessionId: string };
  let redeemedToken: string;
  /** Minted by the second test (impersonator id support-17, address sam@support.example) and never redeemed. */
  let pendingToken: { token: string; tokenId: string };
  /** Live and pending impersonations made just before the policy is switched off. */
  let beforeDisable: { session: string; token: string };
  const UNABLE = { status: 401, errorType: 'unable_to_auth_impersonation_token' } as const;
  const SESSION_NOT_FOUND = { status: 404, errorType: 'session_not_found' } as const;

  /** Mints with the CLI (--json) and answers the token; `redeem` also redeems it with the SDK and answers the session token. */
  async function cliMint(extra: string[] = []): Promise<{ token: string; tokenId: string }> {
    const minted = await cli(mintArguments({ extra: ['--json', ...extra] }));
    expect(minted.code, minted.stderr).toBe(0);
    const printed = JSON.parse(minted.stdout) as { impersonation_token: string; token_id: string };
    return { token: printed.impersonation_token, tokenId: printed.token_id };
  }
  async function redeem(token: string): Promise<string> {
    return (await served.client.impersonation.authenticate({ impersonation_token: token })).session_token;
  }

  beforeAll(async () => {
    served = await serveWithMember(env);
  });
  afterAll(async () => {
    const exit = await served?.server.stop();
    expect(exit).toEqual({ code: 0, signal: null });
  });

  it('impersonate --json prints a token the SDK redeems for a session whose impersonated_factor names the CLI-given impersonator', async () => {
    const result = await cli(mintArguments({ extra: ['--json'] }));
    expect(result.code, result.stderr).toBe(0);
    const printed = JSON.parse(result.stdout) as Record<string, string>;
    expect(Object.keys(printed).sort()).toEqual(['expires_at', 'impersonation_token', 'impersonation_url', 'member_id', 'organization_id', 'token_id']);
    expect(printed).toMatchObject({ impersonation_token: expect.stringMatching(TOKEN), member_id: served.memberId, organization_id: served.organizationId });
    const lifetime = Date.parse(printed.expires_at as string) - Date.now();
    expect(lifetime).toBeGreaterThan(4 * 60_000);
    expect(lifetime).toBeLessThanOrEqual(5 * 60_000);
    const url = new URL(printed.impersonation_url as string);
    expect(`${url.origin}${url.pathname}`).toBe('https://app.example.com/impersonate');
    expect(Object.fromEntries(url.searchParams)).toEqual({ from: 'support', stytch_token_type: 'multi_tenant_impersonation', token: printed.impersonation_token });

    redeemedToken = printed.impersonation_token as string;
    const redeemed = await served.client.impersonation.authenticate({ impersonation_token: redeemedToken });
    expect(redeemed.member_session?.authentication_factors).toEqual([
      expect.objectContaining({
        type: 'impersonated',
        delivery_method: 'impersonation',
        // No --impersonator-id: the (normalized) email address identifies the impersonator.
        impersonated_factor: { impersonator_id: 'sam@support.example', impersonator_email_address: 'sam@support.example' },
      }),
    ]);
    session = { token: redeemed.session_token, memberSessionId: redeemed.member_session?.member_session_id ?? '' };
    await expectStytchRejection(served.client.impersonation.authenticate({ impersonation_token: redeemedToken }), { status: 401, errorType: 'unable_to_auth_impersonation_token' });
  });

  it('impersonate prints the token, expiry and "no redirect URL configured" when neither the project nor the organization has one', async () => {
    const result = await cli(mintArguments({ member: 'ann-1', extra: ['--impersonator-id', 'support-17', '--expiration-minutes', '2'] }), { UNDERSTUDY_IMPERSONATION_REDIRECT_URL: '' });
    expect(result.code, result.stderr).toBe(0);
    const match = new RegExp(
      `^Impersonation token for member ${served.memberId} \\(ann@acme\\.com\\) of organization ${served.organizationId} \\(acme\\):\\n` +
        '  token: +([A-Za-z0-9_-]{44})\\n' +
        '  token id: +(impersonation-token-test-[0-9a-f-]{36})\\n' +
        '  expires at: +(\\S+) \\(single use\\)\\n' +
        "  URL: +no redirect URL configured: set UNDERSTUDY_IMPERSONATION_REDIRECT_URL or the organization's policy\\n$",
    ).exec(result.stdout);
    expect(match, result.stdout).not.toBeNull();
    pendingToken = { token: match?.[1] as string, tokenId: match?.[2] as string };
    const lifetime = Date.parse(match?.[3] as string) - Date.now();
    expect(lifetime).toBeGreaterThan(60_000);
    expect(lifetime).toBeLessThanOrEqual(2 * 60_000);
  });

  it('impersonation sessions lists the redeemed session with its impersonator and reason, and narrows by impersonator', async () => {
    const result = await cli(['impersonation', 'sessions', '--organization', 'acme']);
    expect(result.code, result.stderr).toBe(0);
    const rows = tableRows(result.stdout, /^SESSION +ORGANIZATION +MEMBER +IMPERSONATOR +REASON +STARTED +EXPIRES$/);
    expect(rows).toHaveLength(1);
    const [sessionId, organizationId, memberId, impersonator, reason, started, expires] = rows[0] as string[];
    expect({ sessionId, organizationId, memberId, impersonator, reason }).toEqual({
      sessionId: session.memberSessionId,
      organizationId: served.organizationId,
      memberId: served.memberId,
      impersonator: 'sam@support.example',
      reason: REASON,
    });
    expect(Date.parse(expires as string) - Date.parse(started as string)).toBe(60 * 60_000);
    const nobody = await cli(['impersonation', 'sessions', '--impersonator', 'nobody@support.example']);
    expect(nobody.stdout).toBe('No active impersonated sessions.\n');
  });

  it('impersonation revoke --impersonator <address> ends their sessions and revokes their unredeemed tokens (whatever id came with the address), printing both', async () => {
    const result = await cli(['impersonation', 'revoke', '--impersonator', 'sam@support.example']);
    expect(result.code, result.stderr).toBe(0);
    const [sessions, tokens] = result.stdout.trimEnd().split('\n\n');
    expect(sessions).toMatch(/^Revoked 1 impersonated session:\n/);
    expect(tableRows(sessions?.split('\n').slice(1).join('\n') ?? '', /^SESSION +ORGANIZATION/).map((row) => row[0])).toEqual([session.memberSessionId]);
    expect(tokens).toMatch(/^Revoked 1 unredeemed token:\n/);
    expect(tableRows(tokens?.split('\n').slice(1).join('\n') ?? '', /^TOKEN +ORGANIZATION +MEMBER +IMPERSONATOR +REASON +MINTED +EXPIRES$/).map((row) => [row[0], row[3]])).toEqual([
      [pendingToken.tokenId, 'sam@support.example'],
    ]);
    await expectStytchRejection(served.client.sessions.authenticate({ session_token: session.token }), SESSION_NOT_FOUND);
    await expectStytchRejection(served.client.impersonation.authenticate({ impersonation_token: pendingToken.token }), UNABLE);
    expect((await cli(['impersonation', 'sessions'])).stdout).toBe('No active impersonated sessions.\n');
    const again = await cli(['impersonation', 'revoke', '--impersonator', 'sam@support.example']);
    expect(again.stdout).toBe('No active impersonated session or unredeemed token matched; nothing was revoked.\n');
  });

  it('impersonation policy shows the switches and effective result; --disable makes the next impersonate exit 1 with member_impersonation_not_allowed', async () => {
    const shown = await cli(['impersonation', 'policy', '--organization', 'acme']);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toMatch(/^organization switch: +enabled$/m);
    expect(shown.stdout).toMatch(/^project switch: +enabled \(UNDERSTUDY_IMPERSONATION_ENABLED\)$/m);
    expect(shown.stdout).toMatch(/^effective: +allowed$/m);
    expect(shown.stdout).toContain(`effective redirect URL:    ${REDIRECT_URL}`);

    const live = await cliMint();
    beforeDisable = { session: await redeem(live.token), token: (await cliMint()).token };
    const disabled = await cli(['impersonation', 'policy', '--organization', served.organizationId, '--disable']);
    expect(disabled.code, disabled.stderr).toBe(0);
    expect(disabled.stdout).toMatch(/^Updated the impersonation policy\.\n/);
    expect(disabled.stdout).toMatch(/^organization switch: +disabled$/m);
    expect(disabled.stdout).toMatch(/^effective: +refused \(disabled by the organization\)$/m);
    // Switching it off ended what it allowed: the live session and the unredeemed token.
    await expectStytchRejection(served.client.sessions.authenticate({ session_token: beforeDisable.session }), SESSION_NOT_FOUND);
    await expectStytchRejection(served.client.impersonation.authenticate({ impersonation_token: beforeDisable.token }), { status: 403, errorType: 'member_impersonation_not_allowed' });

    const refused = await cli(mintArguments());
    expect({ code: refused.code, stdout: refused.stdout }).toEqual({ code: 1, stdout: '' });
    expect(refused.stderr).toBe('understudy: member_impersonation_not_allowed: Impersonation is disabled for this organization.\n');
  });

  it('impersonate without --reason, or with --expiration-minutes outside 1-5, exits 1 with the refusal error_type', async () => {
    const noReason = await cli(mintArguments({ reason: null }));
    expect({ code: noReason.code, stdout: noReason.stdout }).toEqual({ code: 1, stdout: '' });
    expect(noReason.stderr).toMatch(/^understudy: invalid_impersonation_reason: [^\n]+\n$/);
    const tooLong = await cli(mintArguments({ extra: ['--expiration-minutes', '9'] }));
    expect({ code: tooLong.code, stdout: tooLong.stdout }).toEqual({ code: 1, stdout: '' });
    expect(tooLong.stderr).toBe('understudy: invalid_expiration: expiration_minutes must be an integer from 1 to 5.\n');
  });

  it('impersonation audit --ndjson prints every step in order and matches the server export byte for byte', async () => {
    const result = await cli(['impersonation', 'audit', '--ndjson']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe(await serverAuditNdjson(served));
    const events = result.stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as Record<string, unknown> & { details: Record<string, unknown> });
    expect(events.map((event) => [event.type, (event.actor as { type: string }).type, event.details.error_type ?? event.details.why ?? null])).toEqual([
      ['impersonation.token_minted', 'cli', null],
      ['impersonation.token_redeemed', 'project', null],
      ['impersonation.redemption_refused', 'project', 'unable_to_auth_impersonation_token'],
      ['impersonation.token_minted', 'cli', null],
      // revoke --impersonator: the token first, then the session.
      ['impersonation.token_revoked', 'cli', 'revoked'],
      ['impersonation.session_revoked', 'cli', null],
      ['impersonation.redemption_refused', 'project', 'unable_to_auth_impersonation_token'],
      // Two impersonations, then policy --disable ends both.
      ['impersonation.token_minted', 'cli', null],
      ['impersonation.token_redeemed', 'project', null],
      ['impersonation.token_minted', 'cli', null],
      ['impersonation.policy_updated', 'cli', null],
      ['impersonation.token_revoked', 'cli', 'disabled_by_organization'],
      ['impersonation.session_revoked', 'cli', 'disabled_by_organization'],
      ['impersonation.redemption_refused', 'project', 'member_impersonation_not_allowed'],
      ['impersonation.mint_refused', 'cli', 'member_impersonation_not_allowed'],
      ['impersonation.mint_refused', 'cli', 'invalid_impersonation_reason'],
      ['impersonation.mint_refused', 'cli', 'invalid_expiration'],
    ]);
    expect(events[0]).toMatchObject({ organization_id: served.organizationId, member_id: served.memberId, impersonator_id: 'sam@support.example', client_ip: null });
    expect(events[0]?.details).toMatchObject({ reason: REASON, impersonator_email_address: 'sam@support.example' });
    expect(events[1]?.details).toMatchObject({ member_session_id: session.memberSessionId });
    expect(events[3]).toMatchObject({ impersonator_id: 'support-17' });
    expect(JSON.stringify(events)).not.toContain(redeemedToken);
  });

  it('impersonation audit prints a readable table, narrowed by --organization and --impersonator', async () => {
    const result = await cli(['impersonation', 'audit', '--organization', 'acme', '--impersonator', 'support-17']);
    expect(result.code, result.stderr).toBe(0);
    const rows = tableRows(result.stdout, /^TIME +EVENT +ORGANIZATION +MEMBER +IMPERSONATOR +ACTOR +DETAILS$/);
    expect(rows.map((row) => row.slice(1, 6))).toEqual([
      ['impersonation.token_minted', served.organizationId, served.memberId, 'support-17', 'cli'],
      ['impersonation.token_revoked', served.organizationId, served.memberId, 'support-17', 'cli'],
      ['impersonation.redemption_refused', served.organizationId, served.memberId, 'support-17', 'project'],
    ]);
    expect(rows[0]?.[6]).toContain(`reason="${REASON}"`);
    // By the address instead of the id: this person's events under either name.
    const byAddress = await cli(['impersonation', 'audit', '--organization', 'acme', '--impersonator', 'SAM@support.example']);
    const addressRows = tableRows(byAddress.stdout, /^TIME +EVENT/);
    expect(addressRows.map((row) => row[4])).toEqual(expect.arrayContaining(['support-17', 'sam@support.example']));
    expect(addressRows.length).toBeGreaterThan(rows.length);
  });

  it('impersonation policy --enable --redirect-url makes the next mint link to the organization URL', async () => {
    const changed = await cli(['impersonation', 'policy', '--organization', 'acme', '--enable', '--redirect-url', 'https://acme.example/support-login']);
    expect(changed.code, changed.stderr).toBe(0);
    expect(changed.stdout).toMatch(/^effective: +allowed$/m);
    const minted = await cli(mintArguments({ extra: ['--json'] }));
    expect(minted.code, minted.stderr).toBe(0);
    const url = new URL((JSON.parse(minted.stdout) as { impersonation_url: string }).impersonation_url);
    expect(`${url.origin}${url.pathname}`).toBe('https://acme.example/support-login');
    expect(url.searchParams.get('stytch_token_type')).toBe('multi_tenant_impersonation');
  });

  it('an operator is one impersonator: --operator and --impersonator-email of their address record their operator id, and audit finds them by either', async () => {
    const created = await cli(['operators', 'create', '--email', 'pat@ops.example', '--name', 'Pat', '--role', 'support']);
    expect(created.code, created.stderr).toBe(0);
    const operatorId = /\(support, (operator-test-[0-9a-f-]{36})\)/.exec(created.stdout)?.[1] as string;
    expect(operatorId).toBeDefined();
    const byOperator = await cli(['impersonate', '--organization', 'acme', '--member', 'ann@acme.com', '--operator', 'PAT@ops.example', '--reason', REASON, '--json']);
    expect(byOperator.code, byOperator.stderr).toBe(0);
    const viaEmail = await cli(['impersonate', '--organization', 'acme', '--member', 'ann-1', '--impersonator-email', 'Pat@Ops.example', '--reason', REASON, '--json']);
    expect(viaEmail.code, viaEmail.stderr).toBe(0);
    const tokens = [byOperator, viaEmail].map((result) => (JSON.parse(result.stdout) as { impersonation_token: string }).impersonation_token);
    const factors = [];
    for (const token of tokens) {
      factors.push((await served.client.impersonation.authenticate({ impersonation_token: token })).member_session?.authentication_factors[0]?.impersonated_factor);
    }
    expect(factors).toEqual([
      { impersonator_id: operatorId, impersonator_email_address: 'pat@ops.example' },
      { impersonator_id: operatorId, impersonator_email_address: 'pat@ops.example' },
    ]);
    const auditById = await cli(['impersonation', 'audit', '--impersonator', operatorId, '--ndjson']);
    const auditByAddress = await cli(['impersonation', 'audit', '--impersonator', 'pat@ops.example', '--ndjson']);
    expect(auditById.stdout.trimEnd().split('\n').map((line) => (JSON.parse(line) as { type: string }).type)).toEqual([
      'impersonation.token_minted',
      'impersonation.token_minted',
      'impersonation.token_redeemed',
      'impersonation.token_redeemed',
    ]);
    expect(auditByAddress.stdout).toBe(auditById.stdout);
    const sessions = await cli(['impersonation', 'sessions', '--impersonator', 'pat@ops.example']);
    expect(tableRows(sessions.stdout, /^SESSION/).map((row) => row[3])).toEqual(['pat@ops.example', 'pat@ops.example']);
    expect((await cli(['impersonate', '--organization', 'acme', '--member', 'ann-1', '--operator', 'nobody@ops.example', '--reason', REASON])).stderr).toBe(
      'understudy: operator_not_found: No such operator.\n',
    );
  });

  it("operators reset-password ends the operator's live impersonated sessions and revokes their unredeemed tokens, audited", async () => {
    const pending = await cli(['impersonate', '--organization', 'acme', '--member', 'ann@acme.com', '--operator', 'pat@ops.example', '--reason', REASON, '--json']);
    const pendingToken = (JSON.parse(pending.stdout) as { impersonation_token: string }).impersonation_token;
    const reset = await cli(['operators', 'reset-password', '--email', 'pat@ops.example']);
    expect(reset.code, reset.stderr).toBe(0);
    expect((await cli(['impersonation', 'sessions', '--impersonator', 'pat@ops.example'])).stdout).toBe('No active impersonated sessions.\n');
    await expectStytchRejection(served.client.impersonation.authenticate({ impersonation_token: pendingToken }), UNABLE);
    const trail = (await cli(['impersonation', 'audit', '--impersonator', 'pat@ops.example', '--ndjson'])).stdout.trimEnd().split('\n');
    const ended = trail.map((line) => JSON.parse(line) as { type: string; details: { why?: string } }).filter((event) => event.details.why === 'operator_password_reset');
    expect(ended.map((event) => event.type).sort()).toEqual(['impersonation.session_revoked', 'impersonation.session_revoked', 'impersonation.token_revoked']);
  });

  it("operators reset-totp ends the operator's live impersonated sessions and revokes their unredeemed tokens in the same run, audited", async () => {
    const created = await cli(['operators', 'create', '--email', 'lee@ops.example', '--name', 'Lee', '--role', 'support']);
    expect(created.code, created.stderr).toBe(0);
    const mint = async () => {
      const minted = await cli(['impersonate', '--organization', 'acme', '--member', 'ann@acme.com', '--operator', 'lee@ops.example', '--reason', REASON, '--json']);
      expect(minted.code, minted.stderr).toBe(0);
      return (JSON.parse(minted.stdout) as { impersonation_token: string }).impersonation_token;
    };
    const live = await served.client.impersonation.authenticate({ impersonation_token: await mint() });
    const pendingToken = await mint();
    const reset = await cli(['operators', 'reset-totp', '--email', 'lee@ops.example', '--reason', 'Ticket 5152: phone stolen']);
    expect(reset.code, reset.stderr).toBe(0);
    expect(reset.stdout).toContain('Reset the TOTP of lee@ops.example; their console sessions and impersonations have ended.');
    expect((await cli(['impersonation', 'sessions', '--impersonator', 'lee@ops.example'])).stdout).toBe('No active impersonated sessions.\n');
    await expectStytchRejection(served.client.sessions.authenticate({ session_token: live.session_token }), { status: 404, errorType: 'session_not_found' });
    await expectStytchRejection(served.client.impersonation.authenticate({ impersonation_token: pendingToken }), UNABLE);
    const trail = (await cli(['impersonation', 'audit', '--impersonator', 'lee@ops.example', '--ndjson'])).stdout.trimEnd().split('\n');
    const ended = trail.map((line) => JSON.parse(line) as { type: string; actor: { type: string }; details: { why?: string } }).filter((event) => event.details.why === 'operator_totp_reset');
    expect(ended.map((event) => [event.type, event.actor.type]).sort()).toEqual([
      ['impersonation.session_revoked', 'cli'],
      ['impersonation.token_revoked', 'cli'],
    ]);
  });

  it('impersonation revoke --member takes an email address with --organization, as impersonate --member does', async () => {
    await redeem((await cliMint()).token);
    const pending = await cliMint();
    const result = await cli(['impersonation', 'revoke', '--organization', 'acme', '--member', 'ANN@acme.com']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^Revoked 1 impersonated session:\n[\s\S]*\n\nRevoked 2 unredeemed tokens:\n/);
    await expectStytchRejection(served.client.impersonation.authenticate({ impersonation_token: pending.token }), UNABLE);
    const alone = await cli(['impersonation', 'revoke', '--member', 'ann@acme.com']);
    expect({ code: alone.code, stdout: alone.stdout }).toEqual({ code: 2, stdout: '' });
    expect(alone.stderr).toMatch(/^--member with an email address needs --organization too\.\n/);
  });

  it('control characters never reach the terminal: refused at mint, and escaped in every table even when stored before that rule', async () => {
    const refused = await cli(mintArguments({ reason: 'Ticket 9 \u001b[2J\u001b[1;1Hall clear' }));
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^understudy: invalid_impersonation_reason: /);
    // Rows as an older version could have stored them: an escape sequence and a bidi override.
    const db = new Database(join(env.UNDERSTUDY_DATA_DIR, 'understudy.db'));
    try {
      const now = Date.now();
      const iso = (offset: number) => new Date(now + offset).toISOString().replace(/\.\d{3}Z$/, 'Z');
      db.prepare(
        `insert into impersonated_sessions (member_session_id, token_id, organization_id, member_id, impersonator_id, impersonator_email_address, reason, started_at, expires_at, ended_at, end_reason)
         values (?, ?, ?, ?, ?, ?, ?, ?, ?, null, null)`,
      ).run('member-session-test-legacy', 'impersonation-token-test-legacy', served.organizationId, served.memberId, 'evil\u001b[31m', 'eve\u202e@evil.example', 'Ticket \u001b[2J\u001b[1;1Hclean', iso(-60_000), iso(3_600_000));
      db.prepare(
        `insert into audit_events (event_id, type, occurred_at, request_id, actor, organization_id, member_id, details, impersonator_id, client_ip, user_agent)
         values (?, 'impersonation.token_minted', ?, 'request-id-test-legacy', '{"type":"cli"}', ?, ?, ?, ?, null, null)`,
      ).run('audit-event-test-ffffffff-ffff-4fff-8fff-ffffffffffff', iso(0), served.organizationId, served.memberId, JSON.stringify({ reason: 'x\u001b]0;pwned\u0007', impersonator_email_address: 'eve\u202e@evil.example' }), 'evil\u001b[31m');
    } finally {
      db.close();
    }
    // Any control or bidi formatting character except the line breaks between rows.
    const raw = /(?!\n)[\p{Cc}\p{Bidi_Control}]/u;
    const sessions = await cli(['impersonation', 'sessions', '--organization', 'acme']);
    expect(sessions.code, sessions.stderr).toBe(0);
    expect(raw.test(sessions.stdout), JSON.stringify(sessions.stdout)).toBe(false);
    expect(sessions.stdout).toContain('Ticket \\x1b[2J\\x1b[1;1Hclean');
    expect(sessions.stdout).toContain('eve\\u202e@evil.example');
    const audit = await cli(['impersonation', 'audit', '--organization', 'acme']);
    expect(audit.code, audit.stderr).toBe(0);
    expect(raw.test(audit.stdout), JSON.stringify(audit.stdout)).toBe(false);
    expect(audit.stdout).toContain('evil\\x1b[31m');
    // NDJSON too: the escapes are JSON's own, so the parsed values are exactly what was stored.
    const ndjson = await cli(['impersonation', 'audit', '--organization', 'acme', '--ndjson']);
    expect(ndjson.code, ndjson.stderr).toBe(0);
    expect(raw.test(ndjson.stdout), JSON.stringify(ndjson.stdout)).toBe(false);
    const legacy = ndjson.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { event_id: string; details: Record<string, unknown> })
      .find((event) => event.event_id === 'audit-event-test-ffffffff-ffff-4fff-8fff-ffffffffffff');
    expect(legacy?.details).toMatchObject({ reason: 'x\u001b]0;pwned\u0007', impersonator_email_address: 'eve\u202e@evil.example' });
    const revoked = await cli(['impersonation', 'revoke', '--session', 'member-session-test-legacy']);
    expect(raw.test(revoked.stdout), JSON.stringify(revoked.stdout)).toBe(false);
    expect(revoked.stdout).toMatch(/^Revoked 1 impersonated session:/);
  });
});

for (const dialect of ['sqlite', 'postgres'] as const) {
  // Skipped on PostgreSQL without a server: POSTGRES_SKIP_REASON says how to provide one.
  describe.skipIf(dialect === 'postgres' && !POSTGRES_URL)(`the project switch across restarts (${dialect})`, () => {
    let database: { url: string; drop: () => Promise<void> } | undefined;
    const running: CliProcess[] = [];
    beforeAll(async () => {
      if (dialect === 'postgres') database = await createThrowawayPostgresDatabase();
    });
    afterAll(async () => {
      for (const child of running) await child.stop();
      await database?.drop();
    });

    async function serve(env: Record<string, string>): Promise<B2BClient> {
      const child = runCli(['serve'], { ...env, UNDERSTUDY_PORT: '0', UNDERSTUDY_LOG_LEVEL: 'info' });
      running.push(child);
      const baseUrl = await child.listening();
      return new B2BClient({ project_id: PROJECT_ID, secret: SECRET, env: `${baseUrl}/` });
    }

    it('a restart with UNDERSTUDY_IMPERSONATION_ENABLED=false ends live impersonations and unredeemed tokens, audited; switching it on again revives none', async () => {
      const env: Record<string, string> = {
        UNDERSTUDY_DATA_DIR: join(scratch.path, `project-switch-${dialect}`),
        ...PROJECT,
        ...(database !== undefined && { UNDERSTUDY_DATABASE_URL: database.url }),
      };
      const first = await serveWithMember(env);
      running.push(first.server);
      const mint = async (): Promise<string> => {
        const result = await runCliToExit(mintArguments({ extra: ['--json'] }), env);
        expect(result.code, result.stderr).toBe(0);
        return (JSON.parse(result.stdout) as { impersonation_token: string }).impersonation_token;
      };
      const live = (await first.client.impersonation.authenticate({ impersonation_token: await mint() })).session_token;
      const pending = await mint();
      await first.server.stop();

      const off = await serve({ ...env, UNDERSTUDY_IMPERSONATION_ENABLED: 'false' });
      await expectStytchRejection(off.sessions.authenticate({ session_token: live }), { status: 404, errorType: 'session_not_found' });
      await (running.pop() as CliProcess).stop();
      const trail = await runCliToExit(['impersonation', 'audit', '--ndjson'], env);
      const ended = trail.stdout
        .trimEnd()
        .split('\n')
        .map((line) => JSON.parse(line) as { type: string; actor: { type: string }; details: { why?: string } })
        .filter((event) => event.details.why === 'disabled_by_project');
      expect(ended.map((event) => [event.type, event.actor.type])).toEqual([
        ['impersonation.token_revoked', 'system'],
        ['impersonation.session_revoked', 'system'],
      ]);

      const on = await serve(env);
      await expectStytchRejection(on.impersonation.authenticate({ impersonation_token: pending }), { status: 401, errorType: 'unable_to_auth_impersonation_token' });
      await expectStytchRejection(on.sessions.authenticate({ session_token: live }), { status: 404, errorType: 'session_not_found' });
    });
  });
}

describe.concurrent('understudy impersonate and impersonation with bad arguments', () => {
  const dataDir = join(scratch.path, 'never-created');
  const env = { UNDERSTUDY_DATA_DIR: dataDir, ...PROJECT };

  it.for([
    [['impersonate'], 'Missing --organization, --member, --impersonator-email.', 'impersonate'],
    [['impersonate', '--organisation', 'acme'], "Unknown option '--organisation'", 'impersonate'],
    [['impersonation', 'list'], 'Unknown impersonation subcommand "list".', 'impersonation'],
    [['impersonation', 'revoke'], 'Give at least one of --session, --token, --impersonator, --organization or --member.', 'impersonation'],
    [['impersonation', 'audit', '--since', 'yesterday'], '--since must be an RFC 3339 UTC time such as 2026-01-01T00:00:00Z (got "yesterday").', 'impersonation'],
  ])('%j exits 2 with the problem and the usage, touching nothing', async ([args, problem, command], { expect }) => {
    const result = await runCliToExit(args as string[], env);
    expect(result.code, result.stderr).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr.startsWith(problem as string), result.stderr).toBe(true);
    expect(result.stderr).toContain(`\n\nUsage: understudy ${command as string} `);
    expect(existsSync(dataDir)).toBe(false);
  });

  // The same parsers the processes above run, called directly to keep the suite fast.
  it.for([
    [mintArguments({ extra: ['--expiration-minutes', 'soon'] }), '--expiration-minutes must be a whole number of minutes from 1 to 5 (got "soon").'],
    [['impersonate', 'ann', ...mintArguments().slice(1)], 'Unexpected argument "ann".'],
    [['impersonation'], 'Missing impersonation subcommand.'],
    [['impersonation', 'policy'], 'Missing --organization.'],
    [['impersonation', 'policy', '--organization', 'acme', '--enable', '--disable'], 'Give --enable or --disable, not both.'],
    [['impersonation', 'policy', '--organization', 'acme', '--redirect-url', 'https://a.example', '--clear-redirect-url'], 'Give --redirect-url or --clear-redirect-url, not both.'],
    [['impersonation', 'audit', '--until', '2026-01-01'], '--until must be an RFC 3339 UTC time such as 2026-01-01T00:00:00Z (got "2026-01-01").'],
    [['impersonation', 'sessions', '--ndjson'], "Unknown option '--ndjson'"],
    [['impersonation', 'revoke', '--reason', 'x'], "Unknown option '--reason'"],
    [[...mintArguments(), '--operator', 'pat@ops.example'], 'Give --operator, or --impersonator-email (and --impersonator-id), not both.'],
    [['impersonate', '--organization', 'acme', '--member', 'ann-1', '--operator', ' ', '--reason', 'x'], 'Missing --operator.'],
    [['impersonation', 'sessions', '--member', 'ann@acme.com'], '--member with an email address needs --organization too.'],
  ])('%j is refused by the argument parser', ([args, problem], { expect }) => {
    const argv = args as string[];
    const parse = (): unknown => (argv[0] === 'impersonate' ? parseImpersonateArguments(argv) : parseImpersonationArguments(argv));
    expect(parse).toThrow(problem as string);
  });

  it('help lists both commands, and impersonation --help prints its usage and exits 0', async ({ expect }) => {
    expect((await runCliToExit(['help'], {})).stdout).toMatch(/^ {2}impersonate +Mint[^\n]*\n {2}impersonation policy\|grants\|grant\|sessions\|revoke\|audit$/m);
    const help = await runCliToExit(['impersonation', '--help'], env);
    expect({ code: help.code, stderr: help.stderr }).toEqual({ code: 0, stderr: '' });
    expect(help.stdout).toMatch(/^Usage: understudy impersonation <subcommand>/);
    expect(existsSync(dataDir)).toBe(false);
  });
});

// Skipped without a PostgreSQL server: POSTGRES_SKIP_REASON says how to provide one.
describe.skipIf(!POSTGRES_URL)(`understudy impersonate beside a server on PostgreSQL (${POSTGRES_URL ? 'UNDERSTUDY_TEST_DATABASE_URL' : POSTGRES_SKIP_REASON})`, () => {
  let database: { url: string; drop: () => Promise<void> };
  let served: ServedProject | undefined;
  beforeAll(async () => {
    database = await createThrowawayPostgresDatabase();
  });
  afterAll(async () => {
    await served?.server.stop();
    await database?.drop();
  });

  it('mints from the CLI, redeems with the SDK, and exports the same audit trail as the server', async () => {
    const env = { UNDERSTUDY_DATA_DIR: join(scratch.path, 'postgres'), UNDERSTUDY_DATABASE_URL: database.url, ...PROJECT };
    served = await serveWithMember(env);
    const minted = await runCliToExit(mintArguments({ extra: ['--json'] }), env);
    expect(minted.code, minted.stderr).toBe(0);
    const printed = JSON.parse(minted.stdout) as { impersonation_token: string; impersonation_url: string | null };
    expect(printed.impersonation_url).toBeNull();
    const redeemed = await served.client.impersonation.authenticate({ impersonation_token: printed.impersonation_token });
    expect(redeemed.member_session?.authentication_factors[0]?.impersonated_factor?.impersonator_email_address).toBe('sam@support.example');

    const exported = await runCliToExit(['impersonation', 'audit', '--ndjson'], env);
    expect(exported.code, exported.stderr).toBe(0);
    expect(exported.stdout.trimEnd().split('\n').map((line) => (JSON.parse(line) as { type: string }).type)).toEqual(['impersonation.token_minted', 'impersonation.token_redeemed']);
    expect(exported.stdout).toBe(await serverAuditNdjson(served));
  });
});
