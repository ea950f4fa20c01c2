import { Command, CommanderError } from 'commander';
import { describeCliError, exitCodes } from './errors.ts';

/** The `lethe` command line before its commands are added: one look for every entry point. */
export function newProgram(): Command {
  return new Command('lethe')
    .description('Lethe: contact-data lifecycle and privacy engine')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
}

/** Runs a program on `argv`, turning every failure into its message on stderr and an exit code. */
export async function runProgram(program: Command, argv: string[]): Promise<number> {
  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCodes.ok;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? exitCodes.ok : exitCodes.usage;
    const { message, exitCode } = describeCliError(error);
    process.stderr.write(message.endsWith('\n') ? message : message + '\n');
    return exitCode;
  }
}
