import type { Random } from './random.js';

/** `test` or `live`, taken from the project id exactly as Stytch does. */
export type Environment = 'test' | 'live';

export type IdPrefix =
  | 'organization'
  | 'member'
  | 'session'
  | 'request-id'
  | 'email'
  | 'jwk'
  | 'project'
  | 'audit-event';

export function environmentOfProject(projectId: string): Environment {
  return projectId.startsWith('project-live-') ? 'live' : 'test';
}

/** Makes `<prefix>-<test|live>-<uuid v4>` ids (reference §G). */
export class IdGenerator {
  readonly #random: Random;
  readonly environment: Environment;

  constructor(random: Random, environment: Environment) {
    this.#random = random;
    this.environment = environment;
  }

  next(prefix: IdPrefix): string {
    return `${prefix}-${this.environment}-${this.#random.uuid()}`;
  }
}
