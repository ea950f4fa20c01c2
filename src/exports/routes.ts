import { z } from 'zod';
import type { AppContext } from '../context.ts';
import type { App } from '../http/app.ts';
import { idempotent } from '../http/idempotency.ts';
import { forbidden } from '../http/problem.ts';
import { escapeHtml } from '../mail/template.ts';
import { requireAnyPermission, requireAuth, requirePermission, tenantOf } from '../access/auth.ts';
import { idParams, pageQuery } from '../access/route-schemas.ts';
import { exportKinds, exportStatuses } from '../db/schema.ts';
import {
  createSelfServeExport,
  decideExportRequest,
  decisionBody,
  exportView,
  getExport,
  listExports,
  reissueLink,
  requestBody,
  selfServeBody,
  submitExportRequest,
  toExportView,
} from './exports.ts';
import { claimDownload, LINK_UNKNOWN } from './delivery.ts';
import { hashLinkToken, linkTokenPattern } from './files.ts';
import { exportSettingsPatch, exportSettingsSchema, readExportSettings, updateExportSettings } from './settings.ts';
import { createSubjectAccessExport, subjectAccessBody } from './subject-access.ts';
import { subjectAccessPublicRoutes } from './subject-access-routes.ts';
import { page, sendHtml } from './html-page.ts';

const tags = ['exports'];

