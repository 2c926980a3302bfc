import { UniqueConstraintError } from '../../domain/common/unique-constraint-error.js';

/**
 * Runs a write and turns a unique-index violation into a UniqueConstraintError naming the first
 * of `fields` the database mentions (SQLite names columns in its message; PostgreSQL names the
 * columns in `detail`).
 */
export async function translateUniqueViolation<T>(fields: readonly string[], write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    const field = uniqueViolationField(error, fields);
    if (field !== undefined) throw new UniqueConstraintError(field);
    throw error;
  }
}

function uniqueViolationField(error: unknown, fields: readonly string[]): string | undefined {
  if (error === null || typeof error !== 'object') return undefined;
  const { code, message, detail } = error as { code?: unknown; message?: unknown; detail?: unknown };
  const isUnique = code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
  if (!isUnique) return undefined;
  const text = `${String(message ?? '')} ${String(detail ?? '')}`;
  return fields.find((field) => new RegExp(`\\b${field}\\b`).test(text)) ?? fields[0];
}
