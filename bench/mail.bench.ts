import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import nodemailer from 'nodemailer';
import pino from 'pino';
import { loadConfig } from '../src/config.ts';
import { openContext } from '../src/runtime.ts';
import { enqueueMail } from '../src/mail/outbox.ts';
import { dispatchDueMail } from '../src/mail/dispatcher.ts';
import { smtpTransport } from '../src/mail/transport.ts';
import { startSmtpSink } from '../test/support/smtp.ts';
import { figure, type BenchFigure } from './result.ts';

const MESSAGES = Number(process.env.BENCH_MAIL_MESSAGES ?? 3000);
const POOL = 'pool=true&maxConnections=5';

const message = (i: number) => ({
  subject: `Your code ${i}`,
  text: `Hello,\n\nyour code is ${String(100000 + i)}.\n`,
  html: `<p>Hello,</p><p>your code is <b>${String(100000 + i)}</b>.</p>`,
});

/**
 * mail.sent_per_s: the worker's outbox delivery (claim with a lease, send, scrub the address) to a
 * real SMTP server on loopback, over a pooled transport. Baseline: the same messages sent straight
 * through a pooled nodemailer transport to the same server, five at a time (what the pool allows),
 * with no outbox at all.
 */
export async function run(): Promise<BenchFigure[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lethe-bench-mail-'));
  const sink = await startSmtpSink();
  try {
    const direct = nodemailer.createTransport(`${sink.url}?${POOL}`);
    let t = performance.now();
    for (let i = 0; i < MESSAGES; i += 5) {
      await Promise.all(
        Array.from({ length: Math.min(5, MESSAGES - i) }, (_, k) =>
          direct.sendMail({ from: 'lethe@bench.example', to: `person${i + k}@bench.example`, messageId: `<b${i + k}@bench>`, ...message(i + k) }),
        ),
      );
    }
    const baselineSeconds = (performance.now() - t) / 1000;
    direct.close();

    const ctx = await openContext(loadConfig({ LETHE_DATA_DIR: dir, LOG_LEVEL: 'silent', SMTP_URL: `${sink.url}?${POOL}` }), { log: pino({ level: 'silent' }) });
    for (let i = 0; i < MESSAGES; i += 500) {
      await ctx.db.transaction().execute(async (trx) => {
        for (let k = i; k < Math.min(MESSAGES, i + 500); k++) {
          await enqueueMail(ctx, trx, { institutionId: null, category: 'transactional', template: 'bench', to: `person${k}@bench.example`, message: message(k) });
        }
      });
    }
    const transport = smtpTransport(ctx.config.smtpUrl!);
    const before = sink.received.length;
    t = performance.now();
    let sent = 0;
    for (let n; (n = await dispatchDueMail(ctx, transport, 500)) > 0; ) sent += n;
    const productSeconds = (performance.now() - t) / 1000;
    transport.close();
    await ctx.store.close();
    if (sent !== MESSAGES || sink.received.length - before !== MESSAGES) throw new Error(`expected ${MESSAGES} messages, sent ${sent}, received ${sink.received.length - before}`);
    process.stderr.write(`outbox: ${MESSAGES} in ${productSeconds.toFixed(2)} s; direct: ${baselineSeconds.toFixed(2)} s\n`);

    return [
      figure('mail.sent_per_s', MESSAGES / productSeconds, 'messages/s', MESSAGES / baselineSeconds, {
        target: '>= 500 messages/s',
        messages: MESSAGES,
        transport: POOL,
        productDoes: 'outbox: lease one message per transaction, marketing check, SMTP send, scrub address and body after sending',
        baselineIs: 'the same messages sent straight through a pooled nodemailer transport, five at a time, no database',
      }),
    ];
  } finally {
    await sink.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
