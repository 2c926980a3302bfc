/** The frontend SDKs send "" for an option left out: read as absent. */
export function emptyAsAbsent(value: string | undefined): string | undefined {
  return value === '' ? undefined : value;
}
