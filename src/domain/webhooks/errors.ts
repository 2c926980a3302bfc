import { errorFactory, type ErrorKind } from '../common/domain-error.js';

/** Webhook error codes: all ours (docs/errors.md). */
export const WEBHOOK_ERRORS = {
  webhook_endpoint_not_found: { kind: 'not_found', message: 'No webhook endpoint you may see has this id.' },
  invalid_webhook_endpoint: {
    kind: 'invalid_argument',
    message: 'A webhook endpoint needs an https:// URL (http:// only for localhost) without user:password@, whose host is not a private, loopback or link-local address, and a description of at most 200 characters.',
  },
  too_many_webhook_endpoints: { kind: 'precondition_failed', message: 'An organization (or the project) may have at most 10 webhook endpoints.' },
} as const satisfies Record<string, { kind: ErrorKind; message: string }>;

export type WebhookErrorCode = keyof typeof WEBHOOK_ERRORS;

export const webhookError = errorFactory(WEBHOOK_ERRORS);
