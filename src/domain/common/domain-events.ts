import type { ImpersonationEndCause } from '../impersonation/impersonation.js';
import type { OperationContext } from './operation-context.js';

/**
 * What one capability tells the others when it changes something they depend on. Published inside
 * the transaction that made the change, so every reaction commits or rolls back with it.
 */
export type DomainEvent =
  /** A member was deleted: its sessions end and its unredeemed impersonation tokens die. */
  | { readonly type: 'member.deleted'; readonly organizationId: string; readonly memberId: string }
  /** A member's email address changed: tokens minted for the old address die; sessions end unless kept. */
  | { readonly type: 'member.email_changed'; readonly organizationId: string; readonly memberId: string; readonly preserveSessions: boolean }
  /** An organization was deleted: every session and impersonation in it ends. */
  | { readonly type: 'organization.deleted'; readonly organizationId: string }
  /** A console operator was disabled: whatever they are impersonating ends with their console sessions. */
  | { readonly type: 'operator.disabled'; readonly operatorId: string; readonly emailAddress: string }
  /** A console operator's password was reset (it may have been compromised): as for `operator.disabled`. */
  | { readonly type: 'operator.password_reset'; readonly operatorId: string; readonly emailAddress: string }
  /** A console operator's TOTP was reset by an admin (lost or exposed authenticator): as for `operator.disabled`. */
  | { readonly type: 'operator.totp_reset'; readonly operatorId: string; readonly emailAddress: string }
  /**
   * Member sessions were revoked (by sessions.revoke or because of one of the events above). `why` is
   * the cause when something else caused it (an operator disabled, an organization deleted).
   */
  | { readonly type: 'member_sessions.revoked'; readonly memberSessionIds: readonly string[]; readonly at: string; readonly why?: ImpersonationEndCause };

export type DomainEventType = DomainEvent['type'];
export type DomainEventOf<Type extends DomainEventType> = Extract<DomainEvent, { type: Type }>;

/** Reacts to one event inside the publisher's transaction; `Tx` is the transaction's storage ports. */
export type DomainEventHandler<Tx, Type extends DomainEventType> = (tx: Tx, context: OperationContext, event: DomainEventOf<Type>) => Promise<void>;

/** What a capability that publishes needs of the bus. */
export type DomainEventPublisher<Tx> = Pick<DomainEvents<Tx>, 'publish'>;

/**
 * The in-process event bus. Handlers run one after another, in the order they subscribed, inside the
 * publisher's transaction: that order is part of the lock order (read-for-update.ts), so it is set
 * once, in src/services.ts, where the capabilities are wired.
 */
export class DomainEvents<Tx> {
  /** Each list holds handlers of the event type it is keyed by; publish only passes them that type. */
  readonly #handlers = new Map<DomainEventType, ((tx: Tx, context: OperationContext, event: DomainEvent) => Promise<void>)[]>();

  subscribe<Type extends DomainEventType>(type: Type, handler: DomainEventHandler<Tx, Type>): void {
    const list = this.#handlers.get(type) ?? [];
    list.push((tx, context, event) => handler(tx, context, event as DomainEventOf<Type>));
    this.#handlers.set(type, list);
  }

  async publish(tx: Tx, context: OperationContext, event: DomainEvent): Promise<void> {
    for (const handler of this.#handlers.get(event.type) ?? []) await handler(tx, context, event);
  }
}
