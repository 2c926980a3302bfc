import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { parseRbacArguments } from '../../../src/cli/rbac-command.js';
import { loadConfig } from '../../../src/config/load.js';
import { DEFAULT_POLICY } from '../../../src/domain/rbac/policy.js';
import { type PolicyDocument, policyDocument } from '../../../src/domain/rbac/policy-rules.js';
import { openServices } from '../../../src/main.js';
import { aMember } from '../../support/builders/member-builder.js';
import { anOrganization } from '../../support/builders/organization-builder.js';
import { EDITOR_YAML } from '../../support/rbac-policies.js';
import { createThrowawayPostgresDatabase, POSTGRES_URL } from '../../support/stores.js';
import { killLeftoverProcesses, runCliToExit, temporaryDirectory } from './cli-process.js';

/**
 * `understudy rbac policy show|apply|history` as an operator runs it, on SQLite and (when
 * configured) PostgreSQL; what it applied is then read back through the services `serve` builds.
 */
const scratch = temporaryDirectory('rbac-policy');
afterAll(() => {
  killLeftoverProcesses();
  scratch.remove();
});

const PROJECT = {
  UNDERSTUDY_PROJECT_ID: 'project-test-11111111-2222-4333-8444-555555555555',
  UNDERSTUDY_PROJECT_SECRET: 'secret-test-rbac-policy-cli-0123456789',
  UNDERSTUDY_MASTER_KEY: Buffer.alloc(32, 9).toString('base64'),
};

/** Four problems at once: a Stytch resource changed, a stytch-prefixed resource, "*" with another action, an unknown action. */
const BAD_JSON = JSON.stringify(
  {
    resources: [
      { resource_id: 'stytch.self', description: '', actions: ['delete'] },
      { resource_id: 'stytch_reports', description: '', actions: ['read'] },
    ],
    roles: [{ role_id: 'reviewer', description: '', permissions: [{ resource_id: 'stytch.member', actions: ['*', 'search'] }, { resource_id: 'stytch.sso', actions: ['fly'] }] }],
    scopes: [],
  },
  null,
  2,
);

const databases: { name: string; database: () => Promise<{ url: string | undefined; drop: () => Promise<void> }> }[] = [
  { name: 'sqlite', database: async () => ({ url: undefined, drop: async () => {} }) },
  ...(POSTGRES_URL ? [{ name: 'postgres', database: createThrowawayPostgresDatabase }] : []),
];

