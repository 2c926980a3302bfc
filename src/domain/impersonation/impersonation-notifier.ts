import type { OperationContext } from '../common/operation-context.js';
import type { ImpersonatedSession } from './impersonation.js';

/**
 * Told once an impersonated session has started (after its transaction committed): emails the
 * member and/or the organization's admins when the organization opted in. Returns at once; sending
 * and its audit record happen in the background.
 */
export interface ImpersonationStartedListener {
  impersonationStarted(context: OperationContext, session: ImpersonatedSession): void;
}
