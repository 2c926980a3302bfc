import { describe, expect, it } from 'vitest';
import { headsDigest, type PublishedHead } from '../../src/domain/audit/audit-chain.js';
import { type Publication, publicationOf, publishedExpectations } from '../../src/domain/audit/published-heads.js';
import { DomainError } from '../../src/domain/common/domain-error.js';

const hash = (n: number) => n.toString(16).padStart(64, '0');
const head = (chainId: string, seq: number): PublishedHead => ({ chainId, seq, hash: hash(seq * 1000 + chainId.length) });
const wire = (heads: readonly PublishedHead[]) => heads.map((entry) => ({ chain_id: entry.chainId, seq: entry.seq, hash: entry.hash }));

/** The publications ChainHeadPublisher would make of these successive states of the heads: a full list, then the changes. */
function publications(states: readonly (readonly PublishedHead[])[]): (Publication & { where: string })[] {
  let before: readonly PublishedHead[] | undefined;
  return states.map((heads, index) => {
    const changed = before === undefined ? heads : heads.filter((entry) => !before?.some((old) => old.chainId === entry.chainId && old.seq === entry.seq && old.hash === entry.hash));
    const publication = { digest: headsDigest(heads), changedSince: before === undefined ? null : headsDigest(before), heads: changed, where: `publication ${index + 1}` };
    before = heads;
    return publication;
  });
}

function refusal(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(DomainError);
    expect((error as DomainError).code).toBe('bad_request');
    return (error as DomainError).message;
  }
  throw new Error('not refused');
}

describe('publicationOf', () => {
  const heads = [head('organization-test-a', 3), head('project', 2)];
  const digest = headsDigest(heads);

  it('reads the log line, the webhook body and `audit heads --json` alike', () => {
    const expected = { digest, changedSince: null, heads };
    const logLine = { level: 30, time: 1, msg: 'audit chain heads', chains: 2, digest, changed_since: null, heads: wire(heads) };
    expect(publicationOf(logLine, 'f')).toEqual(expected);
    const webhook = { type: 'audit.chain_head_published', timestamp: '2026-01-01T00:00:00Z', data: { event_id: 'e', details: { digest, changed_since: hash(9), heads: wire(heads) } } };
    expect(publicationOf(webhook, 'f')).toEqual({ ...expected, changedSince: hash(9) });
    const cli = { heads: wire(heads).map((entry) => ({ ...entry, updated_at: '2026-01-01T00:00:00Z' })), digest };
    expect(publicationOf(cli, 'f')).toEqual(expected);
  });

  it('refuses what is not a publication, naming where and why', () => {
    expect(refusal(() => publicationOf([], 'heads.json'))).toBe('heads.json is not a publication of the audit chain heads: it is not a JSON object.');
    expect(refusal(() => publicationOf({ heads: [] }, 'f'))).toContain('it has no digest');
    expect(refusal(() => publicationOf({ digest, changed_since: 'x', heads: [] }, 'f'))).toContain('changed_since is neither null nor a digest');
    expect(refusal(() => publicationOf({ digest }, 'f'))).toContain('it has no heads list');
    expect(refusal(() => publicationOf({ digest, heads: [{ chain_id: 'a', seq: 0, hash: hash(1) }] }, 'f'))).toContain('heads[0].seq is not a seq from 1');
    expect(refusal(() => publicationOf({ digest, heads: [{ chain_id: 'a', seq: 1, hash: hash(1).toUpperCase().replace(/0/g, 'A') }] }, 'f'))).toContain('heads[0].hash');
    expect(refusal(() => publicationOf({ digest, heads: [{ chain_id: '', seq: 1, hash: hash(1) }] }, 'f'))).toContain('heads[0].chain_id');
  });
});

describe('publishedExpectations', () => {
  const first = [head('organization-test-a', 3), head('organization-test-b', 1), head('project', 2)];
  const second = [head('organization-test-a', 5), head('organization-test-b', 1), head('project', 2)];
  const third = [head('organization-test-a', 5), head('organization-test-b', 1), head('organization-test-c', 1), head('project', 4)];

  it('accumulates a full list and the changes after it: the furthest head of every chain, each digest checked', () => {
    const series = publications([first, second, third]);
    expect(series[1]?.heads).toEqual([head('organization-test-a', 5)]);
    expect(publishedExpectations(series)).toEqual(third);
    // A full list alone (`audit heads --json`) is enough too.
    expect(publishedExpectations(publications([third]))).toEqual(third);
  });

  it('refuses a full list whose digest is not its heads', () => {
    const [full] = publications([first]);
    if (full === undefined) throw new Error('one publication');
    const changed = { ...full, heads: [head('organization-test-a', 9), ...full.heads.slice(1)] };
    expect(refusal(() => publishedExpectations([changed]))).toBe('publication 1: its digest is not the digest of its heads; the copy was changed.');
  });

  it('refuses changes without the publications before them, or with one missing between', () => {
    const [, second_, third_] = publications([first, second, third]);
    if (second_ === undefined || third_ === undefined) throw new Error('three publications');
    expect(refusal(() => publishedExpectations([second_]))).toContain('publication 2 lists only the heads that changed since the publication of digest');
    const [full] = publications([first]);
    expect(refusal(() => publishedExpectations([full as Publication & { where: string }, third_]))).toContain('a publication between them is missing');
  });

  it('refuses changes whose digest is not that of the heads published up to them: a copy changed, or a chain gone from the database', () => {
    const series = publications([first, second]);
    const tampered = series.map((publication, index) => (index === 1 ? { ...publication, heads: [head('organization-test-a', 6)] } : publication));
    expect(refusal(() => publishedExpectations(tampered))).toContain('its digest is not the digest of the heads published up to it');
    // organization-test-b deleted in the database before the second publication: its digest leaves it out.
    const gone = publications([first, second.filter((entry) => entry.chainId !== 'organization-test-b')]);
    expect(refusal(() => publishedExpectations(gone))).toContain('a chain published before was gone or cut back');
    expect(publishedExpectations(gone.slice(0, 1))).toContainEqual(head('organization-test-b', 1));
  });

  it('keeps a chain a later full list leaves out, and the furthest seq of a chain published cut back', () => {
    const cut = [head('organization-test-a', 2), head('project', 2)];
    const expectations = publishedExpectations([...publications([first]), ...publications([cut]).map((publication) => ({ ...publication, where: 'later' }))]);
    expect(expectations).toEqual([head('organization-test-a', 3), head('organization-test-b', 1), head('project', 2)]);
    // Changes that move a chain back (the database cut it, the publisher saw the head go back): the furthest still counts.
    const back = publications([first, [head('organization-test-a', 2), head('organization-test-b', 1), head('project', 2)]]);
    expect(publishedExpectations(back)).toContainEqual(head('organization-test-a', 3));
  });
});
