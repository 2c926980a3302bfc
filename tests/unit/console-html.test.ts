import { describe, expect, it } from 'vitest';
import { escapeHtml, html, SafeHtml } from '../../src/console/html.js';

/** The console's only way to build HTML (src/console/html.ts): every interpolation is escaped unless it is SafeHtml. */
describe('console html template', () => {
  it('escapes & < > " \' as numeric character references', () => {
    expect(escapeHtml(`&<>"'`)).toBe('&#38;&#60;&#62;&#34;&#39;');
    expect(escapeHtml('plain text, ünïcode ✓ and = / ` stay')).toBe('plain text, ünïcode ✓ and = / ` stay');
  });

  it('escapes each interpolation wherever it lands: text, double- and single-quoted attributes', () => {
    const value = `x" onmouseover='alert(1)' <script>&amp;`;
    const rendered = html`<p title="${value}" data-x='${value}'>${value}</p>`.value;
    expect(rendered).toBe(
      '<p title="x&#34; onmouseover=&#39;alert(1)&#39; &#60;script&#62;&#38;amp;" data-x=\'x&#34; onmouseover=&#39;alert(1)&#39; &#60;script&#62;&#38;amp;\'>' +
        'x&#34; onmouseover=&#39;alert(1)&#39; &#60;script&#62;&#38;amp;</p>',
    );
  });

  it('escapes every element of nested arrays and joins them without separators', () => {
    const rendered = html`<ul>${['<a>', ['"b"', ["'c'", '&d']]]}</ul>`.value;
    expect(rendered).toBe('<ul>&#60;a&#62;&#34;b&#34;&#39;c&#39;&#38;d</ul>');
  });

  it('passes SafeHtml through unescaped, also inside arrays, so templates compose', () => {
    const inner = html`<b>${'<i>'}</b>`;
    expect(inner).toBeInstanceOf(SafeHtml);
    expect(html`<p>${inner}</p>`.value).toBe('<p><b>&#60;i&#62;</b></p>');
    expect(html`<ul>${['<x>', '<y>'].map((item) => html`<li>${item}</li>`)}</ul>`.value).toBe('<ul><li>&#60;x&#62;</li><li>&#60;y&#62;</li></ul>');
    expect(`${inner}`).toBe('<b>&#60;i&#62;</b>');
  });

  it('does not trust look-alikes of SafeHtml: a plain object with a value property or a string is escaped', () => {
    const forged = { value: '<script>alert(1)</script>', toString: () => '<script>alert(1)</script>' } as unknown as string;
    expect(html`${forged}`.value).toBe('&#60;script&#62;alert(1)&#60;/script&#62;');
    expect(html`${'<b>already "html"</b>'}`.value).toBe('&#60;b&#62;already &#34;html&#34;&#60;/b&#62;');
  });

  it('renders null, undefined and false as nothing, and numbers and true as text', () => {
    expect(html`[${null}|${undefined}|${false}|${0}|${42}|${true}]`.value).toBe('[|||0|42|true]');
  });

  it('leaves the literal template parts as written', () => {
    expect(html`<a href="/console/x?a=1&b=2">ok</a>`.value).toBe('<a href="/console/x?a=1&b=2">ok</a>');
  });
});
