import { encodeMember } from '../../http/wire/members.js';
import { encodeOrganization } from '../../http/wire/organizations.js';
import { stytchOperation } from '../operation.js';

/**
 * passwords.migrate: a hash from another system for a member of the organization, created (active,
 * address verified) when there is none. Verified with its own algorithm until the member's first
 * sign-in replaces it with argon2id.
 */
export default stytchOperation({
  operationId: 'api_b2b_password_v1_Migrate',
  async handle({ body, context }, { passwords }) {
    const { md_5_config, sha_1_config, sha_512_config, argon_2_config, scrypt_config, pbkdf_2_config } = body;
    const migrated = await passwords.migrate(context, {
      organizationId: body.organization_id,
      emailAddress: body.email_address,
      hash: body.hash,
      hashType: body.hash_type,
      md5Config: md_5_config && { prependSalt: md_5_config.prepend_salt, appendSalt: md_5_config.append_salt },
      sha1Config: sha_1_config && { prependSalt: sha_1_config.prepend_salt, appendSalt: sha_1_config.append_salt },
      sha512Config: sha_512_config && { prependSalt: sha_512_config.prepend_salt, appendSalt: sha_512_config.append_salt },
      argon2Config: argon_2_config && {
        salt: argon_2_config.salt,
        iterationAmount: argon_2_config.iteration_amount,
        memory: argon_2_config.memory,
        threads: argon_2_config.threads,
        keyLength: argon_2_config.key_length,
      },
      scryptConfig: scrypt_config && {
        salt: scrypt_config.salt,
        nParameter: scrypt_config.n_parameter,
        rParameter: scrypt_config.r_parameter,
        pParameter: scrypt_config.p_parameter,
        keyLength: scrypt_config.key_length,
      },
      pbkdf2Config: pbkdf_2_config && {
        salt: pbkdf_2_config.salt,
        iterationAmount: pbkdf_2_config.iteration_amount,
        keyLength: pbkdf_2_config.key_length,
        algorithm: pbkdf_2_config.algorithm,
      },
      name: body.name,
      trustedMetadata: body.trusted_metadata,
      untrustedMetadata: body.untrusted_metadata,
      roles: body.roles,
      preserveExistingSessions: body.preserve_existing_sessions,
      mfaPhoneNumber: body.mfa_phone_number,
      setPhoneNumberVerified: body.set_phone_number_verified,
      externalId: body.external_id,
    });
    return {
      member_id: migrated.member.memberId,
      member_created: migrated.memberCreated,
      member: encodeMember(migrated.member, migrated.organization),
      organization: encodeOrganization(migrated.organization),
    };
  },
});
