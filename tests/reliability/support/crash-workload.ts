import type { SeededRandom } from './seeded-random.js';

/**
 * The write-heavy workload of the crash-safety test, and the ledger of what the server acknowledged
 * (answered 200 with a complete JSON body). A request that got no complete answer (the server was
 * killed under it) has an unknown outcome: it may or may not have been applied, but never half.
 */
export type Outcome = { readonly kind: 'answered'; readonly status: number; readonly body: Record<string, unknown> } | { readonly kind: 'lost'; readonly error: string };

export type Call = (method: 'GET' | 'POST', path: string, json?: unknown) => Promise<Outcome>;

/** Raw HTTP with the project's Basic credentials; a request the server never fully answered is `lost`. */
export function httpCaller(baseUrl: string, credentials: { projectId: string; secret: string }): Call {
  const authorization = `Basic ${Buffer.from(`${credentials.projectId}:${credentials.secret}`).toString('base64')}`;
  return async (method, path, json) => {
    try {
      const response = await fetch(`${baseUrl}${path}`, {
        method,
        headers: { authorization, ...(json !== undefined && { 'content-type': 'application/json' }) },
        ...(json !== undefined && { body: JSON.stringify(json) }),
        signal: AbortSignal.timeout(15_000),
      });
      return { kind: 'answered', status: response.status, body: JSON.parse(await response.text()) as Record<string, unknown> };
    } catch (error) {
      return { kind: 'lost', error: String((error as { cause?: unknown }).cause ?? error) };
    }
  };
}

export type RevocationState = 'none' | 'unknown' | 'acknowledged';

export interface LedgerSession {
  readonly memberSessionId: string;
  readonly sessionToken: string;
  revocation: RevocationState;
}

export type Redemption =
  /** Answered 200: the token made exactly this session. */
  | { state: 'acknowledged'; memberSessionId: string; checkedAfterRestart: boolean }
  /** No answer before the kill: it may or may not have consumed the token. */
  | { state: 'unknown' }
  /** Found consumed after a restart although its redemption was never acknowledged. */
  | { state: 'consumed_unacknowledged' };

export interface Ledger {
  readonly organizations: string[];
  readonly members: { memberId: string; organizationId: string }[];
  /** Acknowledged mints not redeemed yet, by token. */
  readonly minted: Map<string, { memberId: string; organizationId: string }>;
  readonly redemptions: Map<string, Redemption>;
  readonly sessions: Map<string, LedgerSession>;
  /** Answers the workload did not expect (anything but 200, or a wrong session state). */
  readonly unexpected: string[];
  requests: number;
  lost: number;
  counter: number;
}

export function emptyLedger(): Ledger {
  return { organizations: [], members: [], minted: new Map(), redemptions: new Map(), sessions: new Map(), unexpected: [], requests: 0, lost: 0, counter: 0 };
}

export const REDEEM_PATH = '/v1/b2b/impersonation/authenticate';

/** Records a successful redemption answer in the ledger. */
export function recordRedemption(ledger: Ledger, token: string, body: Record<string, unknown>): void {
  const memberSessionId = (body.member_session as { member_session_id: string }).member_session_id;
  ledger.redemptions.set(token, { state: 'acknowledged', memberSessionId, checkedAfterRestart: false });
  ledger.sessions.set(memberSessionId, { memberSessionId, sessionToken: body.session_token as string, revocation: 'none' });
}

/** One client: picks operations with `random` until `isStopped()`, recording acknowledgements. */
export async function runClient(call: Call, ledger: Ledger, random: SeededRandom, tag: string, isStopped: () => boolean): Promise<void> {
  while (!isStopped()) {
    const roll = random.next();
    if (ledger.organizations.length < 3 || roll < 0.12) await createOrganization(call, ledger, tag);
    else if (ledger.members.length < 3 || roll < 0.35) await createMember(call, ledger, random, tag);
    else if (roll < 0.55) await mint(call, ledger, random);
    else if (roll < 0.75) await redeem(call, ledger, random);
    else if (roll < 0.9) await revoke(call, ledger, random);
    else await authenticate(call, ledger, random);
  }
}

