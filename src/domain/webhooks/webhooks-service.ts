import type { Clock } from '../../platform/clock.js';
import { toTimestamp } from '../../platform/clock.js';
import type { IdGenerator } from '../../platform/ids.js';
import type { AuditRecorder } from '../audit/audit-recorder.js';
import { isDomainError } from '../common/domain-error.js';
import { sharedError } from '../common/errors.js';
import type { OperationContext } from '../common/operation-context.js';
import { FOR_UPDATE } from '../common/read-for-update.js';
import type { Transactional } from '../common/transactional.js';
import { organizationError } from '../organizations/errors.js';
import type { StorePorts } from '../ports.js';
import { webhookError } from './errors.js';
import { checkWebhookUrl } from './webhook-address.js';
import type { WebhookSecrets } from './webhook-secrets.js';
import type { WebhookTransport } from './webhook-transport.js';
import { MAX_ENDPOINTS_PER_OWNER, type WebhookDelivery, type WebhookDeliveryStatus, type WebhookEndpoint, type WebhookOwner } from './webhook.js';

type Ports = Pick<StorePorts, 'organizations' | 'webhooks' | 'audit'>;

export const MAX_DESCRIPTION_LENGTH = 200;
export const DEFAULT_DELIVERIES_LIMIT = 100;
export const MAX_DELIVERIES_LIMIT = 1000;
const DELIVERY_STATUSES: readonly WebhookDeliveryStatus[] = ['pending', 'delivered', 'failed'];

/**
 * Who may see what. `project` (project credentials, the CLI, console operators) sees every endpoint;
 * `organization` (an organization's member session) only its own organization's, and another
 * organization's endpoint is one it cannot find.
 */
export type WebhookViewer = { readonly kind: 'project' } | { readonly kind: 'organization'; readonly organizationId: string };

export const PROJECT_VIEWER: WebhookViewer = { kind: 'project' };

/**
 * Webhook endpoints and their delivery log (docs/webhooks.md): the project's (the vendor's: every
 * organization's events) and each organization's (its own events). Adding and disabling are audited
 * (`webhook.endpoint_added`, `webhook.endpoint_disabled`), never with the secret, which is answered
 * once, when the endpoint is added, and stored sealed.
 */
export class WebhooksService {
  readonly #store: Transactional<Ports>;
  readonly #secrets: WebhookSecrets;
  readonly #transport: Pick<WebhookTransport, 'checkHost'>;
  readonly #allowPrivateAddresses: boolean;
  readonly #clock: Clock;
  readonly #ids: IdGenerator;
  readonly #audit: AuditRecorder;

  constructor(dependencies: {
    store: Transactional<Ports>;
    secrets: WebhookSecrets;
    transport: Pick<WebhookTransport, 'checkHost'>;
    allowPrivateAddresses: boolean;
    clock: Clock;
    ids: IdGenerator;
    audit: AuditRecorder;
  }) {
    this.#store = dependencies.store;
    this.#secrets = dependencies.secrets;
    this.#transport = dependencies.transport;
    this.#allowPrivateAddresses = dependencies.allowPrivateAddresses;
    this.#clock = dependencies.clock;
    this.#ids = dependencies.ids;
    this.#audit = dependencies.audit;
  }

