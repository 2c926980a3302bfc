import { describe, expect, it } from 'vitest';
import { isDomainError } from '../../src/domain/common/domain-error.js';
import type { PermissionMask } from '../../src/domain/impersonation/impersonation.js';
import { maskAllows, maskToWire, parsePermissionMask } from '../../src/domain/impersonation/permission-mask.js';
import { isReadingAction } from '../../src/domain/impersonation/read-actions.js';
import { DEFAULT_POLICY, type Policy } from '../../src/domain/rbac/policy.js';

/** The default policy plus resources whose ids and actions hold ":" (allowed by the policy rules). */
const POLICY: Pick<Policy, 'resources'> = {
  resources: [
    ...DEFAULT_POLICY.resources,
    { resourceId: 'documents', description: '', actions: ['read', 'write', 'list.shared'] },
    { resourceId: 'team:seat', description: '', actions: ['assign'] },
    { resourceId: 'a', description: '', actions: ['b:c'] },
    { resourceId: 'a:b', description: '', actions: ['c'] },
    { resourceId: 'bulk', description: '', actions: Array.from({ length: 100 }, (_, index) => `act-${index}`) },
  ],
};

function parsed(raw: unknown): PermissionMask | null {
  const mask = parsePermissionMask(raw, POLICY);
  if (isDomainError(mask)) throw new Error(`expected a mask, got ${mask.code}: ${mask.message}`);
  return mask;
}

function refusal(raw: unknown): string {
  const mask = parsePermissionMask(raw, POLICY);
  if (!isDomainError(mask)) throw new Error(`expected invalid_permission_mask for ${JSON.stringify(raw)}`);
  expect(mask.code).toBe('invalid_permission_mask');
  return mask.message;
}

describe('reading actions (read_only)', () => {
  it('are search, get, read, list, view, export, read-audit and get.* / read.* / list.*, nothing else', () => {
    for (const action of ['search', 'get', 'read', 'list', 'view', 'export', 'read-audit', 'get.connected-apps', 'read.invoices', 'list.shared']) {
      expect(isReadingAction(action), action).toBe(true);
    }
    for (const action of ['*', 'create', 'update.info.name', 'delete', 'revoke-sessions', 'revoke.connected-app', 'getter', 'reader', 'listing', 'export.csv', 'view.x', 'Read', 'SEARCH', 'get-', 'update.settings']) {
      expect(isReadingAction(action), action).toBe(false);
    }
  });
});

describe('parsePermissionMask', () => {
  it('reads nothing sent as no mask, and "read_only" as the read-only mask', () => {
    expect(parsed(undefined)).toBeNull();
    expect(parsed(null)).toBeNull();
    expect(parsed('read_only')).toEqual({ readOnly: true });
  });

  it('accepts 1 to 100 distinct resource:action pairs of the policy, ":" in ids included, kept as the pairs they were read as', () => {
    expect(parsed(['stytch.member:search', 'documents:read'])).toEqual({
      actions: [
        { resourceId: 'stytch.member', action: 'search' },
        { resourceId: 'documents', action: 'read' },
      ],
    });
    expect(parsed(['team:seat:assign', 'understudy.impersonation:read-audit'])).toEqual({
      actions: [
        { resourceId: 'team:seat', action: 'assign' },
        { resourceId: 'understudy.impersonation', action: 'read-audit' },
      ],
    });
    const hundred = Array.from({ length: 100 }, (_, index) => `bulk:act-${index}`);
    expect(parsed(hundred)).toEqual({ actions: hundred.map((text) => ({ resourceId: 'bulk', action: text.slice('bulk:'.length) })) });
  });

  it('reads an entry against the policy of the mint: the same text under a later policy still allows only the pair read then', () => {
    const mask = parsed(['team:seat:assign']);
    expect(maskAllows(mask, 'team:seat', 'assign')).toBe(true);
    // A resource "team" with an action "seat:assign", added later, spells the same text: the mask does not allow it.
    expect(maskAllows(mask, 'team', 'seat:assign')).toBe(false);
  });

  it('refuses other text, other types, an empty or over-long list, duplicates, non-text entries, unknown pairs, "*" and ambiguous pairs', () => {
    expect(refusal('READ_ONLY')).toContain('"READ_ONLY"');
    expect(refusal('write')).toContain('not the text');
    for (const raw of [true, 3, { read_only: true }]) expect(refusal(raw)).toContain('"read_only"');
    expect(refusal([])).toContain('1 to 100');
    expect(refusal([...Array.from({ length: 100 }, (_, index) => `bulk:act-${index}`), 'documents:read'])).toContain('it lists 101');
    expect(refusal(['documents:read', 'documents:read'])).toContain('twice');
    expect(refusal(['documents:read', 7])).toBe('permissions[1] must be a "resource:action" text.');
    for (const entry of ['documents', 'documents:print', 'ghost:read', ':read', 'documents:', 'documents:*', 'stytch.member:*', 'Documents:read', ' documents:read']) {
      expect(refusal([entry]), entry).toContain("names no resource and action of the project's RBAC policy");
    }
    expect(refusal(['a:b:c'])).toContain('more than one');
    expect(refusal(['x'.repeat(500)])).toContain('…');
  });
});

describe('maskAllows', () => {
  it('lets every action through without a mask, reading actions through read_only, and the listed pairs through a list', () => {
    expect(maskAllows(null, 'documents', 'write')).toBe(true);
    const readOnly: PermissionMask = { readOnly: true };
    expect(maskAllows(readOnly, 'stytch.member', 'search')).toBe(true);
    expect(maskAllows(readOnly, 'stytch.member', 'get.connected-apps')).toBe(true);
    expect(maskAllows(readOnly, 'stytch.member', 'update.info.name')).toBe(false);
    expect(maskAllows(readOnly, 'stytch.organization', '*')).toBe(false);
    const listed: PermissionMask = {
      actions: [
        { resourceId: 'documents', action: 'write' },
        { resourceId: 'team:seat', action: 'assign' },
      ],
    };
    expect(maskAllows(listed, 'documents', 'write')).toBe(true);
    expect(maskAllows(listed, 'team:seat', 'assign')).toBe(true);
    expect(maskAllows(listed, 'documents', 'read')).toBe(false);
    expect(maskAllows(listed, 'stytch.member', 'search')).toBe(false);
  });

  it('is carried on the wire as "read_only" or the list', () => {
    expect(maskToWire({ readOnly: true })).toBe('read_only');
    expect(maskToWire({ actions: [{ resourceId: 'documents', action: 'read' }, { resourceId: 'team:seat', action: 'assign' }] })).toEqual(['documents:read', 'team:seat:assign']);
  });
});
