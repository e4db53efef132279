// What every subcommand shares: parsing its arguments with node:util parseArgs, --help, and
// failing with a message and exit code instead of a stack trace.
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** A command-line mistake: the message and the usage go to stderr, and the exit code is 2. */
export class UsageError extends Error {}

/** Exit codes: 0 done, 1 the operation failed (connection refused, bind failed), 2 bad arguments. */
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

type Options = NonNullable<ParseArgsConfig['options']>;

/** Parses `args` for a command; `--help`/`-h` prints `usage` and exits 0. */
export function parseCommand(args: string[], options: Options, usage: string): { values: Record<string, string | boolean | undefined>; positionals: string[] } {
  let parsed;
  try {
    parsed = parseArgs({ args, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if ((parsed.values as { help?: boolean }).help) {
    process.stdout.write(`${usage}\n`);
    process.exit(0);
  }
  return { values: parsed.values as Record<string, string | boolean | undefined>, positionals: parsed.positionals };
}

/** A TCP port from the command line: an integer 0-65535 (`allowZero` for listening on any port). */
export function portArgument(text: string | undefined, allowZero: boolean): number {
  if (text === undefined) throw new UsageError('missing port');
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65535 || (!allowZero && port === 0)) throw new UsageError(`port must be an integer from ${allowZero ? 0 : 1} to 65535, got ${JSON.stringify(text)}`);
  return port;
}

/** Reports a failure as `kamaelia-xstate <command>: <CODE> <message>` on stderr and exits 1. */
export function fail(command: string, reason: { code?: string; message: string }): never {
  process.stderr.write(`kamaelia-xstate ${command}: ${reason.code ? `${reason.code} ` : ''}${reason.message}\n`);
  process.exit(EXIT_FAILED);
}
