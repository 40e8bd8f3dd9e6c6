/**
 * Parsing of the local command line, `.env` and the data folder, apart from dispatch (cli-main.ts) so each
 * mistake can be tested in process: every one is a UsageError whose message is one line.
 */
import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { type ParseArgsOptionsConfig, parseArgs, parseEnv } from 'node:util';
import { RUN_ID_PATTERN } from '../../shared/domain/run-id';
import { DigestError } from '../../shared/errors';
import type { CommandArgs, LocalCommand } from './commands/command';

export const COMMON_OPTIONS: ParseArgsOptionsConfig = {
  pipeline: { type: 'string' },
  config: { type: 'string' },
  verbose: { type: 'boolean', default: false },
  help: { type: 'boolean', default: false },
};

/** Whole-number options of commands that do not declare `integerOptions` themselves. */
const INTEGER_OPTIONS: Record<string, { min: number; max: number }> = { limit: { min: 1, max: 10_000 } };
/** Positional arguments of commands that do not declare `positionals` themselves. */
const POSITIONALS: Record<string, string[]> = { replay: ['runId'] };

/** A mistake of the user's: printed as one line, exit 2 for the command line itself, 1 otherwise. */
export class UsageError extends DigestError {
  override name = 'UsageError';
}

const allOptions = (commands: readonly LocalCommand[]): ParseArgsOptionsConfig =>
  Object.assign({}, COMMON_OPTIONS, ...commands.map((c) => c.options));

/** parseArgs' messages carry a paragraph of advice; one line names the mistake. */
function describeParseError(error: Error & { code?: string }, command: string): string {
  const option = /'(--?[^' ]+)/.exec(error.message)?.[1];
  switch (error.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `unknown option ${option ?? ''} for "${command}" (see --help)`;
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      return error.message.includes('argument missing')
        ? `option ${option} needs a value`
        : `option ${option} takes no value`;
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return `"${command}" takes no argument ${/'([^']*)'/.exec(error.message)?.[1] ?? ''}`.trim();
    default:
      return error.message.split('\n')[0] ?? 'invalid command line';
  }
}

/** The command and its arguments, 'help', or a UsageError naming the one mistake. */
export function parseCommandLine(
  argv: string[],
  commands: readonly LocalCommand[],
): { command: LocalCommand; args: CommandArgs } | 'help' {
  // First pass only finds the command's name: options taking a value may come before it.
  const { positionals: loose } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: false,
    options: allOptions(commands),
  });
  const name = loose[0] ?? 'run';
  const command = commands.find((c) => c.name === name);
  if (!command) {
    if (argv.includes('--help') || argv.includes('-h')) return 'help';
    throw new UsageError(
      `unknown command "${name}" (commands: ${commands.map((c) => c.name).join(', ')}; see --help)`,
    );
  }
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { ...COMMON_OPTIONS, ...command.options },
    });
  } catch (error) {
    throw new UsageError(describeParseError(error as Error, name));
  }
  const { values } = parsed;
  if (values.help) return 'help';
  const positionals = parsed.positionals.slice(parsed.positionals.indexOf(name) + 1);
  // A name ending in `?` is optional (`publish retry <runId>` has no <postId>).
  const declared = command.positionals ?? POSITIONALS[name] ?? [];
  const expected = declared.map((p) => p.replace(/\?$/, ''));
  if (positionals.length > expected.length) {
    throw new UsageError(
      `"${name}" takes ${expected.length ? expected.map((p) => `<${p}>`).join(' ') : 'no argument'}; unexpected "${positionals[expected.length]}"`,
    );
  }
  const missing = declared[positionals.length]?.endsWith('?') ? undefined : expected[positionals.length];
  if (missing) {
    // The words given so far, then what the command still takes: `deliver retry <runId> <destination>`.
    const rest = declared
      .slice(positionals.length)
      .map((p) => (p.endsWith('?') ? `[<${p.slice(0, -1)}>]` : `<${p}>`));
    const said = [name, ...positionals].join(' ');
    throw new UsageError(`"${said}" needs <${missing}>: npm run digest -- ${[said, ...rest].join(' ')}`);
  }
  const integers = { ...INTEGER_OPTIONS, ...command.integerOptions };
  for (const [option, { min, max }] of Object.entries(integers)) {
    const value = values[option];
    if (!(option in command.options) || typeof value !== 'string') continue;
    const n = Number(value);
    if (!/^\d+$/.test(value) || n < min || n > max) {
      throw new UsageError(`--${option} must be a whole number from ${min} to ${max}, not "${value}"`);
    }
  }
  // Run ids name S3 prefixes and ledger keys (shared/domain/run-id.ts).
  const runIds = [
    ...(typeof values['run-id'] === 'string' ? [['--run-id', values['run-id']]] : []),
    ...(expected[0] === 'runId' && positionals[0] ? [['<runId>', positionals[0]]] : []),
  ];
  for (const [label, id] of runIds) {
    if (!RUN_ID_PATTERN.test(id ?? '')) {
      throw new UsageError(`${label} "${id}" is not a run id (1-80 letters, digits, - and _)`);
    }
  }
  if (values.resume === true && typeof values['run-id'] !== 'string') {
    throw new UsageError('--resume continues a run: name it with --run-id <id>');
  }
  return { command, args: { values, positionals } };
}

