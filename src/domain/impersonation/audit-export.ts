import type { AuditEvent } from '../audit/audit-event.js';
import { rateLimitError } from '../rate-limits/errors.js';
import type { AuditTrailQuery, ImpersonationAdminService } from './impersonation-admin-service.js';

/** Events read per page of an export: large enough to keep queries few, small enough to keep memory flat. */
export const AUDIT_EXPORT_PAGE_SIZE = 1000;
/** Exports one process runs at once unless configured otherwise (UNDERSTUDY_AUDIT_EXPORT_CONCURRENCY). */
export const DEFAULT_AUDIT_EXPORT_CONCURRENCY = 2;
/** What a refused export is told to wait: an export of a few hundred thousand events takes seconds. */
export const AUDIT_EXPORT_RETRY_AFTER_SECONDS = 10;
/** How long a client may read nothing before its export is cut off, unless configured otherwise (UNDERSTUDY_AUDIT_EXPORT_STALL_SECONDS). */
export const DEFAULT_AUDIT_EXPORT_STALL_SECONDS = 30;

type TrailReader = Pick<ImpersonationAdminService, 'auditTrail'>;

/**
 * Whole-trail exports (API NDJSON, console download) read the trail a page at a time, each page only
 * when the previous one was sent, so an export holds about one page in memory however long the trail
 * is. The trail grows from outside (every refused attempt is recorded), so the number of exports
 * running at once is bounded too: past it, `too_many_requests` with a Retry-After.
 */
export class AuditExports {
  readonly #trail: TrailReader;
  readonly #maxConcurrent: number;
  readonly #stallMilliseconds: number;
  #running = 0;

  constructor(dependencies: { trail: TrailReader; maxConcurrent?: number | undefined; stallSeconds?: number | undefined }) {
    this.#trail = dependencies.trail;
    this.#maxConcurrent = dependencies.maxConcurrent ?? DEFAULT_AUDIT_EXPORT_CONCURRENCY;
    this.#stallMilliseconds = (dependencies.stallSeconds ?? DEFAULT_AUDIT_EXPORT_STALL_SECONDS) * 1000;
  }

  /** Exports running now (for tests and diagnostics). */
  get running(): number {
    return this.#running;
  }

  /**
   * Takes an export slot and reads the first page, so a bad filter, an unknown organization or an
   * unreachable database fails here, before anything is sent. The export holds its slot until it
   * has been read to the end or closed; callers must close it when they stop early.
   */
  async open(query: Omit<AuditTrailQuery, 'limit'>): Promise<AuditExport> {
    if (this.#running >= this.#maxConcurrent) {
      throw rateLimitError(
        AUDIT_EXPORT_RETRY_AFTER_SECONDS,
        `Too many requests have been made: at most ${this.#maxConcurrent} audit exports run at a time. Retry after ${AUDIT_EXPORT_RETRY_AFTER_SECONDS} seconds.`,
      );
    }
    this.#running += 1;
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      this.#running -= 1;
    };
    try {
      const first = await this.#trail.auditTrail({ ...query, limit: AUDIT_EXPORT_PAGE_SIZE });
      return new AuditExport(first, (cursor) => this.#trail.auditTrail({ ...query, cursor, limit: AUDIT_EXPORT_PAGE_SIZE }), release, this.#stallMilliseconds);
    } catch (error) {
      release();
      throw error;
    }
  }
}

type TrailPage = { events: AuditEvent[]; nextCursor: string | null };

/** One running export: its pages in the order the events were written, fetched on demand. */
export class AuditExport {
  #pending: TrailPage | undefined;
  #cursor: string | null = null;
  #closed = false;
  readonly #read: (cursor: string) => Promise<TrailPage>;
  readonly #release: () => void;
  /** How long the client may read nothing before the export is cut off. */
  readonly stallMilliseconds: number;

  constructor(first: TrailPage, read: (cursor: string) => Promise<TrailPage>, release: () => void, stallMilliseconds: number) {
    this.#pending = first;
    this.#read = read;
    this.#release = release;
    this.stallMilliseconds = stallMilliseconds;
  }

  /** The next page (the first one was read by `open`), or null when the export is complete or closed. */
  async nextPage(): Promise<readonly AuditEvent[] | null> {
    if (this.#closed) return null;
    let page = this.#pending;
    this.#pending = undefined;
    if (page === undefined) {
      if (this.#cursor === null) {
        this.close();
        return null;
      }
      page = await this.#read(this.#cursor);
      // Closed while the page was being read (the client went away): drop it.
      if (this.#closed) return null;
    }
    this.#cursor = page.nextCursor;
    if (page.nextCursor === null && page.events.length === 0) {
      this.close();
      return null;
    }
    return page.events;
  }

  /** Gives the slot back; further pages are not read. Safe to call more than once. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#pending = undefined;
    this.#release();
  }
}
