/**
 * Every marketing email says how to stop them: a template that does not place {{unsubscribeUrl}}
 * itself gets a footer with it (text and HTML). Transactional mail (codes, confirmations) has none.
 */
export function withUnsubscribeFooter<T extends { subject: string; text: string; html?: string }>(template: T): T {
  const placed = /\{\{\s*unsubscribeUrl\s*\}\}/;
  return {
    ...template,
    text: placed.test(template.text) ? template.text : `${template.text}\n\n--\nTo stop receiving these emails: {{unsubscribeUrl}}\n`,
    ...(template.html !== undefined && !placed.test(template.html)
      ? { html: `${template.html}<p style="margin-top:2em;font-size:12px;color:#555">Don’t want these emails? <a href="{{unsubscribeUrl}}">Unsubscribe</a>.</p>` }
      : {}),
  };
}
