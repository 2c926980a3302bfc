import type { Project } from './project.js';

export interface ProjectsStore {
  /** The stored project, or undefined before the first start. */
  findProject(): Promise<Project | undefined>;
  /**
   * Holds a database-wide lock until the surrounding transaction ends, so servers starting at once
   * on an empty database agree on one generated project. Call it first in the transaction.
   */
  lockProjects(): Promise<void>;
  /** Stores the project, replacing any other (a server serves one project). */
  replaceProject(project: Project): Promise<void>;
}
