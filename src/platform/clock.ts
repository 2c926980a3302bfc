/** The one source of "now" (style rule 17): services read it once per operation. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = {
  now(): Date {
    return new Date(Date.now());
  },
};

/** A clock tests can move by hand. */
export class ManualClock implements Clock {
  #millis: number;

  constructor(start: Date | string = '2026-01-01T00:00:00Z') {
    this.#millis = new Date(start).getTime();
  }

  now(): Date {
    return new Date(this.#millis);
  }

  advance(milliseconds: number): void {
    this.#millis += milliseconds;
  }

  set(to: Date | string): void {
    this.#millis = new Date(to).getTime();
  }
}

/** RFC 3339 in UTC with whole seconds, as Stytch's own examples show (`2023-01-09T07:41:52Z`). */
export function toTimestamp(date: Date): string {
  const iso = date.toISOString();
  // toISOString always ends in `.sssZ`; slicing is cheaper than a regular expression on the hot path.
  return `${iso.slice(0, -5)}Z`;
}
