import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chainHash, type ChainedAuditRecord } from '../../../src/domain/audit/audit-chain.js';
import { executeSql, sqlText } from '../../support/database-access.js';
import { expectErrorResponse } from '../../support/impersonation.js';
import { startTestSession } from '../../support/sessions.js';
import { STORES } from '../../support/stores.js';
import { startTestServer, type TestServer } from '../../support/test-server.js';
import { killLeftoverProcesses } from '../cli/cli-process.js';
import { auditCli, chainRows, organizationWithMints, querySql } from './chain-support.js';


const CHAIN = '/v1/b2b/impersonation/audit/chain';
const VERIFY = '/v1/b2b/impersonation/audit/chain/verify';

interface Broken {
  readonly chain_id: string;
  readonly seq: number | null;
  readonly event_id: string | null;
  readonly problem: string;
}

/** Rewrites a chain from `fromSeq` on with every hash recomputed and the head moved, as a database owner could: the chain stays consistent. */
async function rewriteHistory(server: TestServer, chainId: string, fromSeq: number): Promise<void> {
  const rows = await querySql<Record<string, string | number | null>>(server, `select * from audit_events where chain_id = ${sqlText(chainId)} order by chain_seq`);
  let previous = '';
  const statements: string[] = [];
  for (const row of rows) {
    const seq = Number(row.chain_seq);
    const record: Omit<ChainedAuditRecord, 'hash'> = {
      chainId,
      seq,
      prevHash: seq <= fromSeq ? String(row.prev_hash) : previous,
      eventId: String(row.event_id),
      type: String(row.type),
      occurredAt: String(row.occurred_at),
      requestId: String(row.request_id),
      actorJson: String(row.actor),
      organizationId: row.organization_id as string | null,
      memberId: row.member_id as string | null,
      impersonatorId: row.impersonator_id as string | null,
      clientIp: row.client_ip as string | null,
      userAgent: row.user_agent as string | null,
      detailsJson: seq === fromSeq ? JSON.stringify({ reason: 'Nothing happened here' }) : String(row.details),
    };
    const hash = seq < fromSeq ? String(row.hash) : chainHash(record);
    if (seq >= fromSeq) {
      statements.push(`update audit_events set details = ${sqlText(record.detailsJson)}, prev_hash = ${sqlText(record.prevHash)}, hash = ${sqlText(hash)} where event_id = ${sqlText(record.eventId)};`);
    }
    previous = hash;
  }
  statements.push(`update audit_chain_heads set hash = ${sqlText(previous)} where chain_id = ${sqlText(chainId)};`);
  await executeSql(server, statements.join('\n'));
}

