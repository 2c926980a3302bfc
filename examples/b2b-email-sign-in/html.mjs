/**
 * HTML built only through this tagged template: every interpolated value is escaped unless it is
 * itself made here, so nothing a visitor or the API sends can become markup.
 */
class SafeHtml {
  constructor(value) {
    this.value = value;
  }

  toString() {
    return this.value;
  }
}

export function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
}

function render(value) {
  if (value === null || value === undefined || value === false) return '';
  if (value instanceof SafeHtml) return value.value;
  if (Array.isArray(value)) return value.map(render).join('');
  return escapeHtml(value);
}

export function html(strings, ...values) {
  let out = strings[0];
  values.forEach((value, index) => {
    out += render(value) + strings[index + 1];
  });
  return new SafeHtml(out);
}

const STYLE = `
body { font: 16px/1.5 system-ui, sans-serif; max-width: 46rem; margin: 2rem auto; padding: 0 1rem; color: #1d2330; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.15rem; margin: 0 0 .5rem; }
section { border: 1px solid #d9dee7; border-radius: 8px; padding: 1rem 1.25rem; margin: 1rem 0; }
label { display: block; font-size: .9rem; color: #5b6577; margin-top: .5rem; }
input { font: inherit; padding: .4rem .5rem; width: 100%; box-sizing: border-box; border: 1px solid #d9dee7; border-radius: 6px; }
button { font: inherit; margin-top: .75rem; padding: .45rem .9rem; border-radius: 6px; border: 1px solid #3346d3; background: #3346d3; color: #fff; cursor: pointer; }
.error { color: #b42318; } .muted { color: #5b6577; } code { overflow-wrap: anywhere; }
table { border-collapse: collapse; width: 100%; font-size: .9rem; } th, td { text-align: left; vertical-align: top; padding: .3rem .4rem; border-bottom: 1px solid #d9dee7; }
fieldset { border: 0; padding: 0; margin: .5rem 0 0; } legend { font-size: .9rem; color: #5b6577; }
label.choice { display: flex; gap: .5rem; align-items: center; color: inherit; } label.choice input { width: auto; }
textarea, select { font: inherit; padding: .4rem .5rem; width: 100%; box-sizing: border-box; border: 1px solid #d9dee7; border-radius: 6px; }
form.inline { display: inline; } form.inline button { margin: 0 .25rem 0 0; padding: .2rem .6rem; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; } dt { color: #5b6577; } dd { margin: 0; overflow-wrap: anywhere; }
`;

/** A whole page. */
export function page(title, body) {
  return html`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${title} · Example B2B app</title><style>${new SafeHtml(STYLE)}</style></head>
<body><h1>${title}</h1>
${body}
<p class="muted"><a href="/">Home</a></p>
</body>
</html>`.value;
}
