import { describe, expect, it } from 'vitest';
import { jsonErrorWhere } from '../../src/console/routes/rbac-pages.js';
import { changeList, rbacPage, type RbacPageOptions } from '../../src/console/views/rbac-views.js';
import type { AuditEvent } from '../../src/domain/audit/audit-event.js';
import { DEFAULT_POLICY, type PolicyVersion } from '../../src/domain/rbac/policy.js';
import { diffPolicies } from '../../src/domain/rbac/policy-diff.js';

const HOSTILE = `<script>alert("x")</script>'&`;

const VERSION_1: PolicyVersion = {
  version: 1,
  source: 'console',
  createdAt: '2026-03-02T09:00:00Z',
  policy: {
    ...DEFAULT_POLICY,
    resources: [...DEFAULT_POLICY.resources, { resourceId: 'documents', description: HOSTILE, actions: ['read', 'write'] }],
    roles: [...DEFAULT_POLICY.roles, { roleId: 'editor', description: HOSTILE, permissions: [{ resourceId: 'documents', actions: ['read', 'write'] }] }],
    scopes: [{ scope: 'docs:read', description: HOSTILE, permissions: [{ resourceId: 'documents', actions: ['read'] }] }],
  },
};

function event(version: number, changes: unknown): AuditEvent {
  return {
    eventId: `audit-event-test-${version}`,
    type: 'rbac.policy_updated',
    organizationId: null,
    occurredAt: '2026-03-02T09:00:00Z',
    requestId: 'request-id-test',
    actor: { type: 'operator', operatorId: 'operator-test-1', emailAddress: `ops${HOSTILE}@example.com` },
    details: { version, previous_version: version - 1, source: 'console', changes },
  } as unknown as AuditEvent;
}

function render(overrides: Partial<RbacPageOptions> = {}): string {
  return rbacPage({
    current: VERSION_1,
    history: [VERSION_1],
    changes: new Map([[1, event(1, diffPolicies(DEFAULT_POLICY, VERSION_1.policy))]]),
    document: JSON.stringify({ roles: [{ role_id: HOSTILE }] }, null, 2),
    canEdit: true,
    csrf: 'csrf-token',
    policyFile: undefined,
    ...overrides,
  }).value;
}

/** The RBAC page escapes everything that comes from a policy, an audit event, a draft or the configuration. */
describe('console RBAC views', () => {
  it('escapes descriptions, the policy JSON, the actor and the history', () => {
    const page = render();
    expect(page).not.toContain('<script>');
    expect(page).toContain('&#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62;&#39;&#38;');
    expect(page).toContain('<textarea id="policy" name="policy"');
    expect(page).toContain('<input type="hidden" name="based_on" value="1">');
    expect(page).toContain('<td>operator ops&#60;script&#62;');
    expect(page).toContain('<strong>Resources</strong>: added <code>documents</code>');
    expect(page).toContain('<strong>Roles</strong>: added <code>editor</code>');
    expect(page).toContain('<strong>Scopes</strong>: added <code>docs:read</code>');
  });

  it('keeps a refused draft as typed, escaped (a typed </textarea> cannot close the field), with every problem and the version it is based on', () => {
    const text = `{"roles": "</textarea><script>alert(1)</script>"}`;
    const page = render({
      draft: {
        text,
        basedOn: 1,
        error: 'Nothing was applied: the policy has 2 problems.',
        problems: [
          { path: 'resources[6].resource_id', code: 'invalid_stytch_prefixed_resource', message: `Resource "stytch.<b>": custom resource ids may not start with "stytch".` },
          { path: '', code: 'invalid_rbac_policy', message: 'The policy must be an object.' },
        ],
      },
    });
    expect(page).not.toContain('</textarea><script>');
    expect(page).toContain('&#60;/textarea&#62;&#60;script&#62;alert(1)&#60;/script&#62;');
    expect(page).toContain('role="alert"><p>Nothing was applied: the policy has 2 problems.</p>');
    expect(page).toContain('<li><code>resources[6].resource_id</code>: Resource &#34;stytch.&#60;b&#62;&#34;');
    expect(page).toContain('<li>The policy must be an object.</li>');
  });

  it('shows the form to admins only, and the policy-file warning only when a file is configured', () => {
    const readOnly = render({ canEdit: false });
    expect(readOnly).not.toContain('<form method="post" action="/console/rbac"');
    expect(readOnly).toContain('Only admins can change the RBAC policy.');
    expect(render()).not.toContain('policy file <code>');
    const withFile = render({ policyFile: '/etc/understudy/<rbac>.json' });
    expect(withFile).toContain('started with the policy file <code>/etc/understudy/&#60;rbac&#62;.json</code>');
    expect(withFile).toContain('replaces any change made here');
  });

  it('describes changed items by id: actions and permissions added and removed, descriptions', () => {
    const after = {
      ...VERSION_1.policy,
      resources: VERSION_1.policy.resources.map((resource) => (resource.resourceId === 'documents' ? { ...resource, actions: ['read', 'archive'] } : resource)),
      roles: VERSION_1.policy.roles.map((role) => (role.roleId === 'editor' ? { ...role, description: 'new', permissions: [{ resourceId: 'documents', actions: ['read', 'archive'] }] } : role)),
      scopes: [],
    };
    const list = changeList(diffPolicies(VERSION_1.policy, after)).value;
    expect(list).toContain('<strong>Resources</strong>: changed <code>documents</code> (actions +archive −write)');
    expect(list).toContain('<strong>Roles</strong>: changed <code>editor</code> (description; documents +archive −write)');
    expect(list).toContain('<strong>Scopes</strong>: removed <code>docs:read</code>');
    // Details read back from the database are not trusted to have the expected shape.
    expect(changeList({ roles: { added: [{ role_id: 7 }], removed: 'x' } }).value).toBe('<ul><li><strong>Roles</strong>: added <code>?</code></li></ul>');
    expect(changeList(null).value).toBe('<span class="muted">no change</span>');
  });

  it('says where JSON stopped parsing, as a line and column', () => {
    const text = '{\n  "roles": [,]\n}';
    let error: unknown;
    try {
      JSON.parse(text);
    } catch (caught) {
      error = caught;
    }
    // V8 names no position for an unexpected token: it is found all the same, and the quoted text is left out.
    expect(jsonErrorWhere(text, error)).toBe("Unexpected token ',' (line 2, column 13).");
    const withPosition = '{\r\n  "a": 1,\r\n}';
    try {
      JSON.parse(withPosition);
    } catch (caught) {
      error = caught;
    }
    // A browser posts a textarea's line breaks as CR LF: the column counts from the line's start all the same.
    expect(jsonErrorWhere(withPosition, error)).toBe('Expected double-quoted property name in JSON at position 14 (line 3, column 1).');
    expect(jsonErrorWhere('', new SyntaxError('Unexpected end of JSON input'))).toBe('Unexpected end of JSON input');
  });
});
