import { describe, expect, it } from 'vitest';
import type { Project } from '../../../src/domain/projects/project.js';
import type { StoreFactory } from '../../support/stores.js';
import { useFreshStore } from './contract-support.js';

const FIRST: Project = { projectId: 'project-test-00000000-0000-4000-8000-000000000001', secretDigest: 'a'.repeat(64), createdAt: '2026-01-01T00:00:00Z' };
const SECOND: Project = { projectId: 'project-live-00000000-0000-4000-8000-000000000002', secretDigest: 'b'.repeat(64), createdAt: '2026-02-01T00:00:00Z' };

/** The ProjectsStore port (src/domain/projects/projects-store.ts) against one adapter. */
export function describeProjectsStoreContract(factory: StoreFactory): void {
  describe('ProjectsStore', () => {
    const store = useFreshStore(factory);

    describe('findProject', () => {
      it('returns undefined before any project is stored', async () => {
        expect(await store().projects.findProject()).toBeUndefined();
      });
    });

    describe('replaceProject', () => {
      it('stores the project so findProject returns every field', async () => {
        await store().projects.replaceProject(FIRST);
        expect(await store().projects.findProject()).toEqual(FIRST);
      });

      it('replaces the stored project rather than keeping two', async () => {
        await store().projects.replaceProject(FIRST);
        await store().projects.replaceProject(SECOND);
        expect(await store().projects.findProject()).toEqual(SECOND);
        await store().projects.replaceProject({ ...FIRST, createdAt: '2025-01-01T00:00:00Z' });
        expect(await store().projects.findProject()).toEqual({ ...FIRST, createdAt: '2025-01-01T00:00:00Z' });
      });

      it('can store the same project again with a new secret digest', async () => {
        await store().projects.replaceProject(FIRST);
        await store().projects.replaceProject({ ...FIRST, secretDigest: 'c'.repeat(64) });
        expect(await store().projects.findProject()).toEqual({ ...FIRST, secretDigest: 'c'.repeat(64) });
      });
    });
  });
}
