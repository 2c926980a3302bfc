/**
 * A store that can run work in one transaction (style rule 13). `work` receives ports bound to the
 * transaction; everything it writes commits together or not at all. Services name the ports they
 * need, so each asks for the narrowest store (style rule 4).
 */
export type Transactional<Ports> = Ports & {
  transaction<T>(work: (tx: Ports) => Promise<T>): Promise<T>;
};
