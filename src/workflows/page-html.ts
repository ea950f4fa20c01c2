import { escapeHtml } from '../mail/template.ts';

export interface PageContent {
  title: string;
  paragraphs: string[];
  /** a POST form; with `checkbox`, one required box to tick (consent), without it just the button (unsubscribe) */
  form?: { action: string; checkbox?: string; button: string; error?: string };
}

/** A small self-contained HTML page (inline style, no script, every value escaped). */
export function page(c: PageContent): string {
  const form = c.form
    ? `<form method="post" action="${escapeHtml(c.form.action)}">` +
      (c.form.error ? `<p class="error" role="alert">${escapeHtml(c.form.error)}</p>` : '') +
      (c.form.checkbox ? `<label><input type="checkbox" name="consent" value="yes" required> ${escapeHtml(c.form.checkbox)}</label>` : '') +
      `<button type="submit">${escapeHtml(c.form.button)}</button></form>`
    : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>${escapeHtml(c.title)}</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem;color:#222}
label{display:block;margin:1.5rem 0}button{font:inherit;padding:.5rem 1.25rem}.error{color:#a00}</style></head>
<body><main><h1>${escapeHtml(c.title)}</h1>${c.paragraphs.map((p) => `<p>${escapeHtml(p)}</p>`).join('')}${form}</main></body></html>
`;
}
