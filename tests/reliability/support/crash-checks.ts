import { type Call, type Ledger, type Outcome, REDEEM_PATH, recordRedemption } from './crash-workload.js';

/**
 * What must hold after the crash-safety workload's server was killed and started again: first
 * through the API (everything acknowledged is there), then in the database itself (nothing is
 * half-written, single-use tokens stayed single-use). Each check returns problems as text.
 */

function describe(outcome: Outcome): string {
  return outcome.kind === 'lost' ? `no answer (${outcome.error})` : `${outcome.status} ${JSON.stringify(outcome.body)}`;
}

type Answer = Extract<Outcome, { kind: 'answered' }>;

/** A plain boolean, not a type guard: a guard would wrongly narrow `outcome` to `lost` when it is false. */
function isAnswer(outcome: Outcome, status: number, errorType?: string): boolean {
  return outcome.kind === 'answered' && outcome.status === status && (errorType === undefined || outcome.body.error_type === errorType);
}

async function inBatches<T>(items: readonly T[], check: (item: T) => Promise<void>): Promise<void> {
  for (let start = 0; start < items.length; start += 16) await Promise.all(items.slice(start, start + 16).map(check));
}

/** After a restart: acknowledged writes are all visible, and unknown outcomes are settled one way. */
export async function verifyAcknowledged(call: Call, ledger: Ledger): Promise<string[]> {
  const problems: string[] = [];
  await inBatches(ledger.organizations, async (id) => {
    const outcome = await call('GET', `/v1/b2b/organizations/${id}`);
    if (!isAnswer(outcome, 200)) problems.push(`acknowledged organization ${id} is gone: ${describe(outcome)}`);
  });
  await inBatches(ledger.members, async ({ memberId, organizationId }) => {
    const outcome = await call('GET', `/v1/b2b/organizations/${organizationId}/member?member_id=${memberId}`);
    if (!isAnswer(outcome, 200)) problems.push(`acknowledged member ${memberId} is gone: ${describe(outcome)}`);
  });
  await inBatches([...ledger.sessions.values()], async (session) => {
    const outcome = await call('POST', '/v1/b2b/sessions/authenticate', { session_token: session.sessionToken });
    const isLive = isAnswer(outcome, 200) && ((outcome as Answer).body.member_session as { member_session_id?: string }).member_session_id === session.memberSessionId;
    const isRevoked = isAnswer(outcome, 404, 'session_not_found');
    if (session.revocation === 'unknown' && (isLive || isRevoked)) session.revocation = isLive ? 'none' : 'acknowledged';
    else if (session.revocation === 'none' && !isLive) problems.push(`session ${session.memberSessionId} (redemption acknowledged, never revoked) does not authenticate: ${describe(outcome)}`);
    else if (session.revocation === 'acknowledged' && !isRevoked) problems.push(`session ${session.memberSessionId} (revocation acknowledged) is not revoked: ${describe(outcome)}`);
    else if (session.revocation === 'unknown') problems.push(`session ${session.memberSessionId}: ${describe(outcome)}`);
  });
  await inBatches([...ledger.redemptions.entries()], async ([token, redemption]) => {
    if (redemption.state === 'consumed_unacknowledged' || (redemption.state === 'acknowledged' && redemption.checkedAfterRestart)) return;
    const outcome = await call('POST', REDEEM_PATH, { impersonation_token: token });
    const isRefused = isAnswer(outcome, 401, 'unable_to_auth_impersonation_token');
    if (redemption.state === 'acknowledged') {
      if (!isRefused) problems.push(`token ${token.slice(0, 12)}… redeemed (acknowledged) before the crash, redeemed again after it: ${describe(outcome)}`);
      redemption.checkedAfterRestart = true;
    } else if (isRefused) ledger.redemptions.set(token, { state: 'consumed_unacknowledged' });
    else if (isAnswer(outcome, 200)) recordRedemption(ledger, token, (outcome as Answer).body);
    else problems.push(`token ${token.slice(0, 12)}… (redemption cut off by the crash): ${describe(outcome)}`);
  });
  return problems;
}

/** Acknowledged mints never redeemed by the workload must still redeem, once. */
export async function redeemLeftoverTokens(call: Call, ledger: Ledger): Promise<string[]> {
  const problems: string[] = [];
  await inBatches([...ledger.minted.keys()], async (token) => {
    ledger.minted.delete(token);
    const outcome = await call('POST', REDEEM_PATH, { impersonation_token: token });
    if (isAnswer(outcome, 200)) recordRedemption(ledger, token, (outcome as Answer).body);
    else problems.push(`token ${token.slice(0, 12)}… (mint acknowledged, never redeemed) does not redeem: ${describe(outcome)}`);
  });
  return problems;
}

export type Query = (sql: string) => Promise<Record<string, unknown>[]>;

/** `actual` holds each of `expected` exactly once and nothing else. */
function sameOnce(what: string, expected: Iterable<string>, actual: readonly string[]): string[] {
  const counts = new Map<string, number>();
  for (const id of actual) counts.set(id, (counts.get(id) ?? 0) + 1);
  const wanted = new Set(expected);
  const problems: string[] = [];
  for (const id of wanted) if ((counts.get(id) ?? 0) !== 1) problems.push(`${what}: ${id} appears ${counts.get(id) ?? 0} times, expected once`);
  for (const id of counts.keys()) if (!wanted.has(id)) problems.push(`${what}: ${id} has no counterpart`);
  return problems;
}

const text = (value: unknown): string => String(value);