describe.each(STORES.map((factory) => factory.name))('tampering with the audit chains in the database (%s)', (store) => {
  let server: TestServer;
  /** One organization per kind of tampering, so each chain has exactly one broken record. */
  const organizations: Record<'edited' | 'deleted' | 'swapped' | 'rewritten' | 'cut' | 'erased', string> = { edited: '', deleted: '', swapped: '', rewritten: '', cut: '', erased: '' };
  /** `understudy audit heads --json` before anything was touched: the copy an outsider would keep. */
  let publishedHeads: { chain_id: string; seq: number; hash: string }[] = [];
  /** The same, as a file for --published. */
  let headsFile = '';
  const directory = mkdtempSync(join(tmpdir(), 'understudy-published-'));

  beforeAll(async () => {
    server = await startTestServer({ store });
    for (const kind of Object.keys(organizations) as (keyof typeof organizations)[]) organizations[kind] = (await organizationWithMints(server, 4)).organizationId;
  });
  afterAll(async () => {
    killLeftoverProcesses();
    await server?.stop();
    rmSync(directory, { recursive: true, force: true });
  });

  it('answers the heads and a valid verification over the API and the CLI while nothing was touched', async () => {
    const heads = await server.fetch(CHAIN);
    expect(heads.status, JSON.stringify(heads.body)).toBe(200);
    const listed = heads.body.heads as { chain_id: string; seq: number; hash: string; updated_at: string }[];
    for (const organizationId of Object.values(organizations)) {
      const rows = await chainRows(server, organizationId);
      expect(listed.find((head) => head.chain_id === organizationId)).toEqual({ chain_id: organizationId, seq: 4, hash: rows[3]?.hash, updated_at: expect.any(String) });
    }
    expect(heads.body.digest).toMatch(/^[0-9a-f]{64}$/);

    const verified = await server.fetch(VERIFY, { method: 'POST' });
    expect(verified.status, JSON.stringify(verified.body)).toBe(200);
    expect(verified.body).toMatchObject({ valid: true, checked_records: 24, broken: null });

    const [cli, cliHeads] = await Promise.all([auditCli(server, ['verify', '--json']), auditCli(server, ['heads', '--json'])]);
    expect(cli.code, cli.stderr).toBe(0);
    expect(JSON.parse(cli.stdout)).toMatchObject({ valid: true, checked_records: 24, broken: null, problems: [] });
    expect(cliHeads.code, cliHeads.stderr).toBe(0);
    expect(JSON.parse(cliHeads.stdout)).toEqual({ heads: listed, digest: heads.body.digest });
    publishedHeads = listed;
    headsFile = join(directory, 'heads.json');
    writeFileSync(headsFile, cliHeads.stdout);
    const asPublished = await auditCli(server, ['verify', '--published', headsFile]);
    expect(asPublished.code, asPublished.stderr).toBe(0);
  }, 60_000);

  it('refuses member-session headers on both operations, and an unknown chain', async () => {
    const { member } = await organizationWithMints(server, 0);
    const session = await startTestSession(server, { organizationId: member.organization_id, memberId: member.member_id });
    const headers = { 'x-stytch-member-session': session.sessionToken };
    const heads = await server.fetch(CHAIN, { headers });
    const verify = await server.fetch(VERIFY, { method: 'POST', json: {}, headers });
    // Neither operation takes a member's rights: the headers are refused, not ignored.
    for (const refused of [heads, verify]) expectErrorResponse(refused, 403, 'unauthorized_action');
    expectErrorResponse(await server.fetch(VERIFY, { method: 'POST', json: { chain_id: 'organization-test-nobody' } }), 404, 'audit_chain_not_found');
    expectErrorResponse(await server.fetch(VERIFY, { method: 'POST', json: { expect: [{ chain_id: 'project', seq: 0, hash: 'x' }] } }), 400, 'bad_request');
  });

  it('names the one broken record of each chain after an edit, a deletion and a swap through SQL, and the CLI exits 1', async () => {
    const edited = (await chainRows(server, organizations.edited))[1];
    const deleted = await chainRows(server, organizations.deleted);
    const swapped = await chainRows(server, organizations.swapped);
    const [third, fourth] = [swapped[2], swapped[3]];
    if (edited === undefined || third === undefined || fourth === undefined) throw new Error('the chains have four records each');
    await executeSql(server, `update audit_events set details = '{"reason":"Nothing to see"}' where event_id = ${sqlText(edited.event_id)}`);
    await executeSql(server, `delete from audit_events where event_id = ${sqlText(deleted[1]?.event_id ?? '')}`);
    // Three steps: the unique (chain_id, chain_seq) index is checked row by row.
    await executeSql(
      server,
      [
        `update audit_events set chain_seq = -1 where event_id = ${sqlText(third.event_id)};`,
        `update audit_events set chain_seq = 3 where event_id = ${sqlText(fourth.event_id)};`,
        `update audit_events set chain_seq = 4 where event_id = ${sqlText(third.event_id)};`,
      ].join('\n'),
    );

    const expected: Record<string, Broken> = {
      [organizations.edited]: { chain_id: organizations.edited, seq: 2, event_id: edited.event_id, problem: 'edited' },
      [organizations.deleted]: { chain_id: organizations.deleted, seq: 3, event_id: deleted[2]?.event_id ?? '', problem: 'missing_record_before' },
      [organizations.swapped]: { chain_id: organizations.swapped, seq: 3, event_id: fourth.event_id, problem: 'out_of_order' },
    };
    const run = await auditCli(server, ['verify', '--json']);
    expect(run.code, run.stderr).toBe(1);
    const outcome = JSON.parse(run.stdout) as { valid: boolean; broken: Broken; problems: Broken[] };
    expect(outcome.valid).toBe(false);
    expect(outcome.problems).toHaveLength(3);
    expect(outcome.problems).toEqual(expect.arrayContaining(Object.values(expected)));
    expect(run.stderr).toContain(`understudy: audit chain broken: chain ${organizations.edited}, seq 2 (event ${edited.event_id}): its content no longer matches its hash`);
    expect(run.stderr).toContain(`chain ${organizations.deleted}, seq 3 (event ${deleted[2]?.event_id}): it is not the next record of the chain: a record before it is missing`);
    expect(run.stderr).toContain(`chain ${organizations.swapped}, seq 3 (event ${fourth.event_id}): it does not link to the record before it`);

    const api = await server.fetch(VERIFY, { method: 'POST', json: {} });
    expect(api.status).toBe(200);
    expect(api.body.valid).toBe(false);
    expect(Object.values(expected)).toContainEqual(api.body.broken);
  });

  it('passes a chain cut back with its head moved, and a chain deleted with its head; heads published before and kept outside show both', async () => {
    const cut = await chainRows(server, organizations.cut);
    const second = cut[1];
    if (second === undefined) throw new Error('the chain has four records');
    // The last two records deleted and the head moved onto the new last one; another chain deleted outright.
    await executeSql(
      server,
      [
        `delete from audit_events where chain_id = ${sqlText(organizations.cut)} and chain_seq > 2;`,
        `update audit_chain_heads set seq = 2, hash = ${sqlText(second.hash)} where chain_id = ${sqlText(organizations.cut)};`,
        `delete from audit_events where chain_id = ${sqlText(organizations.erased)};`,
        `delete from audit_chain_heads where chain_id = ${sqlText(organizations.erased)};`,
      ].join('\n'),
    );
    // On their own, neither leaves a trace the chains can show.
    const cutAlone = await server.fetch(VERIFY, { method: 'POST', json: { chain_id: organizations.cut } });
    expect(cutAlone.body).toMatchObject({ valid: true, checked_records: 2, broken: null });
    expectErrorResponse(await server.fetch(VERIFY, { method: 'POST', json: { chain_id: organizations.erased } }), 404, 'audit_chain_not_found');

    const everything = await auditCli(server, ['verify', '--published', headsFile, '--json']);
    expect(everything.code, everything.stderr).toBe(1);
    const problems = (JSON.parse(everything.stdout) as { problems: Broken[] }).problems;
    expect(problems).toEqual(expect.arrayContaining([organizations.cut, organizations.erased].map((chainId) => ({ chain_id: chainId, seq: 4, event_id: null, problem: 'not_as_published' }))));
    expect(everything.stderr).toContain(`understudy: audit chain broken: chain ${organizations.cut}, seq 4: the record at this seq is not the one whose hash was published, or there is none`);
    expect(everything.stderr).toContain(`understudy: audit chain broken: chain ${organizations.erased}, seq 4: the record at this seq is not the one whose hash was published, or there is none`);

    // The same over HTTP, with the heads list in the body.
    const copy = JSON.parse(readFileSync(headsFile, 'utf8')) as { heads: { chain_id: string }[]; digest: string };
    const api = await server.fetch(VERIFY, { method: 'POST', json: { chain_id: organizations.erased, published: copy } });
    expect(api.status, JSON.stringify(api.body)).toBe(200);
    expect(api.body).toMatchObject({ valid: false, broken: { chain_id: organizations.erased, seq: 4, event_id: null, problem: 'not_as_published' } });
    const forgedCopy = { ...copy, heads: copy.heads.filter((head) => head.chain_id !== organizations.erased) };
    const forgedAnswer = await server.fetch(VERIFY, { method: 'POST', json: { published: forgedCopy } });
    expectErrorResponse(forgedAnswer, 400, 'bad_request');
    expect(forgedAnswer.body.error_message).toBe('published: its digest is not the digest of its heads; the copy was changed.');

    // A copy whose heads were trimmed (the erased chain taken out of it) does not add up to its digest: refused, exit 2.
    const trimmed = join(directory, 'trimmed.json');
    writeFileSync(trimmed, JSON.stringify(forgedCopy));
    const refused = await auditCli(server, ['verify', '--published', trimmed]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`--published ${trimmed}: its digest is not the digest of its heads; the copy was changed.`);
  }, 60_000);

  it('a head published before history was rewritten and rehashed fails --expect, though the chain itself is consistent', async () => {
    const published = publishedHeads.find((head) => head.chain_id === organizations.rewritten);
    if (published === undefined) throw new Error('the rewritten organization has a chain');
    const expectation = `${published.chain_id}:${published.seq}:${published.hash}`;

    await rewriteHistory(server, organizations.rewritten, 2);
    const [consistent, proved, malformed] = await Promise.all([
      auditCli(server, ['verify', '--organization', organizations.rewritten]),
      auditCli(server, ['verify', '--organization', organizations.rewritten, '--expect', expectation]),
      auditCli(server, ['verify', '--expect', `${organizations.rewritten}:4:not-a-hash`]),
    ]);
    expect(consistent.code, consistent.stderr).toBe(0);
    expect(consistent.stdout).toContain('valid: 1 chain, 4 records checked');
    expect(proved.code, proved.stdout).toBe(1);
    expect(proved.stdout).toContain('INVALID: 1 problem (1 chain, 4 records checked)');
    const fourth = (await chainRows(server, organizations.rewritten))[3];
    expect(proved.stderr).toContain(
      `understudy: audit chain broken: chain ${organizations.rewritten}, seq 4 (event ${fourth?.event_id}): the record at this seq is not the one whose hash was published, or there is none: the history was rewritten, cut back or deleted`,
    );
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toContain('is not <chain>:<seq>:<hash>');
  });
});
