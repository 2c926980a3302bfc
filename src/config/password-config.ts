import { statSync } from 'node:fs';
import type { Argon2idParameters } from '../domain/passwords/password-hashing.js';
import type { PasswordSettings } from '../domain/passwords/password-settings.js';
import { parseInteger } from './load.js';
import { CONFIG_KEYS, type Config, type ConfigName } from './schema.js';

type PasswordConfig = Pick<Config, 'passwords' | 'passwordBreachRangesDir' | 'passwordBreachRangeApiUrl' | 'argon2' | 'passwordHashConcurrency' | 'passwordHashQueueLength'>;

/** The password policy, user lock, breach source and argon2id keys (schema.ts), each checked; problems are appended. */
export function loadPasswordConfig(raw: (name: ConfigName) => string | undefined, problems: string[]): PasswordConfig {
  const integer = (name: ConfigName, min: number, max: number): number => {
    const value = parseInteger(raw(name), { min, max });
    if (value === undefined) problems.push(`${CONFIG_KEYS[name].env} must be an integer from ${min} to ${max} (got "${raw(name)}")`);
    return value ?? min;
  };
  const flag = (name: ConfigName): boolean => {
    const value = raw(name);
    if (value !== 'true' && value !== 'false') problems.push(`${CONFIG_KEYS[name].env} must be true or false (got "${value}")`);
    return value === 'true';
  };
  const policy = raw('passwordPolicy');
  if (policy !== 'zxcvbn' && policy !== 'luds') problems.push(`${CONFIG_KEYS.passwordPolicy.env} must be zxcvbn or luds (got "${policy}")`);
  const passwords: PasswordSettings = {
    validationPolicy: policy === 'luds' ? 'luds' : 'zxcvbn',
    ludsMinPasswordLength: integer('passwordLudsMinLength', 8, 32),
    ludsMinPasswordComplexity: integer('passwordLudsMinComplexity', 1, 4),
    checkBreachOnCreation: flag('passwordBreachCheckOnCreation'),
    checkBreachOnAuthentication: flag('passwordBreachCheckOnAuthentication'),
    validateOnAuthentication: flag('passwordValidateOnAuthentication'),
    crossOrgPasswordsEnabled: flag('crossOrgPasswordsEnabled'),
    userLockThreshold: integer('userLockThreshold', 1, 1000),
    userLockTtlSeconds: integer('userLockTtlSeconds', 300, 604_800),
  };
  const passwordBreachRangesDir = raw('passwordBreachRangesDir');
  if (passwordBreachRangesDir !== undefined && !isDirectory(passwordBreachRangesDir)) {
    problems.push(`${CONFIG_KEYS.passwordBreachRangesDir.env} must name an existing directory of range files (got "${passwordBreachRangesDir}")`);
  }
  const passwordBreachRangeApiUrl = raw('passwordBreachRangeApiUrl');
  if (passwordBreachRangeApiUrl !== undefined && !/^https?:\/\/[^\s]+$/.test(passwordBreachRangeApiUrl)) {
    problems.push(`${CONFIG_KEYS.passwordBreachRangeApiUrl.env} must be an http:// or https:// URL (got "${passwordBreachRangeApiUrl}")`);
  }
  const argon2: Argon2idParameters = {
    memoryKib: integer('argon2MemoryKib', 1024, 4_194_304),
    iterations: integer('argon2Iterations', 1, 100),
    parallelism: integer('argon2Parallelism', 1, 16),
  };
  const concurrency = raw('passwordHashConcurrency');
  return {
    passwords,
    passwordBreachRangesDir,
    passwordBreachRangeApiUrl,
    argon2,
    passwordHashConcurrency: concurrency === undefined ? undefined : integer('passwordHashConcurrency', 1, 256),
    passwordHashQueueLength: integer('passwordHashQueueLength', 0, 100_000),
  };
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