/** Reads the tables directly: referential completeness, audit/state agreement, single use, and the ledger. */
export async function checkDatabase(query: Query, ledger: Ledger): Promise<{ problems: string[]; counts: Record<string, number> }> {
  const organizations = new Set((await query('SELECT organization_id FROM organizations')).map((row) => text(row.organization_id)));
  const members = await query('SELECT member_id, organization_id FROM members');
  const sessions = await query('SELECT member_session_id, member_id, organization_id, revoked_at FROM sessions');
  const tokens = await query('SELECT token_id, token_lookup_id, redeemed_at, member_session_id FROM impersonation_tokens');
  const ledgerRows = await query('SELECT member_session_id, token_id, ended_at, end_reason FROM impersonated_sessions');
  const events = (await query('SELECT type, organization_id, member_id, details FROM audit_events')).map((row) => ({
    type: text(row.type),
    organizationId: text(row.organization_id),
    memberId: text(row.member_id),
    details: JSON.parse(text(row.details)) as Record<string, unknown>,
  }));
  const eventIds = (type: string, pick: (event: (typeof events)[number]) => unknown): string[] =>
    events.filter((event) => event.type === type).flatMap((event) => [pick(event)].flat().map(text));
  const memberIds = new Set(members.map((row) => text(row.member_id)));
  const sessionIds = new Set(sessions.map((row) => text(row.member_session_id)));
  const tokenById = new Map(tokens.map((row) => [text(row.token_id), row]));
  const tokenByLookup = new Map(tokens.map((row) => [text(row.token_lookup_id), row]));
  const revokedSessionIds = sessions.filter((row) => row.revoked_at !== null).map((row) => text(row.member_session_id));
  const problems: string[] = [];

  for (const row of members) if (!organizations.has(text(row.organization_id))) problems.push(`member ${text(row.member_id)} has no organization`);
  for (const row of sessions) if (!memberIds.has(text(row.member_id)) || !organizations.has(text(row.organization_id))) problems.push(`session ${text(row.member_session_id)} has no member or organization`);
  for (const row of ledgerRows) {
    const id = text(row.member_session_id);
    if (!sessionIds.has(id)) problems.push(`impersonated-session ledger row ${id} has no session`);
    const token = tokenById.get(text(row.token_id));
    if (token === undefined || text(token.member_session_id) !== id) problems.push(`ledger row ${id}: its token does not name it as its one session`);
    if ((row.ended_at === null) !== (row.end_reason === null) || (row.ended_at !== null && row.end_reason !== 'revoked')) problems.push(`ledger row ${id}: ended_at/end_reason disagree`);
  }
  for (const row of tokens) {
    if ((row.redeemed_at === null) !== (row.member_session_id === null)) problems.push(`token ${text(row.token_id)} is half redeemed`);
  }
  // Every session of this workload comes from a redemption: one ledger row, one token, one of each event.
  problems.push(...sameOnce('sessions vs impersonated-session ledger', sessionIds, ledgerRows.map((row) => text(row.member_session_id))));
  problems.push(...sameOnce('redeemed tokens vs sessions (one session per token)', sessionIds, tokens.filter((row) => row.member_session_id !== null).map((row) => text(row.member_session_id))));
  problems.push(...sameOnce('impersonation.token_redeemed events vs sessions', sessionIds, eventIds('impersonation.token_redeemed', (event) => event.details.member_session_id)));
  problems.push(...sameOnce('session.started events vs sessions', sessionIds, eventIds('session.started', (event) => event.details.member_session_id)));
  problems.push(...sameOnce('organization.created events vs organizations', organizations, eventIds('organization.created', (event) => event.organizationId)));
  problems.push(...sameOnce('member.created events vs members', memberIds, eventIds('member.created', (event) => event.memberId)));
  problems.push(...sameOnce('impersonation.token_minted events vs tokens', tokenById.keys(), eventIds('impersonation.token_minted', (event) => event.details.token_id)));
  problems.push(...sameOnce('session.revoked events vs revoked sessions', revokedSessionIds, eventIds('session.revoked', (event) => event.details.member_session_ids)));
  problems.push(...sameOnce('impersonation.session_revoked events vs revoked sessions', revokedSessionIds, eventIds('impersonation.session_revoked', (event) => event.details.member_session_id)));
  problems.push(...sameOnce('ended ledger rows vs revoked sessions', revokedSessionIds, ledgerRows.filter((row) => row.ended_at !== null).map((row) => text(row.member_session_id))));

  for (const id of ledger.organizations) if (!organizations.has(id)) problems.push(`acknowledged organization ${id} is not stored`);
  for (const { memberId } of ledger.members) if (!memberIds.has(memberId)) problems.push(`acknowledged member ${memberId} is not stored`);
  for (const [token, redemption] of ledger.redemptions) {
    const row = tokenByLookup.get(token.slice(0, 12));
    if (redemption.state === 'acknowledged' && (row === undefined || text(row.member_session_id) !== redemption.memberSessionId)) problems.push(`token ${token.slice(0, 12)}… does not name its acknowledged session`);
    if (redemption.state === 'consumed_unacknowledged' && (row === undefined || row.member_session_id === null)) problems.push(`token ${token.slice(0, 12)}… refused as used, but has no session`);
    if (redemption.state === 'unknown') problems.push(`token ${token.slice(0, 12)}… was never settled`);
  }
  for (const session of ledger.sessions.values()) {
    const isRevoked = revokedSessionIds.includes(session.memberSessionId);
    if (session.revocation === 'acknowledged' && !isRevoked) problems.push(`acknowledged revocation of ${session.memberSessionId} is not stored`);
    if (session.revocation === 'none' && (isRevoked || !sessionIds.has(session.memberSessionId))) problems.push(`live session ${session.memberSessionId} is not stored as live`);
  }
  const counts = { organizations: organizations.size, members: members.length, tokens: tokens.length, sessions: sessions.length, revoked: revokedSessionIds.length, events: events.length };
  return { problems, counts };
}
