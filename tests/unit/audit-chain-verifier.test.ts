import { describe, expect, it } from 'vitest';
import { chainHash, GENESIS_HASH, type AuditChainHead, type ChainedAuditRecord, type PublishedHead } from '../../src/domain/audit/audit-chain.js';
import type { AuditChainStore } from '../../src/domain/audit/audit-chain-store.js';
import { AUDIT_CHAIN_VERIFY_RETRY_AFTER_SECONDS, AuditChainVerifier, describeProblem } from '../../src/domain/audit/audit-chain-verifier.js';
import type { AuditEvent } from '../../src/domain/audit/audit-event.js';
import { DomainError } from '../../src/domain/common/domain-error.js';
import { RateLimitedError } from '../../src/domain/rate-limits/errors.js';

/** The chain store's behaviour over rows built by hand, as a database holds them (and as someone may edit them). */
class MemoryChains implements AuditChainStore {
  records: ChainedAuditRecord[] = [];
  heads = new Map<string, AuditChainHead>();
  unchained: AuditEvent[] = [];
  published = new Map<string, PublishedHead>();
  /** When set, every read of a chain waits for it first: a slow database. */
  gate: Promise<void> | undefined;

  async listChainHeads(chainId?: string): Promise<AuditChainHead[]> {
    return [...this.heads.values()].filter((head) => chainId === undefined || head.chainId === chainId).sort((a, b) => a.chainId.localeCompare(b.chainId));
  }
  async chainExtents(chainId?: string): Promise<{ chainId: string; lastSeq: number }[]> {
    const extents = new Map<string, number>();
    for (const record of this.records) if (chainId === undefined || record.chainId === chainId) extents.set(record.chainId, Math.max(extents.get(record.chainId) ?? 0, record.seq));
    return [...extents.entries()].sort().map(([id, lastSeq]) => ({ chainId: id, lastSeq }));
  }
  async readChain(chainId: string, page: { afterSeq: number; throughSeq: number; limit: number }): Promise<ChainedAuditRecord[]> {
    await this.gate;
    return this.records
      .filter((record) => record.chainId === chainId && record.seq > page.afterSeq && record.seq <= page.throughSeq)
      .sort((a, b) => a.seq - b.seq)
      .slice(0, page.limit);
  }
  async listUnchainedEvents(filter: { organizationId?: string | null | undefined }, page: { limit: number; afterEventId: string | null }): Promise<AuditEvent[]> {
    return this.unchained
      .filter((event) => (filter.organizationId === undefined || event.organizationId === filter.organizationId) && (page.afterEventId === null || event.eventId > page.afterEventId))
      .slice(0, page.limit);
  }
  async latestEventOfType(): Promise<AuditEvent | undefined> {
    return undefined;
  }
  async lockHeadPublication(): Promise<void> {}
  async listPublishedHeads(chainId?: string): Promise<PublishedHead[]> {
    return [...this.published.values()].filter((head) => chainId === undefined || head.chainId === chainId);
  }
  async markPublished(heads: readonly PublishedHead[]): Promise<void> {
    for (const head of heads) if ((this.published.get(head.chainId)?.seq ?? 0) < head.seq) this.published.set(head.chainId, head);
  }

  /** Appends as the SQL store does: next seq, linked to the head, head moved. */
  append(chainId: string, details = '{}'): ChainedAuditRecord {
    const head = this.heads.get(chainId) ?? { chainId, seq: 0, hash: GENESIS_HASH, updatedAt: '' };
    const seq = head.seq + 1;
    const fields = {
      chainId,
      seq,
      prevHash: head.hash,
      eventId: `audit-event-test-${chainId}-${String(seq).padStart(4, '0')}`,
      type: 'impersonation.token_minted',
      occurredAt: `2026-01-01T00:00:${String(seq % 60).padStart(2, '0')}Z`,
      requestId: `request-id-test-${seq}`,
      actorJson: '{"type":"project","projectId":"project-test-1"}',
      organizationId: chainId === 'project' ? null : chainId,
      memberId: null,
      impersonatorId: 'support-17',
      clientIp: null,
      userAgent: null,
      detailsJson: details,
    };
    const record = { ...fields, hash: chainHash(fields) };
    this.records.push(record);
    this.heads.set(chainId, { chainId, seq, hash: record.hash, updatedAt: record.occurredAt });
    return record;
  }