for (const { name, database } of databases) {
  describe(`understudy rbac policy (${name})`, () => {
    let env: Record<string, string>;
    let drop: () => Promise<void>;
    const file = (fileName: string, text: string): string => {
      const path = join(scratch.path, `${name}-${fileName}`);
      writeFileSync(path, text);
      return path;
    };
    beforeAll(async () => {
      const opened = await database();
      drop = opened.drop;
      env = { UNDERSTUDY_DATA_DIR: join(scratch.path, name), ...PROJECT, ...(opened.url !== undefined && { UNDERSTUDY_DATABASE_URL: opened.url }) };
    });
    afterAll(() => drop());
    const cli = (args: string[], extra: Record<string, string> = {}) => runCliToExit(['rbac', 'policy', ...args], { ...env, ...extra });
    const shownJson = async (): Promise<PolicyDocument> => {
      const result = await cli(['show', '--json']);
      expect(result.code, result.stderr).toBe(0);
      return JSON.parse(result.stdout) as PolicyDocument;
    };
    /** Runs `work` on the services `serve` builds over the same database. */
    const withServices = async <T>(work: (opened: Awaited<ReturnType<typeof openServices>>) => Promise<T>): Promise<T> => {
      const opened = await openServices(loadConfig({ env }));
      try {
        return await work(opened);
      } finally {
        await opened.close();
      }
    };

    it("shows Stytch's default policy on a new project, as text, JSON and YAML", async () => {
      const text = await cli(['show']);
      expect(text.code, text.stderr).toBe(0);
      expect(text.stdout).toMatch(/^Policy version 0: Stytch's default resources and roles \(no policy applied yet\)\.\n\nResources\n {2}stytch\.organization: /);
      expect(text.stdout).toMatch(/^Roles\n {2}stytch_member: .*\n {4}stytch\.self: \*$/m);
      expect(text.stdout).toMatch(/^Scopes\n {2}\(none\)$/m);
      const json = await cli(['show', '--json']);
      expect(JSON.parse(json.stdout)).toEqual(policyDocument(DEFAULT_POLICY));
      expect(json.stderr).toContain('Policy version 0');
      const yaml = await cli(['show', '--yaml']);
      expect(yaml.code, yaml.stderr).toBe(0);
      expect(yaml.stdout).toMatch(/^# Policy version 0/);
      expect(parseYaml(yaml.stdout)).toEqual(policyDocument(DEFAULT_POLICY));
    });

    it('applies a YAML file, printing the version and what changed; the services then answer it, and history lists it', async () => {
      const applied = await cli(['apply', file('editor.yaml', EDITOR_YAML)]);
      expect(applied.code, applied.stderr).toBe(0);
      expect(applied.stdout).toBe(
        [
          `Applied ${join(scratch.path, `${name}-editor.yaml`)}: policy version 1 (was 0).`,
          '  Resources: added documents',
          '  Roles: added editor',
          '  Scopes: added read:documents',
          '',
        ].join('\n'),
      );
      const shown = await shownJson();
      expect(shown.roles.map((role) => role.role_id)).toEqual(['stytch_member', 'stytch_admin', 'editor']);
      expect(shown.scopes).toEqual([{ scope: 'read:documents', description: 'Read documents', permissions: [{ resource_id: 'documents', actions: ['read'] }] }]);
      const current = await withServices(({ services }) => services.rbacPolicy.current());
      expect(current).toMatchObject({ version: 1, source: 'cli' });
      expect(policyDocument(current.policy)).toEqual(shown);

      // The same policy again (as JSON this time, exactly what `show --json` printed) changes nothing.
      const again = await cli(['apply', file('shown.json', JSON.stringify(shown))]);
      expect(again.code, again.stderr).toBe(0);
      expect(again.stdout).toMatch(/^No change: .*shown\.json holds the policy in force \(version 1\)\.\n$/);

      const history = await cli(['history']);
      expect(history.code, history.stderr).toBe(0);
      expect(history.stdout.trimEnd().split('\n')).toEqual([
        expect.stringMatching(/^VERSION +SOURCE +CREATED +CHANGES$/),
        expect.stringMatching(/^1 +cli +\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ +resources \+documents; roles \+editor; scopes \+read:documents$/),
        expect.stringMatching(/^0 +default +- +Stytch's default resources and roles$/),
      ]);
      const historyJson = await cli(['history', '--json', '--limit', '1']);
      const listed = JSON.parse(historyJson.stdout) as { versions: { version: number; source: string; changes: { roles: { added: { role_id: string }[] } }; policy: PolicyDocument }[] };
      expect(listed.versions.map((entry) => [entry.version, entry.source])).toEqual([[1, 'cli']]);
      expect(listed.versions[0]?.changes.roles.added.map((role) => role.role_id)).toEqual(['editor']);
      expect(listed.versions[0]?.policy).toEqual(shown);
    });

    it('refuses a file with problems listing every one (exit 1), changing nothing', async () => {
      const before = await shownJson();
      const versions = async () => (await withServices(({ services }) => services.rbacPolicy.history(10))).map((version) => version.version);
      const versionsBefore = await versions();
      const refused = await cli(['apply', file('bad.json', BAD_JSON)]);
      expect(refused.code).toBe(1);
      expect(refused.stdout).toBe('');
      expect(refused.stderr.trimEnd().split('\n')).toEqual([
        `understudy: invalid_rbac_policy: ${join(scratch.path, `${name}-bad.json`)} was not applied (4 problems):`,
        "  - resources[0].actions: stytch.self is one of Stytch's resources; its actions cannot be changed.",
        '  - resources[1].resource_id: Resource "stytch_reports": custom resource ids may not start with "stytch".',
        '  - roles[0].permissions[0].actions: "*" grants every action on "stytch.member" and cannot be listed with others.',
        '  - roles[0].permissions[1].actions: "stytch.sso" has no action "fly".',
      ]);
      const unparsable = await cli(['apply', file('broken.yaml', 'roles:\n  - role_id: reviewer\n   description: x\n')]);
      expect(unparsable.code).toBe(1);
      expect(unparsable.stderr).toMatch(/was not applied \(1 problem\):\n {2}- not valid YAML: line 3, column \d+: /);
      const missing = await cli(['apply', join(scratch.path, 'absent.json')]);
      expect(missing.code).toBe(1);
      expect(missing.stderr).toContain('  - could not be read: ENOENT');
      // `serve` with the same file configured does not start: exit 78 (a configuration problem), every problem listed.
      const serve = await runCliToExit(['serve'], { ...env, UNDERSTUDY_PORT: '0', UNDERSTUDY_RBAC_POLICY_FILE: join(scratch.path, `${name}-bad.json`) });
      expect(serve.code).toBe(78);
      expect(serve.stdout).not.toContain('understudy is listening');
      expect(serve.stderr.trimEnd().split('\n')).toEqual([
        `The RBAC policy file ${join(scratch.path, `${name}-bad.json`)} (UNDERSTUDY_RBAC_POLICY_FILE) was not applied, so the server did not start. Fix the file:`,
        ...refused.stderr.trimEnd().split('\n').slice(1),
      ]);
      expect(await shownJson()).toEqual(before);
      expect(await versions()).toEqual(versionsBefore);
    });

    it('refuses to remove a role a member still holds (rbac_role_in_use), and a stale --based-on (rbac_policy_changed)', async () => {
      await withServices(async ({ store }) => {
        const organization = anOrganization();
        await store.organizations.insertOrganization(organization);
        await store.members.insertMember(aMember({ organizationId: organization.organizationId, assignedRoles: ['editor'] }));
      });
      const without = file('without-editor.yaml', EDITOR_YAML.replace(/roles:\n(?:.*\n)*?scopes:/, 'roles: []\nscopes:'));
      const inUse = await cli(['apply', without]);
      expect(inUse.code).toBe(1);
      expect(inUse.stderr.trimEnd().split('\n')).toEqual([
        expect.stringMatching(/^understudy: rbac_role_in_use: .*without-editor\.yaml was not applied \(1 problem\):$/),
        '  - roles: Role "editor" cannot be removed: 1 member(s) hold it directly.',
      ]);

      const extra = file('reviewer.yaml', `${EDITOR_YAML.replace('roles:\n', 'roles:\n  - role_id: reviewer\n    permissions: [{ resource_id: documents, actions: [read] }]\n')}`);
      const stale = await cli(['apply', extra, '--based-on', '0']);
      expect(stale.code).toBe(1);
      expect(stale.stderr).toMatch(/^understudy: rbac_policy_changed: /);
      expect((await withServices(({ services }) => services.rbacPolicy.current())).version).toBe(1);

      const fresh = await cli(['apply', extra, '--based-on', '1'], { UNDERSTUDY_RBAC_POLICY_FILE: join(scratch.path, 'policy.yaml') });
      expect(fresh.code, fresh.stderr).toBe(0);
      expect(fresh.stdout).toContain('policy version 2 (was 1).\n  Roles: added reviewer\n');
      // With a policy file configured, the operator is told that the next start applies the file instead.
      expect(fresh.stderr).toContain('UNDERSTUDY_RBAC_POLICY_FILE is set');
    });

    it('answers bad arguments with exit 2 and the usage, before opening anything', async () => {
      // Two through the real CLI; the parser's other refusals are below.
      for (const args of [['apply'], ['history', '--limit', '0']]) {
        const result = await cli(args);
        expect(result.code, args.join(' ')).toBe(2);
        expect(result.stderr).toContain('Usage: understudy rbac policy');
      }
      const help = await runCliToExit(['rbac', '--help'], env);
      expect(help.code).toBe(0);
      expect(help.stdout).toContain('Usage: understudy rbac policy');
    });
  });
}

describe('rbac arguments', () => {
  it('reads each subcommand with its options', () => {
    expect(parseRbacArguments(['rbac', 'policy', 'show'])).toMatchObject({ subcommand: 'show', format: 'text' });
    expect(parseRbacArguments(['rbac', 'policy', 'show', '--yaml'])).toMatchObject({ subcommand: 'show', format: 'yaml' });
    expect(parseRbacArguments(['rbac', 'policy', 'apply', 'policy.json', '--based-on', '7'])).toMatchObject({ subcommand: 'apply', file: 'policy.json', basedOn: 7 });
    expect(parseRbacArguments(['rbac', 'policy', 'apply', 'policy.json'])).toMatchObject({ basedOn: undefined });
    expect(parseRbacArguments(['rbac', 'policy', 'history'])).toMatchObject({ subcommand: 'history', limit: 20, json: false });
    expect(parseRbacArguments(['rbac', 'policy', 'history', '--limit', '5', '--json'])).toMatchObject({ limit: 5, json: true });
  });

  it.each([
    [['policy', 'show', '--limit', '3'], '--limit does not apply to `rbac policy show`.'],
    [['policy', 'apply', 'a.json', '--json'], '--json does not apply to `rbac policy apply`.'],
    [['policy', 'history', 'extra'], 'Unexpected argument "extra".'],
    [['policy', 'apply', 'a.json', 'b.json'], 'Unexpected argument "b.json".'],
    [['policy', 'apply'], 'Missing the policy file'],
    [['policy', 'apply', 'a.json', '--based-on=-1'], '--based-on must be a version number'],
    [['policy', 'apply', 'a.json', '--based-on', 'latest'], '--based-on must be a version number'],
    [['policy', 'show', '--json', '--yaml'], 'Give --json or --yaml, not both.'],
    [['policy', 'history', '--limit', '1001'], '--limit must be a whole number from 1 to 1000'],
    [['policy', 'rollback'], 'Unknown rbac policy subcommand "rollback".'],
    [['roles'], 'Unknown rbac subcommand "roles".'],
    [[], 'Missing rbac subcommand.'],
  ])('refuses %j: %s', (args, message) => {
    expect(() => parseRbacArguments(['rbac', ...args])).toThrow(message);
  });
});
