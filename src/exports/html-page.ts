import type { FastifyReply } from 'fastify';
import { escapeHtml } from '../mail/template.ts';

/**
 * The few server-rendered pages of exports (the one-time download, the right-of-access request):
 * plain HTML forms, so they work from an email link in any browser without the console's scripts.
 * `body` is HTML the caller has escaped.
 */
export function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="robots" content="noindex"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;line-height:1.5}button{font-size:1rem;padding:.5rem 1rem}label{display:block;margin:1rem 0 .25rem}input{font-size:1rem;padding:.4rem;width:100%;box-sizing:border-box}.error{color:#a40000}</style></head>
<body><h1>${escapeHtml(title)}</h1>${body}</body></html>`;
}

/** Pages that may carry a code or a link: never cached, never leaked through a Referer. */
export function sendHtml(reply: FastifyReply, status: number, html: string) {
  return reply.code(status).header('cache-control', 'no-store').header('referrer-policy', 'no-referrer').type('text/html; charset=utf-8').send(html);
}
