import type { Dispatcher } from 'undici';
import type { Config } from '../../../src/config/schema.js';
import type { AuditEvent, AuditEventType } from '../../../src/domain/audit/audit-event.js';
import type { OperatorRole } from '../../../src/domain/operators/operator.js';
import type { OperationContext } from '../../../src/domain/common/operation-context.js';
import { ManualClock } from '../../../src/platform/clock.js';
import type { StoreFactory } from '../../support/stores.js';
import { startTestServer, type TestServer } from '../../support/test-server.js';
import { ConsoleClient, type OperatorLogin } from './console-client.js';

/** Where every console suite's clock starts; the server reads time only from it. */
export const CONSOLE_START = '2026-03-02T09:00:00Z';

const CLI: OperationContext = { requestId: 'request-id-test-00000000-0000-4000-8000-0000000000c1', actor: { type: 'cli' } };

export interface CreatedOperator extends OperatorLogin {
  readonly operatorId: string;
  readonly role: OperatorRole;
}

export interface ConsoleHarness {
  readonly server: TestServer;
  readonly clock: ManualClock;
  /** A new operator, as `understudy operators create` makes one (admin and support get TOTP). */
  createOperator(role: OperatorRole, options?: { name?: string; withTotp?: boolean }): Promise<CreatedOperator>;
  /** A browser with no cookies yet. */
  browser(): ConsoleClient;
  /** A browser signed in (password and, when the operator has one, TOTP) as `operator`. */
  signedIn(operator: CreatedOperator): Promise<ConsoleClient>;
  /** Every audit event written so far, oldest first. */
  auditEvents(): Promise<AuditEvent[]>;
  /** The audit events of these types about this operator (details.operator_id), oldest first. */
  operatorEvents(operatorId: string, ...types: AuditEventType[]): Promise<AuditEvent[]>;
  stop(): Promise<void>;
}

let sequence = 0;

/** A real server (argon2id, fixed master key) on a manual clock, with helpers to make and sign in operators. */
export async function startConsoleHarness(
  options: { store?: StoreFactory['name']; https?: { cert: string; key: string }; dispatcher?: Dispatcher; config?: Partial<Config> } = {},
): Promise<ConsoleHarness> {
  const clock = new ManualClock(CONSOLE_START);
  const server = await startTestServer({ clock, ...options });
  const services = server.server.app.services;
  const browser = (): ConsoleClient => new ConsoleClient(server.baseUrl, options.dispatcher === undefined ? {} : { dispatcher: options.dispatcher });
  const auditEvents = async (): Promise<AuditEvent[]> => (await server.server.store.audit.listEvents({ organizationId: null, limit: 10_000 })).reverse();
  return {
    server,
    clock,
    async createOperator(role, createOptions = {}) {
      sequence += 1;
      const emailAddress = `${role}-${sequence}@operators.example`;
      const created = await services.operators.create(CLI, { emailAddress, name: createOptions.name ?? `${role} ${sequence}`, role, withTotp: createOptions.withTotp });
      return { operatorId: created.operator.operatorId, role, emailAddress, password: created.password, totpSecret: created.totpSecret };
    },
    browser,
    async signedIn(operator) {
      const client = browser();
      await client.signIn(operator, clock.now());
      return client;
    },
    auditEvents,
    async operatorEvents(operatorId, ...types) {
      return (await auditEvents()).filter((event) => types.includes(event.type) && event.details.operator_id === operatorId);
    },
    stop: () => server.stop(),
  };
}