  at(chainId: string, seq: number): ChainedAuditRecord {
    const found = this.records.find((record) => record.chainId === chainId && record.seq === seq);
    if (found === undefined) throw new Error(`no record ${chainId}#${seq}`);
    return found;
  }

  replace(old: ChainedAuditRecord, change: Partial<ChainedAuditRecord>): void {
    this.records = this.records.map((record) => (record === old ? { ...record, ...change } : record));
  }
}

const ORG = 'organization-test-acme';

/** A store with one organization chain of `length` records (and a project chain of 2), verified a page of 2 at a time. */
function chains(length = 6): { store: MemoryChains; verifier: AuditChainVerifier } {
  const store = new MemoryChains();
  for (let index = 0; index < length; index += 1) store.append(ORG, `{"n":${index}}`);
  store.append('project');
  store.append('project');
  return { store, verifier: new AuditChainVerifier({ store: { auditChains: store }, pageSize: 2 }) };
}

describe('AuditChainVerifier', () => {
  it('finds intact chains valid, counting every record across pages', async () => {
    const { verifier } = chains();
    const outcome = await verifier.verify();
    expect(outcome).toMatchObject({ valid: true, checkedRecords: 8, broken: null, problems: [] });
    expect(outcome.chains.map((chain) => [chain.chainId, chain.records])).toEqual([
      [ORG, 6],
      ['project', 2],
    ]);
  });

  it('names an edited record: its content no longer gives its hash', async () => {
    const { store, verifier } = chains();
    const third = store.at(ORG, 3);
    store.replace(third, { detailsJson: '{"n":"changed"}' });
    const outcome = await verifier.verify();
    expect(outcome.valid).toBe(false);
    expect(outcome.broken).toEqual({ chainId: ORG, seq: 3, eventId: third.eventId, problem: 'edited' });
    expect(outcome.chains.find((chain) => chain.chainId === ORG)?.records).toBe(2);
    // The project's chain is checked all the same.
    expect(outcome.checkedRecords).toBe(4);
  });

  it('names the record after a deleted one, and a chain that does not start at 1', async () => {
    const { store, verifier } = chains();
    const fourth = store.at(ORG, 4);
    store.records = store.records.filter((record) => record !== store.at(ORG, 3));
    expect((await verifier.verify()).broken).toEqual({ chainId: ORG, seq: 4, eventId: fourth.eventId, problem: 'missing_record_before' });

    store.records = store.records.filter((record) => record.chainId !== ORG || record.seq > 1);
    const second = store.at(ORG, 2);
    expect((await verifier.verify()).broken).toEqual({ chainId: ORG, seq: 2, eventId: second.eventId, problem: 'missing_record_before' });
  });

  it('names the first of two records whose places were swapped', async () => {
    const { store, verifier } = chains();
    const third = store.at(ORG, 3);
    const fourth = store.at(ORG, 4);
    store.replace(third, { seq: 4 });
    store.replace(fourth, { seq: 3 });
    expect((await verifier.verify()).broken).toEqual({ chainId: ORG, seq: 3, eventId: fourth.eventId, problem: 'out_of_order' });
  });

  it('names the record after one that was edited and rehashed: it no longer links to it', async () => {
    const { store, verifier } = chains();
    const third = store.at(ORG, 3);
    const edited = { ...third, detailsJson: '{"n":"rewritten"}' };
    store.replace(third, { detailsJson: edited.detailsJson, hash: chainHash(edited) });
    expect((await verifier.verify()).broken).toEqual({ chainId: ORG, seq: 4, eventId: store.at(ORG, 4).eventId, problem: 'out_of_order' });
  });

  it("names a head that disagrees with the chain's last record", async () => {
    const { store, verifier } = chains();
    const head = store.heads.get(ORG) as AuditChainHead;

    store.heads.set(ORG, { ...head, hash: 'f'.repeat(64) });
    expect((await verifier.verify()).broken).toEqual({ chainId: ORG, seq: 6, eventId: store.at(ORG, 6).eventId, problem: 'head_mismatch' });

    // The last record deleted: the head names a seq no record has.
    store.heads.set(ORG, head);
    const last = store.at(ORG, 6);
    store.records = store.records.filter((record) => record !== last);
    expect((await verifier.verify()).broken).toEqual({ chainId: ORG, seq: 6, eventId: null, problem: 'head_mismatch' });

    // A record added after the head without moving it.
    store.records.push(last);
    store.heads.set(ORG, { ...head, seq: 5, hash: store.at(ORG, 5).hash });
    expect((await verifier.verify()).broken).toEqual({ chainId: ORG, seq: 6, eventId: last.eventId, problem: 'head_mismatch' });

    // No head row at all.
    store.heads.delete(ORG);
    expect((await verifier.verify()).broken).toEqual({ chainId: ORG, seq: 6, eventId: last.eventId, problem: 'head_mismatch' });
  });

  it('names an event the rule chains that is in no chain; unchained events of other kinds are fine', async () => {
    const { store, verifier } = chains();
    const base = { requestId: 'request-id-test-x', occurredAt: '2026-01-01T00:00:00Z', memberId: null, impersonatorId: null, client: null, details: {} };
    store.unchained.push({ ...base, eventId: 'audit-event-test-a', type: 'session.started', actor: { type: 'project', projectId: 'project-test-1' }, organizationId: ORG });
    expect((await verifier.verify()).valid).toBe(true);
    store.unchained.push({ ...base, eventId: 'audit-event-test-b', type: 'impersonation.token_redeemed', actor: { type: 'project', projectId: 'project-test-1' }, organizationId: ORG });
    expect((await verifier.verify()).broken).toEqual({ chainId: ORG, seq: null, eventId: 'audit-event-test-b', problem: 'unchained' });
    // Verifying only the project's chain looks only at events of no organization.
    expect((await verifier.verify({ chainId: 'project' })).valid).toBe(true);
  });

  it('checks published heads: the record at that seq must still have that hash', async () => {
    const { store, verifier } = chains();
    const published = store.at(ORG, 4);
    expect((await verifier.verify({ expected: [{ chainId: ORG, seq: 4, hash: published.hash }] })).valid).toBe(true);

    // History rewritten from seq 3 on and every hash recomputed: the chain is consistent again, but not the published head.
    store.records = store.records.filter((record) => record.chainId !== ORG || record.seq < 3);
    store.heads.set(ORG, { chainId: ORG, seq: 2, hash: store.at(ORG, 2).hash, updatedAt: '' });
    for (let index = 0; index < 4; index += 1) store.append(ORG, `{"n":"forged ${index}"}`);
    expect((await verifier.verify()).valid).toBe(true);
    const outcome = await verifier.verify({ expected: [{ chainId: ORG, seq: 4, hash: published.hash }] });
    expect(outcome.broken).toEqual({ chainId: ORG, seq: 4, eventId: store.at(ORG, 4).eventId, problem: 'not_as_published' });
    expect(describeProblem(outcome.broken as NonNullable<typeof outcome.broken>)).toContain('the history was rewritten, cut back or deleted');
    // A published seq the chain no longer reaches.
    expect((await verifier.verify({ expected: [{ chainId: ORG, seq: 99, hash: published.hash }] })).broken).toEqual({ chainId: ORG, seq: 99, eventId: null, problem: 'not_as_published' });
  });

  it('passes a chain cut back with its head moved, or deleted with its head, unless a head published before says otherwise', async () => {
    const { store, verifier } = chains();
    const published = { chainId: ORG, seq: 6, hash: store.at(ORG, 6).hash };
    // The last two records deleted, and the head moved to the new last one: consistent again.
    store.records = store.records.filter((record) => record.chainId !== ORG || record.seq <= 4);
    store.heads.set(ORG, { chainId: ORG, seq: 4, hash: store.at(ORG, 4).hash, updatedAt: '' });
    expect((await verifier.verify()).valid).toBe(true);
    expect((await verifier.verify({ expected: [published] })).problems).toEqual([{ chainId: ORG, seq: 6, eventId: null, problem: 'not_as_published' }]);

    // The whole chain deleted, records and head: nothing is left to find broken.
    store.records = store.records.filter((record) => record.chainId !== ORG);
    store.heads.delete(ORG);
    expect(await verifier.verify()).toMatchObject({ valid: true, checkedRecords: 2 });
    expect((await verifier.verify({ expected: [published] })).problems).toEqual([{ chainId: ORG, seq: 6, eventId: null, problem: 'not_as_published' }]);
    // Asked for by name, a deleted chain that was published is not unknown: it is not as published.
    expect((await verifier.verify({ chainId: ORG, expected: [published] })).broken).toEqual({ chainId: ORG, seq: 6, eventId: null, problem: 'not_as_published' });
  });

  it('checks each chain against the furthest head published from the database too (a weak check: that table is in the same database)', async () => {
    const { store, verifier } = chains();
    await store.markPublished([{ chainId: ORG, seq: 5, hash: store.at(ORG, 5).hash }]);
    expect((await verifier.verify()).valid).toBe(true);
    store.records = store.records.filter((record) => record.chainId !== ORG || record.seq <= 3);
    store.heads.set(ORG, { chainId: ORG, seq: 3, hash: store.at(ORG, 3).hash, updatedAt: '' });
    expect((await verifier.verify()).problems).toEqual([{ chainId: ORG, seq: 5, eventId: null, problem: 'not_as_published' }]);
    // Deleted with its published row as well, the chain leaves no trace in the database.
    store.records = store.records.filter((record) => record.chainId !== ORG);
    store.heads.delete(ORG);
    store.published.delete(ORG);
    expect((await verifier.verify()).valid).toBe(true);
  });

  it('runs one verification at a time: another meanwhile is refused with too_many_requests and a Retry-After, and the next one after it runs', async () => {
    const { store, verifier } = chains();
    let open: () => void = () => undefined;
    store.gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    const first = verifier.verify();
    const refused = await verifier.verify({ chainId: ORG }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(RateLimitedError);
    expect((refused as RateLimitedError).retryAfterSeconds).toBe(AUDIT_CHAIN_VERIFY_RETRY_AFTER_SECONDS);
    expect((refused as RateLimitedError).message).toMatch(/an audit chain verification is running already/);
    open();
    expect(await first).toMatchObject({ valid: true, checkedRecords: 8 });
    expect(await verifier.verify()).toMatchObject({ valid: true });
    // A verification that fails gives its turn back too.
    store.gate = Promise.reject(new Error('database gone'));
    store.gate.catch(() => undefined);
    await expect(verifier.verify()).rejects.toThrow('database gone');
    store.gate = undefined;
    expect(await verifier.verify()).toMatchObject({ valid: true });
  });

  it('reports the first broken record of each chain, the first chain first', async () => {
    const { store, verifier } = chains();
    store.replace(store.at('project', 2), { detailsJson: '{"x":1}' });
    store.replace(store.at(ORG, 5), { type: 'impersonation.token_revoked' });
    const outcome = await verifier.verify();
    expect(outcome.problems.map((broken) => [broken.chainId, broken.seq, broken.problem])).toEqual([
      [ORG, 5, 'edited'],
      ['project', 2, 'edited'],
    ]);
    expect(outcome.broken).toEqual(outcome.problems[0]);
  });

  it('verifies one chain when asked, and refuses a chain that does not exist', async () => {
    const { store, verifier } = chains();
    store.replace(store.at('project', 1), { detailsJson: '{"x":1}' });
    expect(await verifier.verify({ chainId: ORG })).toMatchObject({ valid: true, checkedRecords: 6 });
    const missing = await verifier.verify({ chainId: 'organization-test-nobody' }).catch((error: unknown) => error);
    expect(missing).toBeInstanceOf(DomainError);
    expect((missing as DomainError).code).toBe('audit_chain_not_found');
  });
});
