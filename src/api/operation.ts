import type { FastifyContextConfig, FastifyReply, FastifyRequest, FastifySchema, HTTPMethods } from 'fastify';
import type { OperationContext } from '../domain/common/operation-context.js';
import type { Services } from '../services.js';
import type { MemberAuthorization } from './member-session-call.js';
import type { operations } from './generated/contract-types.js';
import type { OperationId } from './generated/operations.js';

/** What an operation module may call: the domain services, the project's id and the database's health. */
export interface ApiServices extends Services {
  readonly projectId: string;
  /** Resolves when the database answers (readiness). */
  readonly ping: () => Promise<void>;
}

type JsonContent<T> = T extends { content: { 'application/json': infer Body } } ? Body : never;
type Parameters<Id extends OperationId, Where extends 'query' | 'path'> = operations[Id]['parameters'] extends { [K in Where]?: infer P } ? P : never;

/** The JSON body of a request, as the contract (with contract/overrides.json) declares it. */
export type RequestBodyOf<Id extends OperationId> = operations[Id] extends { requestBody: { content: { 'application/json': infer Body } } } ? Body : Record<string, never>;
/** Query parameters arrive as text whatever their declared type; the generated schema has checked their spelling. */
export type QueryOf<Id extends OperationId> = [Parameters<Id, 'query'>] extends [never] ? Record<string, never> : { [K in keyof Parameters<Id, 'query'>]: string };
export type PathOf<Id extends OperationId> = [Parameters<Id, 'path'>] extends [never] ? Record<string, never> : Parameters<Id, 'path'>;
/**
 * The 200 answer without `request_id` and `status_code`, which the edge adds to every answer. An
 * optional field may also be `null`: the contract has no `nullable` marks, yet Stytch answers null
 * for unset optional references (lock_expires_at, sso_default_connection_id), and so do we.
 */
export type ResponseOf<Id extends OperationId> = Lenient<Omit<JsonContent<operations[Id]['responses'][200]>, 'request_id' | 'status_code'>>;
type Lenient<T> = T extends readonly (infer Item)[]
  ? Lenient<Item>[]
  : T extends object
    ? { [K in keyof T]: undefined extends T[K] ? Lenient<Exclude<T[K], undefined>> | null | undefined : Lenient<T[K]> }
    : T;

/** One decoded request: the parts the generated schemas have validated, and who is calling. */
export interface OperationCall<Body, Query, Params> {
  readonly body: Body;
  readonly query: Query;
  readonly params: Params;
  /** The project is the actor; request id and client address for the audit trail. */
  readonly context: OperationContext;
  /** For the few operations that read headers (member sessions) or stream their answer. */
  readonly request: FastifyRequest;
  readonly reply: FastifyReply;
}

/**
 * A Stytch operation: the contract gives its route and request schema, the module gives only what
 * differs per operation (style: decode, call one service method named after the SDK method, encode).
 */
export interface StytchOperation<Id extends OperationId = OperationId> {
  readonly operationId: Id;
  /** Route options beyond the contract's: access, rate limits, member-session handling. */
  readonly config?: FastifyContextConfig;
  /**
   * For the admin endpoints Stytch lets a backend call on behalf of a member (member-session
   * headers): what a call needs from that member's roles. Without it the headers are refused.
   */
  readonly memberAuthorization?: MemberAuthorization<OperationCall<RequestBodyOf<Id>, QueryOf<Id>, PathOf<Id>>>;
  handle(call: OperationCall<RequestBodyOf<Id>, QueryOf<Id>, PathOf<Id>>, services: ApiServices): Promise<ResponseOf<Id>>;
}

/**
 * An operation of ours beside Stytch's (impersonation minting, policies, audit; health checks). It
 * is not in the contract, so it declares its route and request schema itself, in the same module.
 * It may send its own reply (a stream) and return it instead of a body.
 */
export interface ExtensionOperation<Body = unknown, Query = unknown, Params = unknown> {
  /** Our own name, in the SDK's style (`impersonation.mint`), listed in docs/compatibility.md's matrix. */
  readonly name: string;
  readonly method: HTTPMethods;
  readonly url: string;
  readonly schema?: FastifySchema;
  readonly config?: FastifyContextConfig;
  /** attachValidation: a body that fails the schema still reaches the handler (a refusal it audits). */
  readonly attachValidation?: boolean;
  /** As StytchOperation's: what a call made with member-session headers needs; without it they are refused. */
  readonly memberAuthorization?: MemberAuthorization<OperationCall<Body, Query, Params>>;
  handle(call: OperationCall<Body, Query, Params>, services: ApiServices): Promise<object | FastifyReply>;
}

/** Declares a Stytch operation module; the identity function gives the handler its generated types. */
export function stytchOperation<Id extends OperationId>(operation: StytchOperation<Id>): StytchOperation<Id> {
  return operation;
}

/** Declares one of our extension operations with the types its own schema guarantees. */
export function extensionOperation<Body = Record<string, never>, Query = Record<string, never>, Params = Record<string, never>>(
  operation: ExtensionOperation<Body, Query, Params>,
): ExtensionOperation<Body, Query, Params> {
  return operation;
}
