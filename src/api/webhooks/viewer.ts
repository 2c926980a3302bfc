import type { OperationContext } from '../../domain/common/operation-context.js';
import { PROJECT_VIEWER, type WebhookViewer } from '../../domain/webhooks/webhooks-service.js';

/** A member session sees its own organization's endpoints only; the project's credentials see all. */
export function viewerOf(context: OperationContext): WebhookViewer {
  return context.actor.type === 'member_session' ? { kind: 'organization', organizationId: context.actor.organizationId } : PROJECT_VIEWER;
}