/** `DIGEST_LOCAL_DIR` must be a folder (or not exist yet: it is created). */
export function dataDirFrom(env: NodeJS.ProcessEnv): string {
  const dir = resolve(env.DIGEST_LOCAL_DIR ?? '.local');
  const stat = statSync(dir, { throwIfNoEntry: false });
  if (stat && !stat.isDirectory()) {
    throw new UsageError(`DIGEST_LOCAL_DIR ${dir} is not a folder`);
  }
  return dir;
}

/**
 * Secrets live in `.env` locally, never in the config file. A line that is not `KEY=value` is named by its
 * number only: it may hold a secret. (Node's own loader skips such lines silently.)
 */
export function loadDotEnv(path: string, env: NodeJS.ProcessEnv = process.env): void {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return;
    throw new UsageError(
      `cannot read ${path} (${code === 'EISDIR' ? 'it is a folder' : code === 'EACCES' ? 'permission denied' : (code ?? 'unreadable')})`,
    );
  }
  let quote: string | undefined;
  for (const [i, line] of text.split(/\r?\n/).entries()) {
    if (quote) {
      // Inside a quoted multi-line value (dotenv syntax, which Node's parseEnv follows).
      if (line.includes(quote)) quote = undefined;
      continue;
    }
    if (/^\s*(#.*)?$/.test(line)) continue;
    const match = /^\s*(?:export\s+)?[A-Za-z_][A-Za-z0-9_.-]*\s*=\s*(["'`]?)(.*)$/.exec(line);
    if (!match) throw new UsageError(`${path} line ${i + 1} is not KEY=value`);
    const [, open = '', rest = ''] = match;
    if (open && !rest.includes(open)) quote = open;
  }
  if (quote) throw new UsageError(`${path} has a quoted value that is never closed`);
  for (const [key, value] of Object.entries(parseEnv(text))) env[key] ??= value;
}

/** One line for any error; the stack only with --verbose and only for errors that are not the user's. */
export function reportError(
  error: unknown,
  verbose: boolean,
  print: (line: string) => void = console.error,
): void {
  const message = error instanceof Error ? error.message : String(error);
  // Our own errors may list one problem per line (an invalid config); anything else keeps its first line.
  print(`error: ${error instanceof DigestError ? message.trimEnd() : (message.split('\n')[0] ?? '')}`);
  if (verbose && !(error instanceof DigestError) && error instanceof Error && error.stack) {
    print(error.stack);
  }
}
