import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { chainHash, chainIdOf, GENESIS_HASH, headsDigest, isChainedEvent, PROJECT_CHAIN, type ChainedAuditRecord } from '../../src/domain/audit/audit-chain.js';

const record: Omit<ChainedAuditRecord, 'hash'> = {
  chainId: 'organization-test-1',
  seq: 7,
  prevHash: GENESIS_HASH,
  eventId: 'audit-event-test-1',
  type: 'impersonation.token_minted',
  occurredAt: '2026-01-01T00:00:00Z',
  requestId: 'request-id-test-1',
  actorJson: '{"type":"project","projectId":"project-test-1"}',
  organizationId: 'organization-test-1',
  memberId: 'member-test-1',
  impersonatorId: null,
  clientIp: '203.0.113.9',
  userAgent: null,
  detailsJson: '{"reason":"Ticket 4711 – é"}',
};

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

describe('chainHash', () => {
  it('is SHA-256 of the documented serialization: version, then each field as <UTF-8 length>:<text> or - for null, one per line', () => {
    const expected = sha256(
      [
        'understudy-audit-chain-v1',
        '19:organization-test-1',
        '1:7',
        `64:${GENESIS_HASH}`,
        '18:audit-event-test-1',
        '26:impersonation.token_minted',
        '20:2026-01-01T00:00:00Z',
        '17:request-id-test-1',
        '47:{"type":"project","projectId":"project-test-1"}',
        '19:organization-test-1',
        '13:member-test-1',
        '-',
        '11:203.0.113.9',
        '-',
        // "–" is 3 bytes in UTF-8 and "é" 2: lengths count bytes, not characters.
        '31:{"reason":"Ticket 4711 – é"}',
      ].join('\n'),
    );
    expect(chainHash(record)).toBe(expected);
    expect(chainHash(record)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('changes with every field, and tells null from any text', () => {
    const original = chainHash(record);
    const changes: Partial<Omit<ChainedAuditRecord, 'hash'>>[] = [
      { chainId: 'organization-test-2' },
      { seq: 8 },
      { prevHash: 'f'.repeat(64) },
      { eventId: 'audit-event-test-2' },
      { type: 'impersonation.token_revoked' },
      { occurredAt: '2026-01-01T00:00:01Z' },
      { requestId: 'request-id-test-2' },
      { actorJson: '{"type":"cli"}' },
      { organizationId: null },
      { memberId: null },
      { impersonatorId: '-' },
      { impersonatorId: '' },
      { clientIp: null },
      { userAgent: '-' },
      { detailsJson: '{"reason":"Ticket 4712 – é"}' },
      // The same bytes in the JSON text, written differently: the stored text is what counts.
      { detailsJson: '{ "reason":"Ticket 4711 – é"}' },
    ];
    const hashes = changes.map((change) => chainHash({ ...record, ...change }));
    for (const changed of hashes) expect(changed).not.toBe(original);
    expect(new Set(hashes).size).toBe(hashes.length);
  });

  it('cannot be matched by moving text from one field to the next', () => {
    const a = chainHash({ ...record, memberId: 'ab', impersonatorId: 'c' });
    const b = chainHash({ ...record, memberId: 'a', impersonatorId: 'bc' });
    const c = chainHash({ ...record, memberId: 'a\n2:bc', impersonatorId: null });
    expect(new Set([a, b, c]).size).toBe(3);
  });
});

describe('headsDigest', () => {
  it('is SHA-256 of the sorted chain:seq:hash lines joined by newlines, whatever order the heads come in', () => {
    const heads = [
      { chainId: 'project', seq: 3, hash: 'b'.repeat(64) },
      { chainId: 'organization-test-1', seq: 12, hash: 'a'.repeat(64) },
    ];
    const expected = sha256(`organization-test-1:12:${'a'.repeat(64)}\nproject:3:${'b'.repeat(64)}`);
    expect(headsDigest(heads)).toBe(expected);
    expect(headsDigest([...heads].reverse())).toBe(expected);
    expect(headsDigest([])).toBe(sha256(''));
  });
});

describe('which events are chained, and where', () => {
  it('chains impersonation, operator and webhook events and whatever an operator did; not the rest', () => {
    const project = { type: 'project' as const, projectId: 'project-test-1' };
    expect(isChainedEvent({ type: 'impersonation.mint_refused', actor: project })).toBe(true);
    expect(isChainedEvent({ type: 'operator.signed_in', actor: { type: 'system' } })).toBe(true);
    expect(isChainedEvent({ type: 'webhook.endpoint_added', actor: project })).toBe(true);
    expect(isChainedEvent({ type: 'member.updated', actor: { type: 'operator', operatorId: 'operator-test-1', emailAddress: 'pat@ops.example' } })).toBe(true);
    expect(isChainedEvent({ type: 'member.updated', actor: project })).toBe(false);
    expect(isChainedEvent({ type: 'session.started', actor: project })).toBe(false);
    expect(isChainedEvent({ type: 'audit.chain_head_published', actor: { type: 'system' } })).toBe(false);
  });

  it("joins the organization's chain, or the project's for events of no organization", () => {
    expect(chainIdOf({ organizationId: 'organization-test-1' })).toBe('organization-test-1');
    expect(chainIdOf({ organizationId: null })).toBe(PROJECT_CHAIN);
  });
});
