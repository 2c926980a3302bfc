import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isDomainError } from '../../domain/common/domain-error.js';
import { sharedError } from '../../domain/common/errors.js';
import type { ConsoleIdentity } from '../../domain/operators/console-auth-service.js';
import { operatorError } from '../../domain/operators/errors.js';
import { canManageOperators } from '../../domain/operators/operator.js';
import { PolicyProblemsError } from '../../domain/rbac/errors.js';
import { DEFAULT_POLICY_VERSION } from '../../domain/rbac/policy.js';
import { policyDocument } from '../../domain/rbac/policy-rules.js';
import { checkCsrf, type ConsoleDependencies, csrfFor, field, operatorContext, requireOperator } from '../console-context.js';
import { page } from '../views/layout.js';
import { type RbacDraft, rbacPage } from '../views/rbac-views.js';
import { jsonErrorOffset, lineColumn } from '../../config/json-error-position.js';

/** How many stored versions the history shows. */
const HISTORY_LIMIT = 20;
/** A policy of hundreds of roles is far larger than the console's other forms (64 KiB). */
const POLICY_FORM_LIMIT_BYTES = 1024 * 1024;

/**
 * The project's RBAC policy: every operator reads the policy in force and its history; admins
 * replace it by editing its JSON, applied as one new version with its audit event.
 */
export function registerRbacPages(scope: FastifyInstance, dependencies: ConsoleDependencies, options: { readonly policyFile?: string | undefined }): void {
  const { rbacPolicy, consoleAudit } = dependencies.services;

  async function send(request: FastifyRequest, reply: FastifyReply, identity: ConsoleIdentity, extra: { appliedVersion?: number | undefined; unchanged?: boolean; draft?: RbacDraft }): Promise<FastifyReply> {
    // Read from the store, not the per-process cache: the editor must start from the newest version.
    const history = await rbacPolicy.history(HISTORY_LIMIT);
    const current = history[0] ?? DEFAULT_POLICY_VERSION;
    const oldest = history[history.length - 1];
    const changes = oldest === undefined ? new Map() : await consoleAudit.rbacPolicyChanges(history.map((version) => version.version), oldest.createdAt);
    const applied = extra.appliedVersion;
    const body = rbacPage({
      current,
      history,
      changes,
      document: JSON.stringify(policyDocument(current.policy), null, 2),
      canEdit: canManageOperators(identity.operator.role),
      csrf: csrfFor(request),
      policyFile: options.policyFile,
      // Only a version that exists is named, so a crafted link cannot announce one.
      message:
        applied !== undefined && applied >= 1 && applied <= current.version
          ? `Policy applied: version ${applied}.`
          : extra.unchanged === true
            ? 'Nothing changed: the policy submitted is the one in force.'
            : undefined,
      draft: extra.draft,
    });
    return reply.type('text/html; charset=utf-8').send(page({ title: 'RBAC policy', identity, csrf: csrfFor(request), current: '/console/rbac', body }).value);
  }

  scope.get<{ Querystring: { applied?: string; unchanged?: string } }>('/rbac', async (request, reply) => {
    const identity = requireOperator(request, reply);
    if (identity === undefined) return reply;
    const applied = request.query.applied;
    return send(request, reply, identity, { appliedVersion: applied !== undefined && /^[1-9]\d{0,8}$/.test(applied) ? Number(applied) : undefined, unchanged: request.query.unchanged === '1' });
  });

  scope.post('/rbac', { bodyLimit: POLICY_FORM_LIMIT_BYTES }, async (request, reply) => {
    const identity = requireOperator(request, reply);
    if (identity === undefined) return reply;
    checkCsrf(request);
    // Refused before anything is read: a hidden form is only a convenience.
    if (!canManageOperators(identity.operator.role)) throw operatorError('operator_forbidden');
    const text = field(request.body, 'policy') ?? '';
    const basedOnField = field(request.body, 'based_on') ?? '';
    if (!/^\d{1,9}$/.test(basedOnField)) throw sharedError('bad_request', 'The form is incomplete. Reload the page and try again.');
    const basedOn = Number(basedOnField);
    const refuse = (status: number, error: string, problems: RbacDraft['problems'], nextBasedOn = basedOn) =>
      send(request, reply.code(status), identity, { draft: { text, basedOn: nextBasedOn, error, problems } });

    let document: unknown;
    try {
      document = JSON.parse(text);
    } catch (error) {
      return refuse(400, `Nothing was applied: the policy is not valid JSON. ${jsonErrorWhere(text, error)}`, []);
    }
    try {
      const result = await rbacPolicy.apply(operatorContext(request, identity), document, { source: 'console', basedOn });
      return reply.redirect(result.changed ? `/console/rbac?applied=${result.version.version}` : '/console/rbac?unchanged=1', 303);
    } catch (error) {
      if (error instanceof PolicyProblemsError) {
        const count = error.problems.length;
        return refuse(error.kind === 'precondition_failed' ? 409 : 400, `Nothing was applied: the policy has ${count === 1 ? 'a problem' : `${count} problems`}.`, error.problems);
      }
      if (isDomainError(error) && error.code === 'rbac_policy_changed') {
        // The text stays as typed; the next apply is based on the version now in force, shown above it, so the admin
        // compares before applying again rather than overwriting the other change unseen.
        const now = (await rbacPolicy.history(1))[0]?.version ?? 0;
        return refuse(
          409,
          `Nothing was applied: the policy changed since you opened it (version ${basedOn} then, version ${now} now). Your text is kept below; compare it with the policy in force and apply again.`,
          [],
          now,
        );
      }
      throw error;
    }
  });
}

/** Where JSON.parse stopped, as a line and column, with its message. */
export function jsonErrorWhere(text: string, error: unknown): string {
  const raw = error instanceof Error ? error.message : String(error);
  // V8 quotes the text around the token (all of it when short): the line and column say where instead.
  const message = raw.replace(/^(Unexpected token '.*?'), .* is not valid JSON$/s, '$1');
  const offset = jsonErrorOffset(text, error);
  return offset === undefined ? message : `${message} (${lineColumn(text, offset)}).`;
}
