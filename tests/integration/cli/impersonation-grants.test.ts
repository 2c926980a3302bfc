import { join } from 'node:path';
import { B2BClient } from 'stytch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseImpersonationArguments } from '../../../src/cli/impersonation-command.js';
import { givePassword, PASSWORD } from '../../conformance/stytch-sdk/passwords-sign-in-fixtures.js';
import { expectStytchRejection } from '../../support/openapi.js';
import { type CliProcess, killLeftoverProcesses, runCli, runCliToExit, temporaryDirectory } from './cli-process.js';

/**
 * `understudy impersonation policy --mode …`, `grants`, `grant request` and `grant revoke` as the
 * vendor's operator runs them beside a running server, with the customer's admin approving over
 * HTTP with their member session (docs/impersonation.md, "Access windows").
 */
const scratch = temporaryDirectory('impersonation-grants');
afterAll(() => {
  killLeftoverProcesses();
  scratch.remove();
});

const PROJECT_ID = 'project-test-11111111-2222-4333-8444-666666666666';
const SECRET = 'secret-test-impersonation-grants-cli-0123456789';
const env = {
  UNDERSTUDY_PROJECT_ID: PROJECT_ID,
  UNDERSTUDY_PROJECT_SECRET: SECRET,
  UNDERSTUDY_MASTER_KEY: Buffer.alloc(32, 9).toString('base64'),
  UNDERSTUDY_DATA_DIR: join(scratch.path, 'data'),
};
const cli = (args: string[]) => runCliToExit(args, env);
const MINT = ['impersonate', '--organization', 'acme', '--member', 'ann@acme.com', '--impersonator-email', 'sam@support.example', '--reason', 'Ticket 4711', '--json'];

describe('understudy impersonation grants beside a running server (SQLite)', () => {
  let server: CliProcess;
  let baseUrl: string;
  let client: B2BClient;
  let adminSession: string;
  let annId: string;
  let grantId: string;

  beforeAll(async () => {
    server = runCli(['serve'], { ...env, UNDERSTUDY_PORT: '0', UNDERSTUDY_LOG_LEVEL: 'info' });
    baseUrl = await server.listening();
    client = new B2BClient({ project_id: PROJECT_ID, secret: SECRET, env: `${baseUrl}/` });
    const { organization } = await client.organizations.create({ organization_name: 'Acme', organization_slug: 'acme' });
    annId = (await client.organizations.members.create({ organization_id: organization.organization_id, email_address: 'ann@acme.com' })).member.member_id;
    await client.organizations.members.create({ organization_id: organization.organization_id, email_address: 'admin@acme.com', roles: ['stytch_admin'] });
    // The customer's admin signs in to the customer's app.
    await givePassword(client, organization, 'admin@acme.com');
    adminSession = (await client.passwords.authenticate({ organization_id: organization.organization_id, email_address: 'admin@acme.com', password: PASSWORD })).session_token;
  });
  afterAll(async () => {
    expect(await server?.stop()).toEqual({ code: 0, signal: null });
  });

  const approve = (id: string) =>
    fetch(`${baseUrl}/v1/b2b/impersonation/access_grants/${id}/approve`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${PROJECT_ID}:${SECRET}`).toString('base64')}`, 'X-Stytch-Member-Session': adminSession },
    });

  it('policy --mode by_grant --notify-member sets and shows the mode; a mint then exits 1 with impersonation_access_not_granted', async () => {
    const changed = await cli(['impersonation', 'policy', '--organization', 'acme', '--mode', 'by_grant', '--delegated', 'members_and_admins', '--notify-member', '--no-notify-admins']);
    expect(changed.code, changed.stderr).toBe(0);
    expect(changed.stdout).toMatch(/^Updated the impersonation policy\.\n/);
    expect(changed.stdout).toMatch(/^access mode: +by_grant$/m);
    expect(changed.stdout).toMatch(/^delegated impersonation: +members_and_admins$/m);
    expect(changed.stdout).toMatch(/^notify member: +yes$/m);
    expect(changed.stdout).toMatch(/^notify admins: +no$/m);
    expect(changed.stdout).toMatch(/^organization switch: +enabled$/m);
    const refused = await cli(MINT);
    expect({ code: refused.code, stdout: refused.stdout }).toEqual({ code: 1, stdout: '' });
    expect(refused.stderr).toMatch(/^understudy: impersonation_access_not_granted: /);
  });

  it("policy cannot loosen what the organization chose: --mode open or --no-notify-member exits 1 with the refusal's message, and nothing changes", async () => {
    // The organization's admin makes the choice its own (the CLI set it so far, and could still undo it).
    const chosen = await fetch(`${baseUrl}/v1/b2b/impersonation/policies/acme`, {
      method: 'PUT',
      headers: { authorization: `Basic ${Buffer.from(`${PROJECT_ID}:${SECRET}`).toString('base64')}`, 'X-Stytch-Member-Session': adminSession, 'content-type': 'application/json' },
      body: JSON.stringify({ access_mode: 'by_grant', notify_member: true }),
    });
    expect(chosen.status, await chosen.clone().text()).toBe(200);
    for (const flags of [['--mode', 'open'], ['--no-notify-member'], ['--enable', '--no-notify-member']]) {
      const refused = await cli(['impersonation', 'policy', '--organization', 'acme', ...flags]);
      expect({ code: refused.code, stdout: refused.stdout }).toEqual({ code: 1, stdout: '' });
      expect(refused.stderr).toMatch(/^understudy: session_authorization_error: Only the organization may loosen its impersonation policy \(/);
    }
    const shown = await cli(['impersonation', 'policy', '--organization', 'acme']);
    expect(shown.stdout).toMatch(/^access mode: +by_grant$/m);
    expect(shown.stdout).toMatch(/^notify member: +yes$/m);
    // Tightening stays the CLI's: emails on.
    const tightened = await cli(['impersonation', 'policy', '--organization', 'acme', '--notify-admins']);
    expect(tightened.code, tightened.stderr).toBe(0);
    expect(tightened.stdout).toMatch(/^notify admins: +yes$/m);
  });

  it('grant request asks for access (requested); grants lists it; revoking a request exits 1 with access_grant_not_pending', async () => {
    const requested = await cli(['impersonation', 'grant', 'request', '--organization', 'acme', '--duration-minutes', '30', '--reason', 'Ticket 4711: invoices', '--member', 'ann@acme.com']);
    expect(requested.code, requested.stderr).toBe(0);
    const match = /^Requested access grant (access-grant-test-[0-9a-f-]{36}): a member of the organization allowed understudy\.support-access:grant must approve it\.$/m.exec(requested.stdout);
    expect(match, requested.stdout).not.toBeNull();
    grantId = match?.[1] ?? '';
    const listed = await cli(['impersonation', 'grants', '--organization', 'acme', '--status', 'requested']);
    expect(listed.code, listed.stderr).toBe(0);
    const [header, ...rows] = listed.stdout.trimEnd().split('\n');
    expect(header).toMatch(/^GRANT +ORGANIZATION +STATUS +MEMBERS +REQUESTED BY +OPENED +EXPIRES +REASON$/);
    expect(rows.map((row) => row.split(/ {2,}/))).toEqual([[grantId, expect.stringMatching(/^organization-test-/), 'requested', annId, 'cli', '-', '(30 min once opened)', 'Ticket 4711: invoices']]);
    const early = await cli(['impersonation', 'grant', 'revoke', grantId]);
    expect(early.code).toBe(1);
    expect(early.stderr).toMatch(/^understudy: access_grant_not_pending: /);
  });

  it("once the customer's admin approves it, the CLI mints for ann; grant revoke ends the impersonation at once", async () => {
    const approved = await approve(grantId);
    expect(approved.status, await approved.clone().text()).toBe(200);
    const minted = await cli(MINT);
    expect(minted.code, minted.stderr).toBe(0);
    const session = await client.impersonation.authenticate({ impersonation_token: (JSON.parse(minted.stdout) as { impersonation_token: string }).impersonation_token });
    const revoked = await cli(['impersonation', 'grant', 'revoke', grantId]);
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(revoked.stdout).toMatch(new RegExp(`^Revoked access grant ${grantId}; the impersonations under it have ended\\.$`, 'm'));
    await expectStytchRejection(client.sessions.authenticate({ session_token: session.session_token }), { status: 404, errorType: 'session_not_found' });
    const listed = await cli(['impersonation', 'grants', '--organization', 'acme']);
    expect(listed.stdout.trimEnd().split('\n').slice(1).map((row) => row.split(/ {2,}/).slice(0, 3))).toEqual([[grantId, expect.any(String), 'revoked']]);
  });
});