export async function exportRoutes(app: App, ctx: AppContext): Promise<void> {
  app.post(
    '/api/exports',
    {
      preValidation: requirePermission(ctx, 'exports.self'),
      schema: {
        tags,
        summary: 'Self-serve export of a filtered set of contacts, a project or a sequence (CSV or JSON in a zip)',
        description:
          'Up to the institution’s self-serve limit (default 2,000 contacts); above it the answer (422) explains how to request a full export. The export is produced by a worker job (progress in `progress`); when it is ready a one-time download link is emailed to you (or call POST /api/exports/{id}/link).',
        body: selfServeBody,
        response: { 202: exportView },
      },
    },
    async (request, reply) =>
      idempotent(ctx, request, reply, async () => {
        const row = await createSelfServeExport(ctx, tenantOf(request), requireAuth(request), request.body);
        return { status: 202, body: await toExportView(ctx.db, row), resourceId: row.id };
      }),
  );

  app.post(
    '/api/export-requests',
    {
      preValidation: requirePermission(ctx, 'exports.request'),
      schema: {
        tags,
        summary: "Request a team's full export, under the export policy",
        description:
          'The requester must be an administrator of the team with an email at one of its domains, and give a reason. Free teams are refused; a scaled team’s request is handled by platform support (the named approver is told); mid-market and enterprise need the team’s CSM to approve before anything is produced. Agency contract data is always refused; a churned team stays eligible until 90 days after its contract end. A refused request is recorded with the rule that refused it (`refusal.rule`).',
        body: requestBody,
        response: { 201: exportView },
      },
    },
    async (request, reply) =>
      idempotent(ctx, request, reply, async () => {
        const row = await submitExportRequest(ctx, tenantOf(request), requireAuth(request), request.body);
        return { status: 201, body: await toExportView(ctx.db, row), resourceId: row.id };
      }),
  );

  const canSee = requireAnyPermission(ctx, 'exports.self', 'exports.request', 'exports.approve');
  app.get(
    '/api/exports',
    {
      preValidation: canSee,
      schema: {
        tags,
        summary: 'Exports: your own, or every export of the institution for those who decide them',
        querystring: z.object({ status: z.enum(exportStatuses).optional(), kind: z.enum(exportKinds).optional(), ...pageQuery }),
        response: { 200: z.object({ items: z.array(exportView), nextCursor: z.string().nullable() }) },
      },
    },
    async (request) => {
      const { items, nextCursor } = await listExports(ctx, tenantOf(request), requireAuth(request), request.query);
      return { items: await Promise.all(items.map((r) => toExportView(ctx.db, r))), nextCursor };
    },
  );

  app.get(
    '/api/exports/:id',
    { preValidation: canSee, schema: { tags, summary: 'An export with its state, progress and refusal rule', params: idParams, response: { 200: exportView } } },
    async (request) => toExportView(ctx.db, await getExport(ctx, tenantOf(request), requireAuth(request), request.params.id)),
  );

  for (const decision of ['approve', 'refuse'] as const) {
    app.post(
      `/api/exports/:id/${decision}`,
      {
        preValidation: requirePermission(ctx, 'exports.approve'),
        schema: {
          tags,
          summary: decision === 'approve' ? 'Approve an export request (support for scaled teams; the assigned CSM for mid-market and enterprise)' : 'Refuse an export request, saying why (note)',
          params: idParams,
          body: decisionBody.nullish(),
          response: { 200: exportView },
        },
      },
      async (request) =>
        toExportView(ctx.db, await decideExportRequest(ctx, tenantOf(request), requireAuth(request), request.params.id, decision, request.body?.note)),
    );
  }

  app.post(
    '/api/exports/:id/link',
    {
      preValidation: requireAnyPermission(ctx, 'exports.self', 'exports.request'),
      schema: {
        tags,
        summary: 'A new one-time download link for your ready export (the emailed one stops working)',
        params: idParams,
        response: { 200: z.object({ url: z.string(), token: z.string(), expiresAt: z.string() }) },
      },
    },
    async (request) => reissueLink(ctx, tenantOf(request), requireAuth(request), request.params.id),
  );

  app.get(
    '/api/export-settings',
    {
      preValidation: requireAnyPermission(ctx, 'exports.self', 'exports.request', 'exports.approve'),
      schema: { tags, summary: "The institution's export settings (self-serve limit, link lifetime, scaled approver)", response: { 200: exportSettingsSchema } },
    },
    async (request) => readExportSettings(ctx.db, tenantOf(request)),
  );

  app.put(
    '/api/export-settings',
    {
      preValidation: requirePermission(ctx, 'exports.approve'),
      schema: { tags, summary: 'Change export settings (platform support only; or `lethe export settings`)', body: exportSettingsPatch, response: { 200: exportSettingsSchema } },
    },
    async (request) => {
      if (requireAuth(request).user.platformRole !== 'support') throw forbidden('Export settings are part of the export policy; platform support changes them (or an operator with `lethe export settings`).');
      return updateExportSettings(ctx.db, tenantOf(request), request.body);
    },
  );

  app.post(
    '/api/contacts/:id/subject-access',
    {
      preValidation: requirePermission(ctx, 'contacts.read', 'exports.approve'),
      schema: {
        tags,
        summary: "Produce a person's copy of all their data (right of access) as an encrypted one-time download",
        description: 'JSON and a readable HTML page in a zip. The one-time link goes to the contact’s email address, or to you with deliverTo "requester".',
        params: idParams,
        body: subjectAccessBody.nullish(),
        response: { 202: exportView },
      },
    },
    async (request, reply) =>
      idempotent(ctx, request, reply, async () => {
        const row = await createSubjectAccessExport(ctx, tenantOf(request), requireAuth(request), request.params.id, request.body?.deliverTo ?? 'contact');
        return { status: 202, body: await toExportView(ctx.db, row), resourceId: row.id };
      }),
  );

  await subjectAccessPublicRoutes(app, ctx);

  // The one-time link. GET only shows a page with a button (mail scanners that follow links must
  // not use up the download); POST delivers the file, once.
  await app.register(async (scope) => {
    scope.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, _body, done) => done(null, {}));
    const tokenParams = z.object({ token: z.string().max(200) });

    scope.get('/exports/download/:token', { schema: { hide: true, params: tokenParams } }, async (request, reply) => {
      const { token } = request.params as { token: string };
      const row = linkTokenPattern.test(token)
        ? await ctx.db.selectFrom('exports').select(['status', 'link_expires_at']).where('token_hash', '=', hashLinkToken(ctx, token)).executeTakeFirst()
        : undefined;
      if (!row) return sendHtml(reply, 404, page('Link not valid', `<p>${escapeHtml(LINK_UNKNOWN)}</p>`));
      if (row.status !== 'ready' || row.link_expires_at! <= ctx.clock.now().toISOString()) {
        return sendHtml(reply, 410, page('Download no longer available', '<p>This link was already used or has expired. An export can be downloaded once; its file is destroyed afterwards.</p>'));
      }
      return sendHtml(
        reply,
        200,
        page(
          'Your export is ready',
          `<p>This link works <strong>once</strong>: after the download the file is destroyed. It expires on ${escapeHtml(row.link_expires_at!)}.</p>` +
            `<form method="post"><button type="submit">Download now</button></form>`,
        ),
      );
    });

    scope.post(
      '/exports/download/:token',
      {
        schema: {
          tags,
          summary: 'Download an export through its one-time link; the file and its key are destroyed after this, and any later request gets 410',
          params: tokenParams,
        },
      },
      async (request, reply) => {
        const { token } = request.params as { token: string };
        const delivery = await claimDownload(ctx, token);
        return reply
          .code(200)
          .header('content-type', 'application/zip')
          .header('content-disposition', `attachment; filename="${delivery.fileName}"`)
          .header('cache-control', 'no-store')
          .header('referrer-policy', 'no-referrer')
          .send(delivery.stream);
      },
    );
  });
}

