import type { Project } from './project.js';

export interface ProjectsStore {
  /** The stored project, or undefined before the first start. */
  findProject(): Promise<Project | undefined>;
  /** Stores the project, replacing any other (a server serves one project). */
  replaceProject(project: Project): Promise<void>;
}
