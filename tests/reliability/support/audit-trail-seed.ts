import type { Kysely } from 'kysely';
import { toTimestamp } from '../../../src/platform/clock.js';
import { IdGenerator } from '../../../src/platform/ids.js';
import { cryptoRandom } from '../../../src/platform/random.js';
import type { AuditEventRow, Database } from '../../../src/storage/database.js';

/**
 * Writes a long audit trail straight into the database, as the bench seeds its tables: multi-row
 * INSERTs inside transactions, rows shaped exactly as AuditSqlStore writes them (time-ordered ids,
 * JSON actor and details). Most rows are refused redemptions with a reason and a browser user agent,
 * about 700 bytes each once exported; every `otherEvery`-th row is a non-impersonation event, which
 * the impersonation trail must leave out.
 */
export interface SeedAuditTrailOptions {
  readonly dialect: 'sqlite' | 'postgres';
  readonly projectId: string;
  readonly count: number;
  /** When the first event happened; each next one `stepMs` later. */
  readonly start: string;
  readonly stepMs: number;
  readonly organizationId: string;
  readonly memberId: string;
  readonly impersonatorId: string;
  /** Every n-th row is a `member.updated` event (0: none). */
  readonly otherEvery?: number;
}

export interface SeededTrail {
  /** Rows whose type starts with `impersonation.`. */
  readonly impersonationEvents: number;
  /** Time of the i-th row (0-based). */
  occurredAt(index: number): string;
  /** Whether the i-th row is an impersonation event. */
  isImpersonation(index: number): boolean;
}

/** Bound parameters per statement: SQLite allows 32,766, PostgreSQL 65,535. */
const PARAMETER_LIMIT = { sqlite: 32_000, postgres: 65_000 };
const STATEMENTS_PER_TRANSACTION = 8;
const USER_AGENT = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15';
const REASON = 'Customer reported that the billing page shows the wrong seat count after the plan change; reproducing ticket 48213.';

/** Written behind the store's back, so in no audit chain: the chain columns (0019) stay null. */
type SeededRow = Omit<AuditEventRow, 'chain_id' | 'chain_seq' | 'prev_hash' | 'hash'>;

export async function seedAuditTrail(db: Kysely<Database>, options: SeedAuditTrailOptions): Promise<SeededTrail> {
  const ids = new IdGenerator(cryptoRandom, 'test');
  const startMs = Date.parse(options.start);
  const otherEvery = options.otherEvery ?? 0;
  const isImpersonation = (index: number): boolean => otherEvery === 0 || index % otherEvery !== otherEvery - 1;
  const occurredAt = (index: number): string => toTimestamp(new Date(startMs + index * options.stepMs));
  const actor = JSON.stringify({ type: 'project', projectId: options.projectId });
  const row = (index: number): SeededRow => {
    const at = new Date(startMs + index * options.stepMs);
    const impersonation = isImpersonation(index);
    return {
      event_id: ids.nextTimeOrdered('audit-event', at),
      type: impersonation ? 'impersonation.redemption_refused' : 'member.updated',
      occurred_at: toTimestamp(at),
      request_id: ids.next('request-id'),
      actor,
      organization_id: options.organizationId,
      member_id: options.memberId,
      impersonator_id: impersonation ? options.impersonatorId : null,
      client_ip: `203.0.113.${index % 250}`,
      user_agent: USER_AGENT,
      details: JSON.stringify(
        impersonation
          ? { why: 'already_used', token_id: ids.next('impersonation-token'), reason: REASON, error_type: 'unable_to_auth_impersonation_token' }
          : { name: `Member ${index}` },
      ),
    };
  };
  const perStatement = Math.floor(PARAMETER_LIMIT[options.dialect] / 11);
  let written = 0;
  while (written < options.count) {
    await db.transaction().execute(async (trx) => {
      for (let statement = 0; statement < STATEMENTS_PER_TRANSACTION && written < options.count; statement += 1) {
        const size = Math.min(perStatement, options.count - written);
        const rows: SeededRow[] = new Array(size);
        for (let offset = 0; offset < size; offset += 1) rows[offset] = row(written + offset);
        written += size;
        await trx.insertInto('audit_events').values(rows).execute();
      }
    });
  }
  let impersonationEvents = 0;
  for (let index = 0; index < options.count; index += 1) if (isImpersonation(index)) impersonationEvents += 1;
  return { impersonationEvents, occurredAt, isImpersonation };
}
