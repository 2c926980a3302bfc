/**
 * The console's only stylesheet and script, served from the Understudy process itself (no CDN),
 * as files so the Content-Security-Policy can forbid every inline style and script.
 */
export const CONSOLE_CSS = `
:root { --ink: #1d2330; --muted: #5b6577; --line: #d9dee7; --bg: #f6f7fa; --card: #fff; --accent: #3346d3; --danger: #b42318; --ok: #127a3d; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: var(--bg); }
a { color: var(--accent); }
.skip { position: absolute; left: -10000px; top: .5rem; background: #fff; padding: .25rem .5rem; z-index: 10; }
.skip:focus { left: 1rem; }
a:focus-visible, button:focus-visible, input:focus-visible, select:focus-visible, textarea:focus-visible { outline: 3px solid #8ea0ff; outline-offset: 2px; }
header.top { display: flex; flex-wrap: wrap; gap: 1rem; align-items: center; justify-content: space-between; padding: .75rem 1.5rem; background: var(--ink); color: #fff; }
header.top a { color: #fff; text-decoration: none; margin-right: 1rem; white-space: nowrap; }
header.top nav a[aria-current="page"] { text-decoration: underline; }
header.top nav { display: flex; flex-wrap: wrap; row-gap: .25rem; }
header.top form { display: inline; }
main { max-width: 1100px; margin: 0 auto; padding: 1.5rem; }
h1 { font-size: 1.5rem; margin: 0 0 1rem; }
h2 { font-size: 1.15rem; margin: 1.5rem 0 .5rem; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 1rem 1.25rem; margin-bottom: 1rem; }
table { width: 100%; border-collapse: collapse; background: var(--card); }
th, td { text-align: left; padding: .5rem .6rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-size: .85rem; color: var(--muted); font-weight: 600; }
.table-wrap { overflow-x: auto; border: 1px solid var(--line); border-radius: 8px; margin-bottom: 1rem; }
form.inline { display: flex; flex-wrap: wrap; gap: .5rem; align-items: flex-end; margin-bottom: 1rem; }
label { display: block; font-size: .85rem; color: var(--muted); margin-bottom: .25rem; }
input, select, textarea { font: inherit; padding: .45rem .6rem; border: 1px solid var(--line); border-radius: 6px; min-width: 12rem; background: #fff; }
textarea { width: 100%; min-height: 5rem; }
button, .button { font: inherit; padding: .45rem .9rem; border-radius: 6px; border: 1px solid var(--accent); background: var(--accent); color: #fff; cursor: pointer; text-decoration: none; display: inline-block; }
button.secondary, .button.secondary { background: #fff; color: var(--accent); }
button.danger { background: var(--danger); border-color: var(--danger); }
button[disabled] { opacity: .5; cursor: not-allowed; }
.muted { color: var(--muted); }
.badge { display: inline-block; padding: 0 .45rem; border-radius: 999px; font-size: .8rem; border: 1px solid var(--line); }
.badge.ok { color: var(--ok); border-color: var(--ok); }
.badge.warn { color: var(--danger); border-color: var(--danger); }
.notice { padding: .75rem 1rem; border-radius: 6px; margin-bottom: 1rem; border: 1px solid var(--line); background: #fff; }
.notice.error { border-color: var(--danger); color: var(--danger); }
.notice.success { border-color: var(--ok); color: var(--ok); }
.empty { padding: 1.5rem; text-align: center; color: var(--muted); background: var(--card); border: 1px dashed var(--line); border-radius: 8px; }
.pager { display: flex; gap: 1rem; margin-top: .75rem; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; margin: 0; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; overflow-wrap: anywhere; }
code, .token { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: .9rem; overflow-wrap: anywhere; }
.login { max-width: 26rem; margin: 4rem auto; }
svg.qr { display: block; max-width: 100%; height: auto; }
.login input { width: 100%; }
.stack > * + * { margin-top: .75rem; }
@media (max-width: 640px) { main { padding: 1rem; } input, select { min-width: 0; width: 100%; } td code { white-space: nowrap; overflow-wrap: normal; } }
`;

/** Progressive enhancement only: the console works without it (every action is a link or a form). */
export const CONSOLE_JS = `
const target = document.querySelector('[data-navigate]');
if (target) window.location.assign(target.getAttribute('href'));
document.addEventListener('click', (event) => {
  const button = event.target instanceof Element ? event.target.closest('[data-copy]') : null;
  if (!button) return;
  const source = document.getElementById(button.getAttribute('data-copy'));
  if (!source || !navigator.clipboard) return;
  navigator.clipboard.writeText(source.textContent.trim()).then(() => { button.textContent = 'Copied'; });
});
document.addEventListener('submit', (event) => {
  const form = event.target;
  if (form instanceof HTMLFormElement && form.dataset.confirm && !window.confirm(form.dataset.confirm)) event.preventDefault();
});
`;
