import { digestSecret } from '../../crypto/secret-digest.js';
import type { Clock } from '../../platform/clock.js';
import { toTimestamp } from '../../platform/clock.js';
import type { Random } from '../../platform/random.js';
import type { AuditStore } from '../audit/audit-store.js';
import type { AuditRecorder } from '../audit/audit-recorder.js';
import type { Transactional } from '../common/transactional.js';
import type { Project } from './project.js';
import type { ProjectsStore } from './projects-store.js';

export interface BootstrapResult {
  readonly project: Project;
  /** Set only when this call generated the credentials: the one time the secret is known in clear. */
  readonly generatedSecret?: string;
}

/**
 * Makes sure the server has its project. Configured credentials win (their digest replaces any
 * stored one); otherwise the stored project is used; on the very first start a `project-test-<uuid>`
 * and a `secret-test-…` are generated, in Stytch's formats.
 */
export async function bootstrapProject(
  dependencies: { store: Transactional<{ projects: ProjectsStore; audit: AuditStore }>; random: Random; clock: Clock; audit: AuditRecorder },
  configured: { projectId: string; projectSecret: string } | undefined,
): Promise<BootstrapResult> {
  const { store, random, clock, audit } = dependencies;
  return store.transaction(async (tx) => {
    await tx.projects.lockProjects();
    const stored = await tx.projects.findProject();
    const context = { requestId: 'startup', actor: { type: 'system' as const } };
    if (configured !== undefined) {
      const digest = digestSecret(configured.projectSecret);
      if (stored?.projectId === configured.projectId && stored.secretDigest === digest) return { project: stored };
      const project = { projectId: configured.projectId, secretDigest: digest, createdAt: stored?.createdAt ?? toTimestamp(clock.now()) };
      await tx.projects.replaceProject(project);
      await audit.record(tx.audit, context, { type: 'project.created', organizationId: null, details: { project_id: project.projectId, source: 'configuration' } });
      return { project };
    }
    if (stored !== undefined) return { project: stored };
    const projectId = `project-test-${random.uuid()}`;
    const generatedSecret = `secret-test-${random.bytes(30).toString('base64url')}`;
    const project = { projectId, secretDigest: digestSecret(generatedSecret), createdAt: toTimestamp(clock.now()) };
    await tx.projects.replaceProject(project);
    await audit.record(tx.audit, context, { type: 'project.created', organizationId: null, details: { project_id: projectId, source: 'generated' } });
    return { project, generatedSecret };
  });
}
