import type { Clock } from '../../platform/clock.js';
import { toTimestamp } from '../../platform/clock.js';
import type { Member } from '../members/member.js';
import type { Organization } from '../organizations/organization.js';
import { sessionError } from '../sessions/errors.js';
import { requireUsableIntermediateSession } from '../sessions/find-intermediate-session.js';
import { isImpersonated } from '../sessions/session.js';
import type { SessionsService } from '../sessions/sessions-service.js';
import type { SessionsStore } from '../sessions/sessions-store.js';
import { secondFactorStanding } from '../sessions/sign-in/second-factor.js';
import { mfaError } from './errors.js';
import type { PresentedProof } from './mfa-rules.js';

/**
 * Before a TOTP or recovery code is judged, the session arguments it comes with are judged the way
 * the sign-in pipeline will judge them (pipeline.ts, for a second factor), with the same errors:
 * exactly one of them; an intermediate session of this member in this organization holding a
 * primary factor it allows, or a live session of this member that is not impersonated. So a caller
 * without such a proof learns nothing about a code, and uses up none of the member's guesses
 * (mfa-guess-limit.ts). The pipeline decides again in its transaction; this only refuses earlier.
 */
export class SecondFactorProof {
  readonly #sessionsStore: Pick<SessionsStore, 'findIntermediateSessionByTokenLookupId'>;
  readonly #sessions: Pick<SessionsService, 'resolveLive'>;
  readonly #clock: Clock;

  constructor(dependencies: { sessionsStore: Pick<SessionsStore, 'findIntermediateSessionByTokenLookupId'>; sessions: Pick<SessionsService, 'resolveLive'>; clock: Clock }) {
    this.#sessionsStore = dependencies.sessionsStore;
    this.#sessions = dependencies.sessions;
    this.#clock = dependencies.clock;
  }

  async require(proof: PresentedProof, member: Member, organization: Organization): Promise<void> {
    const { intermediateSessionToken, sessionToken, sessionJwt } = proof;
    if (sessionToken !== undefined && sessionJwt !== undefined) throw sessionError('too_many_session_arguments');
    const presentsSession = sessionToken !== undefined || sessionJwt !== undefined;
    if (presentsSession && intermediateSessionToken !== undefined) {
      throw sessionError('too_many_session_arguments', 'Provide only one of session_token, session_jwt and intermediate_session_token.');
    }
    if (presentsSession) {
      const { session } = await this.#sessions.resolveLive({ sessionToken, sessionJwt });
      if (session.memberId !== member.memberId) throw mfaError('member_session_member_id_mismatch');
      if (isImpersonated(session)) throw sessionError('session_not_mutable_impersonated');
      return;
    }
    if (intermediateSessionToken === undefined) throw mfaError('mfa_session_arguments_required');
    const intermediate = await requireUsableIntermediateSession(this.#sessionsStore, intermediateSessionToken, toTimestamp(this.#clock.now()));
    const standing = secondFactorStanding(intermediate, member, organization);
    if (standing === 'another_member') throw sessionError('invalid_intermediate_session_token_for_organization');
    if (standing === 'primary_unmet') throw mfaError('action_available_only_once_primary_authentication_is_met');
  }
}