describe('understudy impersonation grant and policy arguments', () => {
  it.for([
    [['impersonation', 'grant'], 'Missing grant action: request or revoke.'],
    [['impersonation', 'grant', 'approve', 'x'], 'Unknown grant action "approve": request or revoke.'],
    [['impersonation', 'grant', 'revoke'], 'Missing the <grant_id> to revoke.'],
    [['impersonation', 'grant', 'revoke', 'g1', '--reason', 'x'], 'grant revoke takes only the grant id, not --reason.'],
    [['impersonation', 'grant', 'request', '--duration-minutes', '5', '--reason', 'x'], 'Missing --organization.'],
    [['impersonation', 'grant', 'request', '--organization', 'acme', '--reason', 'x'], 'Missing --duration-minutes.'],
    [['impersonation', 'grant', 'request', '--organization', 'acme', '--duration-minutes', 'soon'], '--duration-minutes must be a whole number of minutes (got "soon").'],
    [['impersonation', 'grants', '--status', 'pending'], '--status must be one of requested, open, expired, denied, revoked (got "pending").'],
    [['impersonation', 'policy', '--organization', 'acme', '--mode', 'closed'], '--mode must be one of open, by_grant, off (got "closed").'],
    [['impersonation', 'policy', '--organization', 'acme', '--mode', 'open', '--disable'], 'Give --mode or --enable/--disable, not both.'],
    [['impersonation', 'policy', '--organization', 'acme', '--delegated', 'all'], '--delegated must be one of off, members, members_and_admins (got "all").'],
    [['impersonation', 'policy', '--organization', 'acme', '--notify-member', '--no-notify-member'], 'Give --notify-member or --no-notify-member, not both.'],
    [['impersonation', 'grants', '--member', 'x'], "Unknown option '--member'"],
  ])('%j is refused by the argument parser', ([args, problem], { expect }) => {
    expect(() => parseImpersonationArguments(args as string[])).toThrow(problem as string);
  });

  it('grant request takes --member more than once', ({ expect }) => {
    const parsed = parseImpersonationArguments(['impersonation', 'grant', 'request', '--organization', 'acme', '--duration-minutes', '30', '--reason', 'x', '--member', 'a@acme.com', '--member', 'b-1']);
    expect(parsed).toMatchObject({ subcommand: 'grant', action: 'request', organization: 'acme', durationMinutes: 30, members: ['a@acme.com', 'b-1'] });
  });
});
