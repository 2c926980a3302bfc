import type { AuditChainHead } from '../../domain/audit/audit-chain.js';
import { describeProblem, type AuditChainVerification } from '../../domain/audit/audit-chain-verifier.js';
import { html, type SafeHtml } from '../html.js';
import { csrfField, notice } from './layout.js';

/** Each chain's head and their digest, a "Verify now" button, and the last verification's outcome when there is one. */
export function auditChainPage(options: { heads: readonly AuditChainHead[]; digest: string; csrf: string; verification?: AuditChainVerification | undefined }): SafeHtml {
  const { heads, digest, csrf, verification } = options;
  return html`${verification === undefined ? '' : verificationNotice(verification)}
<p class="muted">Impersonation events, operators' events and webhook changes are chained: each record carries the hash of the one before it, one chain per organization and one for the project. Verifying recomputes every record; a record edited, deleted or moved in the database shows up as the first broken record of its chain, unless the chain was cut back, rewritten or deleted together with its head: only heads published earlier and kept outside show that. See docs/impersonation.md, "Tamper-evident audit".</p>
<form method="post" action="/console/audit-chain/verify" class="inline">${csrfField(csrf)}<button type="submit">Verify now</button></form>
${
  heads.length === 0
    ? html`<p class="empty">No audit chain has records yet. Chains start with the first impersonation, operator or webhook event.</p>`
    : html`<div class="table-wrap"><table><thead><tr><th scope="col">Chain</th><th scope="col">Records</th><th scope="col">Head hash</th><th scope="col">Last record at</th></tr></thead><tbody>${heads.map(
        (head) => html`<tr><td><code>${head.chainId}</code></td><td>${String(head.seq)}</td><td><code>${head.hash}</code></td><td>${head.updatedAt}</td></tr>`,
      )}</tbody></table></div>`
}
<section class="card"><h2>Digest of every head</h2><p><code>${digest}</code></p>
<p class="muted">SHA-256 of the lines <code>chain:seq:hash</code>, sorted. Keep copies outside this server (published heads go to the log and to the project's webhook endpoints): <code>understudy audit verify --published &lt;file&gt;</code> proves later that the history up to them was not rewritten, cut back or deleted, which this page alone cannot show.</p></section>`;
}

function verificationNotice(verification: AuditChainVerification): SafeHtml {
  const chains = `${verification.chains.length} chain${verification.chains.length === 1 ? '' : 's'}`;
  if (verification.valid) return notice('success', `Valid: ${verification.checkedRecords} records checked in ${chains}.`);
  return html`${notice('error', `Broken: ${verification.broken === null ? '' : describeProblem(verification.broken)}.`)}
${
  verification.problems.length > 1
    ? html`<section class="card"><h2>Every broken chain</h2><ul>${verification.problems.map((broken) => html`<li>${describeProblem(broken)}</li>`)}</ul></section>`
    : ''
}`;
}