async function send(call: Call, ledger: Ledger, method: 'GET' | 'POST', path: string, json: unknown): Promise<Outcome> {
  ledger.requests += 1;
  const outcome = await call(method, path, json);
  if (outcome.kind === 'lost') ledger.lost += 1;
  return outcome;
}

function expectOk(ledger: Ledger, what: string, outcome: Outcome): Record<string, unknown> | undefined {
  if (outcome.kind === 'lost') return undefined;
  if (outcome.status === 200) return outcome.body;
  ledger.unexpected.push(`${what}: ${outcome.status} ${JSON.stringify(outcome.body)}`);
  return undefined;
}

async function createOrganization(call: Call, ledger: Ledger, tag: string): Promise<void> {
  ledger.counter += 1;
  const slug = `crash-${tag}-${ledger.counter}`;
  const body = expectOk(ledger, 'organizations.create', await send(call, ledger, 'POST', '/v1/b2b/organizations', { organization_name: `Crash ${slug}`, organization_slug: slug }));
  if (body !== undefined) ledger.organizations.push((body.organization as { organization_id: string }).organization_id);
}

async function createMember(call: Call, ledger: Ledger, random: SeededRandom, tag: string): Promise<void> {
  const organizationId = random.pick(ledger.organizations);
  if (organizationId === undefined) return;
  ledger.counter += 1;
  const path = `/v1/b2b/organizations/${organizationId}/members`;
  const body = expectOk(ledger, 'members.create', await send(call, ledger, 'POST', path, { email_address: `m-${tag}-${ledger.counter}@crash.example` }));
  if (body !== undefined) ledger.members.push({ memberId: (body.member as { member_id: string }).member_id, organizationId });
}

async function mint(call: Call, ledger: Ledger, random: SeededRandom): Promise<void> {
  const member = random.pick(ledger.members);
  if (member === undefined) return;
  const json = {
    organization_id: member.organizationId,
    member_id: member.memberId,
    impersonator_id: 'support-crash',
    impersonator_email_address: 'crash@support.example',
    reason: 'Crash-safety workload',
  };
  const body = expectOk(ledger, 'impersonation mint', await send(call, ledger, 'POST', '/v1/b2b/impersonation', json));
  if (body !== undefined) ledger.minted.set(body.impersonation_token as string, member);
}

async function redeem(call: Call, ledger: Ledger, random: SeededRandom): Promise<void> {
  const token = random.pick([...ledger.minted.keys()]);
  if (token === undefined) return;
  // Taken before the await, so no other client redeems it: any second redemption is the test's own.
  ledger.minted.delete(token);
  ledger.redemptions.set(token, { state: 'unknown' });
  const body = expectOk(ledger, 'impersonation.authenticate', await send(call, ledger, 'POST', REDEEM_PATH, { impersonation_token: token }));
  if (body !== undefined) recordRedemption(ledger, token, body);
}

async function revoke(call: Call, ledger: Ledger, random: SeededRandom): Promise<void> {
  const session = random.pick([...ledger.sessions.values()].filter((candidate) => candidate.revocation === 'none'));
  if (session === undefined) return;
  session.revocation = 'unknown';
  const body = expectOk(ledger, 'sessions.revoke', await send(call, ledger, 'POST', '/v1/b2b/sessions/revoke', { member_session_id: session.memberSessionId }));
  if (body !== undefined) session.revocation = 'acknowledged';
}

/** A read: a never-revoked session must authenticate, an acknowledged revocation must hold. */
async function authenticate(call: Call, ledger: Ledger, random: SeededRandom): Promise<void> {
  const session = random.pick([...ledger.sessions.values()].filter((candidate) => candidate.revocation !== 'unknown'));
  if (session === undefined) return;
  const expected = session.revocation;
  const outcome = await send(call, ledger, 'POST', '/v1/b2b/sessions/authenticate', { session_token: session.sessionToken });
  // A revocation started meanwhile by another client may land either side of this read.
  if (outcome.kind === 'lost' || session.revocation !== expected) return;
  const isRight = expected === 'none' ? outcome.status === 200 : outcome.status === 404 && outcome.body.error_type === 'session_not_found';
  if (!isRight) ledger.unexpected.push(`sessions.authenticate of a session with revocation ${expected}: ${outcome.status} ${JSON.stringify(outcome.body)}`);
}
