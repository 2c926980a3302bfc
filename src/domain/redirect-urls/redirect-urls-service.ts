import type { AuditRecorder } from '../audit/audit-recorder.js';
import type { AuditStore } from '../audit/audit-store.js';
import type { OperationContext } from '../common/operation-context.js';
import type { Transactional } from '../common/transactional.js';
import { toTimestamp, type Clock } from '../../platform/clock.js';
import { INVALID_REDIRECT_URL, NO_DEFAULT_REDIRECT_URL, redirectUrlError } from './errors.js';
import { REDIRECT_URL_TYPES, type RedirectUrlResolver, type RedirectUrlType } from './redirect-urls.js';
import { BUILT_IN_REDIRECT_URL, allTypes, checkAllowedRedirectUrl, checkTypes, type RedirectUrl, type RedirectUrlSource, type RedirectUrlTypeSetting } from './redirect-url.js';
import type { RedirectUrlsStore } from './redirect-urls-store.js';

/** One allowed URL as the console and CLI show it: `isDefault` is whether sends use it now. */
export interface RedirectUrlEntry extends RedirectUrl {
  readonly source: RedirectUrlSource;
}

/** Every allowed URL, and each type's default as a send without a URL would use it (null: none). */
export interface RedirectUrlListing {
  readonly redirectUrls: readonly RedirectUrlEntry[];
  readonly defaults: Readonly<Record<RedirectUrlType, string | null>>;
}

type Ports = { readonly redirectUrls: RedirectUrlsStore; readonly audit: AuditStore };

/**
 * The project's allowed redirect URLs: configured ones (read-only) and stored ones (edited in the
 * console and the CLI). Sends resolve through it. A stored default for a type wins over the
 * configured one; with nothing configured or stored at all, http://localhost:3000/authenticate is
 * allowed for, and the default of, every type.
 */
export class RedirectUrlsService implements RedirectUrlResolver {
  readonly #store: Transactional<Ports>;
  readonly #clock: Clock;
  readonly #audit: AuditRecorder;
  readonly #configured: readonly RedirectUrl[];

  constructor(dependencies: { store: Transactional<Ports>; clock: Clock; audit: AuditRecorder; configured?: readonly RedirectUrl[] | undefined }) {
    this.#store = dependencies.store;
    this.#clock = dependencies.clock;
    this.#audit = dependencies.audit;
    this.#configured = dependencies.configured ?? [];
  }

  /**
   * The URL a link of this type sends the browser to. Reads the database through the pool, so call
   * it before opening the send's transaction (SQLite has one connection, held by the transaction).
   */
  async resolve(type: RedirectUrlType, given: string | undefined): Promise<string> {
    const listing = await this.list();
    if (given === undefined || given === '') {
      const fallback = listing.defaults[type];
      if (fallback === null) throw redirectUrlError(NO_DEFAULT_REDIRECT_URL[type]);
      return fallback;
    }
    // Exact string match, as Stytch: no normalization, so www. and the bare host, a trailing slash
    // or another query string are all different URLs.
    const allowed = listing.redirectUrls.some((entry) => entry.url === given && entry.types.some((setting) => setting.type === type));
    if (!allowed) throw redirectUrlError(INVALID_REDIRECT_URL[type]);
    return given;
  }

  /** Configured URLs first (in configuration order), then stored ones (oldest first), with each type's effective default. */
  async list(): Promise<RedirectUrlListing> {
    const stored = await this.#store.redirectUrls.listRedirectUrls();
    const sources: { entry: RedirectUrl; source: RedirectUrlSource }[] = [
      ...this.#configured.map((entry) => ({ entry, source: 'configuration' as const })),
      ...stored.map(({ url, types }) => ({ entry: { url, types }, source: 'database' as const })),
    ];
    if (sources.length === 0) sources.push({ entry: { url: BUILT_IN_REDIRECT_URL, types: allTypes(true) }, source: 'built_in' });
    const defaults = Object.fromEntries(REDIRECT_URL_TYPES.map((type) => [type, defaultOf(type, sources)])) as Record<RedirectUrlType, string | null>;
    const redirectUrls = sources.map(({ entry, source }): RedirectUrlEntry => ({
      url: entry.url,
      source,
      types: entry.types.map(({ type }) => ({ type, isDefault: defaults[type] === entry.url })),
    }));
    return { redirectUrls, defaults };
  }

