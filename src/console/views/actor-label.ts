import type { Actor } from '../../domain/common/operation-context.js';

/** Who acted, in words, for the console's audit tables. */
export function actorLabel(actor: Actor): string {
  switch (actor.type) {
    case 'operator':
      return `operator ${actor.emailAddress}`;
    case 'project':
      return 'API (project secret)';
    case 'cli':
      return 'command line';
    case 'system':
      return 'Understudy';
    case 'member_session':
      return actor.impersonator === undefined ? `member ${actor.memberId} (session headers)` : `${actor.impersonator.emailAddress} as member ${actor.memberId}`;
  }
}
