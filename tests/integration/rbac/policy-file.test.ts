import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/config/load.js';
import { PolicyFileError } from '../../../src/config/rbac-policy-file.js';
import type { AuditEvent } from '../../../src/domain/audit/audit-event.js';
import { PolicyProblemsError } from '../../../src/domain/rbac/errors.js';
import { DEFAULT_POLICY } from '../../../src/domain/rbac/policy.js';
import { diffPolicies } from '../../../src/domain/rbac/policy-diff.js';
import { checkPolicyDocument, policyDocument } from '../../../src/domain/rbac/policy-rules.js';
import { STORES } from '../../support/stores.js';
import { startTestServer, type TestServer } from '../../support/test-server.js';
import { EDITOR_POLICY, EDITOR_YAML } from '../../support/rbac-policies.js';

/**
 * UNDERSTUDY_RBAC_POLICY_FILE: applied when the server starts (the official SDK then reads it, and
 * the change is audited with its diff), winning over console and CLI edits at every start; a file
 * with problems, or one that would remove a role still assigned, stops the start and changes nothing.
 */
function checked(document: unknown) {
  const result = checkPolicyDocument(document);
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.value;
}

async function policyEvents(server: TestServer): Promise<AuditEvent[]> {
  const events = await server.server.store.audit.listEvents({ organizationId: null, limit: 100_000 });
  return events.filter((event) => event.type === 'rbac.policy_updated').reverse();
}

/** Starting a server is expected to fail: returns what it threw (a started one is stopped, and the test fails). */
async function startFailure(start: Promise<TestServer>): Promise<unknown> {
  const outcome = await start.then(
    async (server) => {
      await server.stop();
      return new Error('the server started');
    },
    (error: unknown) => ({ refused: error }),
  );
  if (outcome instanceof Error) throw outcome;
  return outcome.refused;
}

