import { CliError } from '../cli/errors.ts';
import { passwordSchema } from './institutions.ts';

export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Passwords never come from a flag: flags land in shell history and `ps` output. They come from
 * standard input or from an environment variable, and are checked here so the error names the source.
 */
export async function passwordFromCli(fromStdin: boolean, envVar: string): Promise<string> {
  const source = fromStdin ? 'The password read from standard input' : envVar;
  const password = fromStdin ? (await readStdin()).replace(/\r?\n$/, '') : process.env[envVar];
  if (!password) throw new CliError(`No password given: set ${envVar} or pass --password-stdin and pipe it in.`);
  const checked = passwordSchema.safeParse(password);
  if (!checked.success) throw new CliError(`${source} ${checked.error.issues[0].message}; choose a longer passphrase.`);
  return password;
}
