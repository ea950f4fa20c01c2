import { SMTPServer } from 'smtp-server';
import { simpleParser, type ParsedMail } from 'mailparser';
import type { AddressInfo } from 'node:net';

export interface ReceivedMail {
  to: string;
  subject: string;
  text: string;
  html: string;
  messageId: string;
}

/** A real SMTP server on a loopback port that keeps what it receives, for asserting on sent mail. */
export async function startSmtpSink(): Promise<{
  url: string;
  received: ReceivedMail[];
  failNext: (n: number) => void;
  /** from now on, messages are read but never answered (nor kept): the sender waits, as on a stalled server */
  hold: () => void;
  /** answers the held messages 451 (not delivered) and accepts again */
  release: () => void;
  /** messages waiting for an answer while held */
  heldCount: () => number;
  close: () => Promise<void>;
}> {
  const received: ReceivedMail[] = [];
  let failures = 0;
  let holding = false;
  const held: ((error: Error) => void)[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, _session, callback) {
      if (holding) {
        stream.resume();
        held.push(callback);
        return;
      }
      if (failures > 0) {
        failures--;
        stream.resume();
        stream.on('end', () => callback(Object.assign(new Error('try again later'), { responseCode: 451 })));
        return;
      }
      simpleParser(stream)
        .then((mail: ParsedMail) => {
          const to = Array.isArray(mail.to) ? mail.to[0]?.text : mail.to?.text;
          received.push({ to: to ?? '', subject: mail.subject ?? '', text: mail.text ?? '', html: typeof mail.html === 'string' ? mail.html : '', messageId: mail.messageId ?? '' });
          callback();
        })
        .catch(callback);
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;
  return {
    url: `smtp://127.0.0.1:${port}`,
    received,
    failNext: (n) => (failures = n),
    hold: () => void (holding = true),
    release: () => {
      holding = false;
      for (const answer of held.splice(0)) answer(Object.assign(new Error('try again later'), { responseCode: 451 }));
    },
    heldCount: () => held.length,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
