import { sql, type Kysely } from 'kysely';
import type { Project } from '../../domain/projects/project.js';
import type { ProjectsStore } from '../../domain/projects/projects-store.js';
import type { Database } from '../database.js';

export class ProjectsSqlStore implements ProjectsStore {
  readonly #db: Kysely<Database>;
  readonly #dialect: 'sqlite' | 'postgres';

  constructor(db: Kysely<Database>, dialect: 'sqlite' | 'postgres') {
    this.#db = db;
    this.#dialect = dialect;
  }

  async findProject(): Promise<Project | undefined> {
    const row = await this.#db.selectFrom('projects').selectAll().orderBy('created_at').executeTakeFirst();
    return row === undefined ? undefined : { projectId: row.project_id, secretDigest: row.secret_digest, createdAt: row.created_at };
  }

  async lockProjects(): Promise<void> {
    if (this.#dialect === 'postgres') {
      await sql`select pg_advisory_xact_lock(hashtext('understudy.projects'))`.execute(this.#db);
      return;
    }
    // A write that matches no row takes SQLite's write lock now, so the read that follows is current.
    await sql`update projects set project_id = project_id where 1 = 0`.execute(this.#db);
  }

  async replaceProject(project: Project): Promise<void> {
    await this.#db.deleteFrom('projects').where('project_id', '!=', project.projectId).execute();
    // An upsert, not a plain insert: servers starting together on an empty PostgreSQL database all
    // store the configured project, and the later ones must not fail on the first one's row.
    await this.#db
      .insertInto('projects')
      .values({ project_id: project.projectId, secret_digest: project.secretDigest, created_at: project.createdAt })
      .onConflict((conflict) => conflict.column('project_id').doUpdateSet({ secret_digest: project.secretDigest, created_at: project.createdAt }))
      .execute();
  }
}
