import type { FastifyContextConfig, FastifyInstance, FastifyReply, FastifyRequest, FastifySchema } from 'fastify';
import { sharedError } from '../domain/common/errors.js';
import { ok, projectContext } from '../http/respond.js';
import { answerJson } from '../http/wire/answer-json.js';
import { CONTRACT_OPERATIONS, type ContractOperation } from './generated/operations.js';
import type { ApiServices, ExtensionOperation, OperationCall, StytchOperation } from './operation.js';
import { EXTENSION_OPERATIONS, STYTCH_OPERATIONS } from './operations.js';
import { runAsCaller } from './member-session-call.js';

/**
 * Registers every operation of the contract, implemented or not, and every extension of ours.
 * Each implemented operation gets its route and request schema from the contract; every other one
 * answers 501 not_implemented naming its SDK method, so a caller sees what is missing rather than a
 * 404 that looks like a typo.
 */
export function registerOperations(app: FastifyInstance, services: ApiServices): void {
  const implemented = new Map(STYTCH_OPERATIONS.map((operation) => [operation.operationId, operation]));
  for (const contract of CONTRACT_OPERATIONS) {
    const operation = implemented.get(contract.operationId);
    if (operation === undefined) registerNotImplemented(app, contract);
    else registerStytchOperation(app, contract, operation, services);
    implemented.delete(contract.operationId);
  }
  if (implemented.size > 0) throw new Error(`Operations not in the contract: ${[...implemented.keys()].join(', ')}`);
  for (const extension of EXTENSION_OPERATIONS) registerExtension(app, extension, services);
}

/**
 * The decoded request as the handler's types describe it. Safe because the route was registered with
 * the operation's own schema (the generated one, or an extension's declared beside its types), which
 * Fastify has validated the body, query and path against before the handler runs; an extension with
 * `attachValidation` declares its body `unknown` and checks it itself.
 */
function callOf(request: FastifyRequest, reply: FastifyReply, projectId: string): OperationCall<never, never, never> {
  return {
    body: request.body as never,
    query: request.query as never,
    params: request.params as never,
    context: projectContext(request, projectId),
    request,
    reply,
  };
}

function registerStytchOperation(app: FastifyInstance, contract: ContractOperation, operation: StytchOperation, services: ApiServices): void {
  app.route({
    method: contract.method,
    url: contract.url,
    // The generated schemas are plain JSON schema; Fastify's types want mutable objects.
    schema: contract.schema as FastifySchema,
    config: { ...operation.config, operation: contract.sdkMethod },
    handler: async (request, reply) => {
      const call = callOf(request, reply, services.projectId);
      const result = readsHeadersItself(operation.config)
        ? await operation.handle(call, services)
        : await runAsCaller(call, { name: contract.sdkMethod, memberAuthorization: operation.memberAuthorization }, services, (asCaller) => operation.handle(asCaller, services));
      return sendAnswer(reply, ok(request, result));
    },
  });
}

function registerExtension(app: FastifyInstance, extension: ExtensionOperation, services: ApiServices): void {
  app.route({
    method: extension.method,
    url: extension.url,
    ...(extension.schema && { schema: extension.schema }),
    ...(extension.attachValidation && { attachValidation: true }),
    config: { ...extension.config, operation: extension.name },
    handler: async (request, reply) => {
      const call = callOf(request, reply, services.projectId);
      const result = readsHeadersItself(extension.config)
        ? await extension.handle(call, services)
        : await runAsCaller(call, { name: extension.name, memberAuthorization: extension.memberAuthorization }, services, (asCaller) => extension.handle(asCaller, services));
      return result === reply ? reply : sendAnswer(reply, ok(request, result));
    },
  });
}

/**
 * Routes open to all (health checks, the JWKS) and those that read member-session headers
 * themselves (impersonation minting and policies) are not under the member-session rule.
 */
function readsHeadersItself(config: FastifyContextConfig | undefined): boolean {
  return config?.handlesMemberSessionHeaders === true || (config?.access ?? 'project') !== 'project';
}

/** Sends the answer as the JSON text Fastify would make of it, with shared parts spliced in (answer-json.ts). */
function sendAnswer(reply: FastifyReply, body: Readonly<Record<string, unknown>>): FastifyReply {
  return reply.type('application/json; charset=utf-8').send(answerJson(body));
}

function registerNotImplemented(app: FastifyInstance, contract: ContractOperation): void {
  app.route({
    method: contract.method,
    url: contract.url,
    // The project's credentials are still required; member-session headers are not looked at.
    config: { handlesMemberSessionHeaders: true, operation: contract.sdkMethod },
    handler: async () => {
      throw sharedError('not_implemented', `${contract.sdkMethod} is not implemented by this Understudy version.`);
    },
  });
}
