/** A rendered message: a subject, a text part and an HTML part. */
export interface RenderedMail {
  subject: string;
  text: string;
  html: string;
}

const htmlEscapes: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export const escapeHtml = (value: string) => value.replace(/[&<>"']/g, (c) => htmlEscapes[c]);

/**
 * Fills {{name}} merge fields. Values are escaped in the HTML part (a contact's name can hold
 * markup), and an unknown field is an error rather than a silent blank in a sent email.
 */
export function renderTemplate(template: { subject: string; text: string; html?: string }, values: Record<string, string>): RenderedMail {
  const fill = (source: string, escape: (v: string) => string) =>
    source.replace(/\{\{\s*([a-zA-Z0-9_.]+)\s*\}\}/g, (_m, name: string) => {
      if (!(name in values)) throw new Error(`the template uses {{${name}}}, which has no value`);
      return escape(values[name]);
    });
  const plain = (v: string) => v.replace(/[\r\n]+/g, ' ');
  const text = fill(template.text, (v) => v);
  return {
    subject: fill(template.subject, plain),
    text,
    html: template.html ? fill(template.html, escapeHtml) : `<p>${escapeHtml(text).replace(/\n\n/g, '</p><p>').replace(/\n/g, '<br>')}</p>`,
  };
}
