/**
 * Thrown by storage adapters when an insert or update hits a unique index, naming the field so
 * the service can answer with the Stytch error for it. Services check first; this covers races.
 */
export class UniqueConstraintError extends Error {
  readonly field: string;

  constructor(field: string) {
    super(`unique constraint on ${field}`);
    this.name = 'UniqueConstraintError';
    this.field = field;
  }
}