  /**
   * Adds the URL to the database, or replaces its types if it is stored already. A type marked
   * default becomes that type's default (taking it from the URL that had it). Configured URLs
   * cannot be added: they are edited where they are configured.
   */
  async save(context: OperationContext, change: RedirectUrl): Promise<{ created: boolean; listing: RedirectUrlListing }> {
    checkAllowedRedirectUrl(change.url);
    const types = checkTypes(change.types);
    this.#refuseConfigured(change.url);
    const created = await this.#write(async (tx, at) => {
      const previous = await tx.redirectUrls.findRedirectUrl(change.url);
      await tx.redirectUrls.saveRedirectUrl(change.url, types, at);
      await this.#audit.record(tx.audit, context, {
        type: previous === undefined ? 'redirect_url.added' : 'redirect_url.updated',
        organizationId: null,
        occurredAt: at,
        details: { url: change.url, ...describe(types), ...(previous && { previous: describe(previous.types) }) },
      });
      return previous === undefined;
    });
    return { created, listing: await this.list() };
  }

  /** Makes a stored URL the default of `type`, allowing it for `type` first if it was not. */
  async setDefault(context: OperationContext, url: string, type: RedirectUrlType): Promise<RedirectUrlListing> {
    checkTypes([{ type, isDefault: true }]);
    this.#refuseConfigured(url);
    await this.#write(async (tx, at) => {
      const previous = await tx.redirectUrls.findRedirectUrl(url);
      if (previous === undefined) throw redirectUrlError('allowed_redirect_url_not_found');
      const types = checkTypes([...previous.types.filter((setting) => setting.type !== type), { type, isDefault: true }]);
      await tx.redirectUrls.saveRedirectUrl(url, types, at);
      await this.#audit.record(tx.audit, context, {
        type: 'redirect_url.updated',
        organizationId: null,
        occurredAt: at,
        details: { url, ...describe(types), previous: describe(previous.types) },
      });
    });
    return this.list();
  }

  /** Deletes a stored URL; links already sent to it still work (they carry it), new sends may not use it. */
  async remove(context: OperationContext, url: string): Promise<RedirectUrlListing> {
    this.#refuseConfigured(url);
    await this.#write(async (tx, at) => {
      const previous = await tx.redirectUrls.findRedirectUrl(url);
      if (previous === undefined || !(await tx.redirectUrls.deleteRedirectUrl(url))) throw redirectUrlError('allowed_redirect_url_not_found');
      await this.#audit.record(tx.audit, context, { type: 'redirect_url.removed', organizationId: null, occurredAt: at, details: { url, ...describe(previous.types) } });
    });
    return this.list();
  }

  #refuseConfigured(url: string): void {
    if (this.#configured.some((entry) => entry.url === url)) throw redirectUrlError('allowed_redirect_url_from_configuration');
  }

  /**
   * One transaction with its audit event, edits one after another: two that each move a type's
   * default, or add the same URL, would otherwise collide on the database's unique indexes.
   */
  async #write<T>(work: (tx: Ports, at: string) => Promise<T>): Promise<T> {
    return this.#store.transaction(async (tx) => {
      await tx.redirectUrls.lockForEdit();
      return work(tx, toTimestamp(this.#clock.now()));
    });
  }
}

/** A stored default wins over a configured one; otherwise the first source that has one. */
function defaultOf(type: RedirectUrlType, sources: readonly { entry: RedirectUrl; source: RedirectUrlSource }[]): string | null {
  const isDefault = (entry: RedirectUrl): boolean => entry.types.some((setting) => setting.type === type && setting.isDefault);
  const stored = sources.find(({ entry, source }) => source === 'database' && isDefault(entry));
  const any = stored ?? sources.find(({ entry }) => isDefault(entry));
  return any?.entry.url ?? null;
}

function describe(types: readonly RedirectUrlTypeSetting[]): { types: string[]; default_for: string[] } {
  return { types: types.map((setting) => setting.type), default_for: types.filter((setting) => setting.isDefault).map((setting) => setting.type) };
}
