/**
 * A small custom policy, the same in its JSON (wire) form and as a YAML file a user would write:
 * a `documents` resource, an `editor` role over it, and a scope.
 */
export const EDITOR_POLICY = {
  resources: [{ resource_id: 'documents', description: 'Team documents', actions: ['read', 'write', 'delete'] }],
  roles: [{ role_id: 'editor', description: 'Edits documents', permissions: [{ resource_id: 'documents', actions: ['read', 'write'] }] }],
  scopes: [{ scope: 'read:documents', description: 'Read documents', permissions: [{ resource_id: 'documents', actions: ['read'] }] }],
};

/** EDITOR_POLICY as YAML, with a comment and a flow mapping, as people write it by hand. */
export const EDITOR_YAML = `# Documents and who edits them.
resources:
  - resource_id: documents
    description: Team documents
    actions: [read, write, delete]
roles:
  - role_id: editor
    description: Edits documents
    permissions:
      - resource_id: documents
        actions: [read, write]
scopes:
  - scope: read:documents
    description: Read documents
    permissions:
      - { resource_id: documents, actions: [read] }
`;
