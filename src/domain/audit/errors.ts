import { errorFactory, type ErrorKind } from '../common/domain-error.js';

/** Audit chain error codes: all ours (docs/errors.md). */
export const AUDIT_ERRORS = {
  audit_chain_not_found: {
    kind: 'not_found',
    message: 'No audit chain has this id: the organization has no chained events, or there is no such organization.',
  },
} as const satisfies Record<string, { kind: ErrorKind; message: string }>;

export type AuditErrorCode = keyof typeof AUDIT_ERRORS;

export const auditError = errorFactory(AUDIT_ERRORS);
