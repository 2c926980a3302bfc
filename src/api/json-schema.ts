/**
 * Small JSON-schema builders for our extension operations, whose request schemas are declared in
 * their own modules (Stytch's come from the contract). The bounds match the generated schemas'.
 */
export const str = { type: 'string', maxLength: 4096 } as const;
export const bool = { type: 'boolean' } as const;

export function objectSchema(properties: Record<string, unknown>, required: readonly string[] = []): Record<string, unknown> {
  return { type: 'object', properties, required: [...required] };
}
