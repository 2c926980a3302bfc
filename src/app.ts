import type { FastifyInstance } from 'fastify';
import { AuditRecorder } from './domain/audit/audit-recorder.js';
import { MembersService } from './domain/members/members-service.js';
import { OrganizationsService } from './domain/organizations/organizations-service.js';
import type { Project } from './domain/projects/project.js';
import { ProjectAuthenticator } from './http/project-authenticator.js';
import { registerHealthRoutes } from './http/routes/health.js';
import { registerMemberRoutes } from './http/routes/members.js';
import { registerOrganizationRoutes } from './http/routes/organizations.js';
import { createHttpServer } from './http/server.js';
import { systemClock, type Clock } from './platform/clock.js';
import { IdGenerator, environmentOfProject } from './platform/ids.js';
import type { Logger } from './platform/logger.js';
import { cryptoRandom, type Random } from './platform/random.js';
import type { Store } from './storage/store.js';

export interface AppOptions {
  readonly store: Store;
  readonly project: Project;
  readonly logger: Logger;
  readonly bodyLimitBytes: number;
  readonly https?: { readonly key: Buffer; readonly cert: Buffer } | undefined;
  readonly clock?: Clock;
  readonly random?: Random;
}

export interface App {
  readonly http: FastifyInstance;
  readonly services: { readonly organizations: OrganizationsService; readonly members: MembersService };
}

/** The composition root (style rule 4): clock and randomness, then services, then HTTP routes. */
export function createApp(options: AppOptions): App {
  const clock = options.clock ?? systemClock;
  const random = options.random ?? cryptoRandom;
  const ids = new IdGenerator(random, environmentOfProject(options.project.projectId));
  const audit = new AuditRecorder({ ids, clock });
  const organizations = new OrganizationsService({ store: options.store, ids, clock, audit });
  const members = new MembersService({ store: options.store, ids, clock, audit });

  const http = createHttpServer({
    logger: options.logger,
    bodyLimitBytes: options.bodyLimitBytes,
    newRequestId: () => ids.next('request-id'),
    authenticator: new ProjectAuthenticator(options.project),
    https: options.https,
  });
  const projectId = options.project.projectId;
  registerHealthRoutes(http, { ping: () => options.store.ping() });
  registerOrganizationRoutes(http, { organizations, projectId });
  registerMemberRoutes(http, { members, projectId });
  return { http, services: { organizations, members } };
}
