import { randomBytes } from 'node:crypto';
import yauzl from 'yauzl';
import { expect } from 'vitest';
import type { Harness } from './harness.ts';
import { signIn, type BrowserSession } from './sessions.ts';
import { systemActor } from '../../src/audit/audit-log.ts';
import { createPlatformUser } from '../../src/access/users.ts';
import { runOneJob } from '../../src/jobs/worker.ts';
import { jobHandlers } from '../../src/jobs/registry.ts';
import { dispatchDueMail } from '../../src/mail/dispatcher.ts';
import type { MailTransport } from '../../src/mail/transport.ts';
import { destroyExpiredExports } from '../../src/exports/delivery.ts';

export const PLATFORM_PASSWORD = 'platform staff passphrase';

export async function platformUser(h: Harness, role: 'support' | 'csm'): Promise<{ id: string; email: string; session: BrowserSession }> {
  const email = `${role}-${randomBytes(3).toString('hex')}@lethe-platform.example`;
  const user = await createPlatformUser(h.ctx, { email, name: `${role} person`, password: PLATFORM_PASSWORD, platformRole: role }, systemActor);
  return { id: user.id, email, session: await signIn(h, email, PLATFORM_PASSWORD) };
}

/** Runs what a worker would, until nothing is due: jobs, the mail outbox, the expiry of exports. */
export async function work(h: Harness, transport: MailTransport | null = null): Promise<number> {
  let total = 0;
  for (let round = 0; round < 100; round++) {
    let did = 0;
    while (await runOneJob(h.ctx, { handlers: jobHandlers }, 'test-worker')) did++;
    did += await destroyExpiredExports(h.ctx);
    did += await dispatchDueMail(h.ctx, transport);
    total += did;
    if (did === 0) return total;
  }
  throw new Error('work does not settle');
}

/** Every entry of a zip, as text. */
export function unzip(data: Buffer): Promise<Record<string, string>> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(data, { lazyEntries: true }, (error, zip) => {
      if (error || !zip) return reject(error);
      const out: Record<string, string> = {};
      zip.on('entry', (entry: yauzl.Entry) => {
        zip.openReadStream(entry, (e, stream) => {
          if (e || !stream) return reject(e);
          const chunks: Buffer[] = [];
          stream.on('data', (c: Buffer) => chunks.push(c));
          stream.on('end', () => {
            out[entry.fileName] = Buffer.concat(chunks).toString('utf8');
            zip.readEntry();
          });
        });
      });
      zip.on('end', () => resolve(out));
      zip.on('error', reject);
      zip.readEntry();
    });
  });
}

export const linkPattern = /\/exports\/download\/(lx_[A-Za-z0-9_-]{43})/;

export function tokenIn(text: string): string {
  const m = linkPattern.exec(text);
  expect(m, `no download link in: ${text}`).not.toBeNull();
  return m![1];
}

/** The held (unsent) messages to an address, newest last. */
export async function heldMail(h: Harness, to: string) {
  return h.ctx.db.selectFrom('outbox_messages').selectAll().where('to_address', '=', to).orderBy('created_at').orderBy('id').execute();
}

export async function download(h: Harness, token: string) {
  return h.app.inject({ method: 'POST', url: `/exports/download/${token}` });
}

/** Parses CSV text (quoted cells, CRLF) into rows of cells. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') (cell += '"'), i++;
      else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') row.push(cell), (cell = '');
    else if (c === '\r' && text[i + 1] === '\n') {
      row.push(cell), rows.push(row), (row = []), (cell = ''), i++;
    } else cell += c;
  }
  if (cell || row.length) row.push(cell), rows.push(row);
  return rows;
}

export function csvObjects(text: string): Record<string, string>[] {
  const [header, ...rows] = parseCsv(text);
  return rows.map((r) => Object.fromEntries(header.map((h, i) => [h, r[i]])));
}
