import type { AuditEvent } from './audit-event.js';

/**
 * Which events join a tamper-evident chain: the impersonation trail (every `impersonation.` event,
 * access grants included), operators' own events (`operator.`), webhook endpoint changes, and
 * everything an operator did in the console. One chain per organization, plus the project's chain
 * for events of no organization, so chaining never makes unrelated organizations wait for each other.
 */
export function isChainedEvent(event: Pick<AuditEvent, 'type' | 'actor'>): boolean {
  return event.type.startsWith('impersonation.') || event.type.startsWith('operator.') || event.type.startsWith('webhook.') || event.actor.type === 'operator';
}

/** The chain an event joins: its organization's, or the project's (`project`) when it has none. */
export function chainIdOf(event: Pick<AuditEvent, 'organizationId'>): string {
  return event.organizationId ?? PROJECT_CHAIN;
}

export const PROJECT_CHAIN = 'project';