  /**
   * Adds an endpoint of the organization `organization` names (id, slug or external id), or the
   * project's when it is null. Answers the secret this once.
   */
  async addEndpoint(context: OperationContext, input: { organization: string | null; url: string; description?: string | undefined }): Promise<{ endpoint: WebhookEndpoint; secret: string }> {
    const description = (input.description ?? '').trim();
    if (description.length > MAX_DESCRIPTION_LENGTH) throw webhookError('invalid_webhook_endpoint', `The description may have at most ${MAX_DESCRIPTION_LENGTH} characters.`);
    const url = checkWebhookUrl(input.url.trim(), this.#allowPrivateAddresses);
    if (isDomainError(url)) throw url;
    const owner = await this.#owner(input.organization);
    // Every check that needs no DNS comes first: an owner at its limit never makes this server
    // resolve a name. Counted again, under the lock, in the transaction below.
    if ((await this.#store.webhooks.countEnabledEndpoints(owner)) >= MAX_ENDPOINTS_PER_OWNER) throw webhookError('too_many_webhook_endpoints');
    if (!this.#allowPrivateAddresses) {
      const refused = await this.#transport.checkHost(url);
      if (refused !== undefined) throw webhookError('invalid_webhook_endpoint', `The webhook URL's host ${refused}.`);
    }
    const endpointId = this.#ids.next('webhook-endpoint');
    const sealed = this.#secrets.create(endpointId);
    return this.#store.transaction(async (tx) => {
      // The organization row is locked first (the lock order), then the owner's endpoints (the
      // project's have no row to lock): two adds count one after the other, and an organization
      // deleted meanwhile gets no endpoint.
      if (owner !== null && (await tx.organizations.findOrganization(owner, FOR_UPDATE)) === undefined) throw organizationError('organization_not_found');
      await tx.webhooks.lockEndpointsOf(owner);
      if ((await tx.webhooks.countEnabledEndpoints(owner)) >= MAX_ENDPOINTS_PER_OWNER) throw webhookError('too_many_webhook_endpoints');
      const endpoint: WebhookEndpoint = { endpointId, organizationId: owner, url: url.href, description, createdAt: toTimestamp(this.#clock.now()), disabledAt: null };
      await tx.webhooks.insertEndpoint(endpoint, sealed.sealed);
      await this.#audit.record(tx.audit, context, {
        type: 'webhook.endpoint_added',
        organizationId: owner,
        occurredAt: endpoint.createdAt,
        details: { endpoint_id: endpointId, url: endpoint.url, description },
      });
      return { endpoint, secret: sealed.secret };
    });
  }

  /** Endpoints the viewer may see, newest first: one organization's (an id, slug or external id), the project's (null), or all (undefined; project viewers only). */
  async listEndpoints(viewer: WebhookViewer, organization: string | null | undefined): Promise<WebhookEndpoint[]> {
    if (viewer.kind === 'organization') return this.#store.webhooks.listEndpoints({ organizationId: viewer.organizationId });
    if (organization === undefined) return this.#store.webhooks.listEndpoints({ organizationId: 'all' });
    return this.#store.webhooks.listEndpoints({ organizationId: await this.#owner(organization) });
  }

  /** Disables it (deliveries not yet made to it fail); disabling a disabled endpoint changes nothing and records nothing. */
  async disableEndpoint(context: OperationContext, viewer: WebhookViewer, endpointId: string): Promise<WebhookEndpoint> {
    return this.#store.transaction(async (tx) => {
      const found = await tx.webhooks.findEndpoint(endpointId);
      if (found === undefined || !visible(viewer, found.endpoint)) throw webhookError('webhook_endpoint_not_found');
      if (found.endpoint.disabledAt !== null) return found.endpoint;
      const at = toTimestamp(this.#clock.now());
      const endpoint = await tx.webhooks.disableEndpoint(endpointId, at);
      if (endpoint === undefined) throw webhookError('webhook_endpoint_not_found');
      // Another disable may have won the race: only the one that set the time records it.
      if (endpoint.disabledAt !== at) return endpoint;
      await this.#audit.record(tx.audit, context, {
        type: 'webhook.endpoint_disabled',
        organizationId: endpoint.organizationId,
        occurredAt: at,
        details: { endpoint_id: endpoint.endpointId, url: endpoint.url },
      });
      return endpoint;
    });
  }

  /** The delivery log, newest first, narrowed by endpoint, owner and status; an organization viewer sees only deliveries to its own endpoints. */
  async listDeliveries(
    viewer: WebhookViewer,
    filter: { endpointId?: string | undefined; organization?: string | undefined; status?: string | undefined; limit?: number | undefined },
  ): Promise<WebhookDelivery[]> {
    const limit = filter.limit ?? DEFAULT_DELIVERIES_LIMIT;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_DELIVERIES_LIMIT) throw sharedError('invalid_limit');
    const status = filter.status === undefined || filter.status === '' ? undefined : filter.status;
    if (status !== undefined && !(DELIVERY_STATUSES as readonly string[]).includes(status)) throw sharedError('bad_request', 'status must be pending, delivered or failed.');
    if (filter.endpointId !== undefined) {
      const found = await this.#store.webhooks.findEndpoint(filter.endpointId);
      if (found === undefined || !visible(viewer, found.endpoint)) throw webhookError('webhook_endpoint_not_found');
    }
    const owner: WebhookOwner | undefined =
      viewer.kind === 'organization' ? viewer.organizationId : filter.organization === undefined ? undefined : await this.#owner(filter.organization);
    return this.#store.webhooks.listDeliveries({ endpointId: filter.endpointId, owner, status: status as WebhookDeliveryStatus | undefined, limit });
  }

  /** The organization's id (from an id, slug or external id), or null for the project. */
  async #owner(organization: string | null): Promise<WebhookOwner> {
    if (organization === null) return null;
    const found = await this.#store.organizations.findOrganization(organization);
    if (found === undefined) throw organizationError('organization_not_found');
    return found.organizationId;
  }
}

function visible(viewer: WebhookViewer, endpoint: WebhookEndpoint): boolean {
  return viewer.kind === 'project' || endpoint.organizationId === viewer.organizationId;
}