for (const factory of STORES) {
  describe(`the RBAC policy file (${factory.name})`, () => {
    let server: TestServer;
    let directory: string;
    const file = (name: string, text: string): string => {
      const path = join(directory, name);
      writeFileSync(path, text);
      return path;
    };
    const restart = (policyFile: string) => startTestServer({ store: factory.name, sharing: server, config: { rbacPolicyFile: policyFile } });

    beforeAll(async () => {
      // The data directory of the first server holds the policy files too (it is removed with the server).
      const placeholder = await startTestServer({ store: factory.name });
      directory = placeholder.dataDir;
      const policyFile = file('policy.yaml', EDITOR_YAML);
      server = await startTestServer({ store: factory.name, sharing: placeholder, config: { rbacPolicyFile: policyFile } });
      // The placeholder owns the database; keep it for cleanup, serve through the second.
      cleanup = () => placeholder.stop();
    });
    let cleanup: () => Promise<void> = async () => {};
    afterAll(async () => {
      await server?.stop();
      await cleanup();
    });

    it('is applied at start: the SDK reads it from rbac.policy, and rbac.policy_updated holds its diff', async () => {
      const response = await server.client.rbac.policy();
      expect(response.status_code).toBe(200);
      expect(response.policy).toEqual(policyDocument(checked(EDITOR_POLICY)));
      expect(response.policy?.roles.map((role) => role.role_id)).toEqual(['stytch_member', 'stytch_admin', 'editor']);

      const history = await server.server.app.services.rbacPolicy.history(10);
      expect(history.map((version) => [version.version, version.source])).toEqual([[1, 'file']]);
      const events = await policyEvents(server);
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({ actor: { type: 'system' }, organizationId: null, requestId: 'startup' });
      expect(events[0]?.details).toEqual({ version: 1, previous_version: 0, source: 'file', changes: diffPolicies(DEFAULT_POLICY, checked(EDITOR_POLICY)) });
      const changes = events[0]?.details.changes as { roles: { added: { role_id: string }[] } } | undefined;
      expect(changes?.roles.added.map((role) => role.role_id)).toEqual(['editor']);
    });

    it('writes nothing when the file says what the policy in force says (a JSON file this time)', async () => {
      const again = await restart(file('policy.json', JSON.stringify(EDITOR_POLICY)));
      await again.stop();
      expect((await server.server.app.services.rbacPolicy.history(10)).map((version) => version.version)).toEqual([1]);
      expect(await policyEvents(server)).toHaveLength(1);
    });

    it('wins over a CLI edit at the next start', async () => {
      const edited = { ...EDITOR_POLICY, scopes: [] };
      const cli = await server.server.app.services.rbacPolicy.apply({ requestId: 'test', actor: { type: 'cli' } }, edited, { source: 'cli' });
      expect(cli.version.version).toBe(2);
      const again = await restart(join(directory, 'policy.yaml'));
      try {
        const response = await again.client.rbac.policy();
        expect(response.policy?.scopes.map((scope) => scope.scope)).toEqual(['read:documents']);
      } finally {
        await again.stop();
      }
      const history = await server.server.app.services.rbacPolicy.history(10);
      expect(history.map((version) => [version.version, version.source])).toEqual([
        [3, 'file'],
        [2, 'cli'],
        [1, 'file'],
      ]);
      expect((await policyEvents(server)).at(-1)?.details).toMatchObject({ version: 3, previous_version: 2, source: 'file' });
    });

    it('with problems, stops the start listing every one, one per line, and changes nothing', async () => {
      const bad = file(
        'bad.yaml',
        `resources:
  - resource_id: stytch.member
    actions: [create]
  - resource_id: stytch_reports
    actions: [read]
roles:
  - role_id: editor
    permissions:
      - resource_id: documents
        actions: ["*", read]
  - role_id: reader
    permissions:
      - resource_id: reports
        actions: [read]
scopes: []
`,
      );
      const error = await startFailure(restart(bad));
      expect(error).toBeInstanceOf(PolicyFileError);
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as PolicyFileError).problems).toEqual([
        "resources[0].actions: stytch.member is one of Stytch's resources; its actions cannot be changed.",
        'resources[1].resource_id: Resource "stytch_reports": custom resource ids may not start with "stytch".',
        'roles[0].permissions[0].resource_id: Resource "documents" is not in the policy.',
        'roles[1].permissions[0].resource_id: Resource "reports" is not in the policy.',
      ]);
      expect((error as Error).message.split('\n')).toEqual([
        `The RBAC policy file ${bad} (UNDERSTUDY_RBAC_POLICY_FILE) was not applied, so the server did not start. Fix the file:`,
        ...(error as PolicyFileError).problems.map((problem) => `  - ${problem}`),
      ]);

      const unparsable = await startFailure(restart(file('broken.json', '{"roles": [}')));
      expect((unparsable as PolicyFileError).problems).toEqual([expect.stringMatching(/^not valid JSON: line 1, column 12: Unexpected token/)]);
      const missing = await startFailure(restart(join(directory, 'absent.yaml')));
      expect((missing as PolicyFileError).problems).toEqual([expect.stringMatching(/^could not be read: ENOENT/)]);

      expect((await server.server.app.services.rbacPolicy.history(10)).map((version) => version.version)).toEqual([3, 2, 1]);
    });

    it('refuses to remove a role still assigned to a member (rbac_role_in_use), at start and when applied, changing nothing', async () => {
      const { organization } = await server.client.organizations.create({ organization_name: `Policy ${factory.name}`, organization_slug: `policy-file-${factory.name}` });
      const { member } = await server.client.organizations.members.create({ organization_id: organization.organization_id, email_address: 'editor@example.com', roles: ['editor'] });
      expect(member.roles.map((role) => role.role_id)).toContain('editor');
      const withoutEditor = { ...EDITOR_POLICY, roles: [] };
      const eventsBefore = await policyEvents(server);

      const error = await startFailure(restart(file('without-editor.json', JSON.stringify(withoutEditor))));
      expect(error).toBeInstanceOf(PolicyFileError);
      expect((error as PolicyFileError).problems).toEqual(['roles: Role "editor" cannot be removed: 1 member(s) hold it directly.']);

      const refused = await server.server.app.services.rbacPolicy.apply({ requestId: 'test', actor: { type: 'cli' } }, withoutEditor, { source: 'cli' }).then(
        () => undefined,
        (reason: unknown) => reason,
      );
      expect(refused).toBeInstanceOf(PolicyProblemsError);
      expect(refused).toMatchObject({ code: 'rbac_role_in_use', kind: 'precondition_failed' });

      expect((await server.server.app.services.rbacPolicy.history(10)).map((version) => version.version)).toEqual([3, 2, 1]);
      expect(await policyEvents(server)).toEqual(eventsBefore);
      expect((await server.client.rbac.policy()).policy?.roles.map((role) => role.role_id)).toContain('editor');
    });

    // Several processes share a database on PostgreSQL only (an SQLite file serves one process; in
    // one test process, SQLite's lock wait would also stall the other servers it waits for).
    it.runIf(factory.name === 'postgres')('is applied once when several processes start with a new file at the same moment', async () => {
      const shared = file('shared.yaml', EDITOR_YAML.replace('actions: [read, write, delete]', 'actions: [read, write, delete, share]'));
      const before = (await server.server.app.services.rbacPolicy.current()).version;
      const outcomes = await Promise.allSettled([restart(shared), restart(shared), restart(shared)]);
      await Promise.all(outcomes.flatMap((outcome) => (outcome.status === 'fulfilled' ? [outcome.value.stop()] : [])));
      expect(outcomes.map((outcome) => (outcome.status === 'fulfilled' ? 'started' : String(outcome.reason)))).toEqual(['started', 'started', 'started']);
      const history = await server.server.app.services.rbacPolicy.history(10);
      expect(history.filter((version) => version.version > before).map((version) => [version.version, version.source])).toEqual([[before + 1, 'file']]);
    });
  });
}
