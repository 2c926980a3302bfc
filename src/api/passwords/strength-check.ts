import { stytchOperation } from '../operation.js';

/**
 * passwords.strengthCheck: the password judged by the project's policy; with an email address,
 * the address counts against it and the breach source is consulted (when breach detection on
 * creation is on). Both feedback objects are answered whichever policy is in force.
 */
export default stytchOperation({
  operationId: 'api_b2b_password_v1_StrengthCheck',
  async handle({ body }, { passwordStrength }) {
    const strength = await passwordStrength.strengthCheck({ password: body.password, emailAddress: body.email_address });
    return {
      valid_password: strength.validPassword,
      score: strength.score,
      breached_password: strength.breachedPassword,
      strength_policy: strength.strengthPolicy,
      breach_detection_on_create: strength.breachDetectionOnCreate,
      luds_feedback: {
        has_lower_case: strength.ludsFeedback.hasLowerCase,
        has_upper_case: strength.ludsFeedback.hasUpperCase,
        has_digit: strength.ludsFeedback.hasDigit,
        has_symbol: strength.ludsFeedback.hasSymbol,
        missing_complexity: strength.ludsFeedback.missingComplexity,
        missing_characters: strength.ludsFeedback.missingCharacters,
      },
      zxcvbn_feedback: { warning: strength.zxcvbnFeedback.warning, suggestions: [...strength.zxcvbnFeedback.suggestions] },
    };
  },
});
