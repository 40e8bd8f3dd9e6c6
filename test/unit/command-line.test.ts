import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  dataDirFrom,
  loadDotEnv,
  parseCommandLine,
  reportError,
  UsageError,
} from '../../infra/local/command-line';
import { historyCommand } from '../../infra/local/commands/history';
import { replayCommand, runCommand } from '../../infra/local/commands/run';
import { validateCommand } from '../../infra/local/commands/validate';
import { ConfigError } from '../../shared/errors';

const COMMANDS = [runCommand, replayCommand, historyCommand, validateCommand];

function usageErrorOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    const message = (error as Error).message;
    expect(message).not.toContain('\n');
    return message;
  }
  throw new Error('expected a UsageError');
}

describe('the command line', () => {
  it('finds the command after options that take a value, and defaults to run', () => {
    // Act
    const validate = parseCommandLine(['--config', 'x.json', 'validate'], COMMANDS);
    const run = parseCommandLine(['--dry-run'], COMMANDS);
    const replay = parseCommandLine(['replay', 'morning-20261123T0800Z'], COMMANDS);

    // Assess
    expect(validate !== 'help' && validate.command.name).toBe('validate');
    expect(run !== 'help' && run.command.name).toBe('run');
    expect(replay !== 'help' && replay.args.positionals).toEqual(['morning-20261123T0800Z']);
  });

  it.each([
    [['bogus'], 'unknown command "bogus" (commands: run, replay, history, validate; see --help)'],
    [['run', '--bogus'], 'unknown option --bogus for "run" (see --help)'],
    [['run', '--dry-run=yes'], 'option --dry-run takes no value'],
    [['history', '--limit', 'abc'], '--limit must be a whole number from 1 to 10000, not "abc"'],
    [['history', '--limit', '0'], '--limit must be a whole number from 1 to 10000, not "0"'],
    [['history', '--limit', '2.5'], '--limit must be a whole number from 1 to 10000, not "2.5"'],
    [['history', '--limit'], 'option --limit needs a value'],
    [['replay'], '"replay" needs <runId>: npm run digest -- replay <runId>'],
    [['replay', 'a', 'b'], '"replay" takes <runId>; unexpected "b"'],
    [['replay', 'no/such'], '<runId> "no/such" is not a run id (1-80 letters, digits, - and _)'],
    [['run', '--resume'], '--resume continues a run: name it with --run-id <id>'],
    [['run', '--run-id', 'x'.repeat(81)], 'is not a run id'],
    [['validate', 'extra'], '"validate" takes no argument; unexpected "extra"'],
  ])('refuses %j in one line', (argv, expected) => {
    // Act
    const message = usageErrorOf(() => parseCommandLine(argv, COMMANDS));

    // Assess
    expect(message).toContain(expected);
  });

  it('answers --help even after an unknown command', () => {
    // Act + Assess
    expect(parseCommandLine(['run', '--help'], COMMANDS)).toBe('help');
    expect(parseCommandLine(['bogus', '--help'], COMMANDS)).toBe('help');
  });
});

describe('.env and the data folder', () => {
  const dir = () => mkdtempSync(join(tmpdir(), 'digest-cl-'));

  it('loads KEY=value lines, comments, export and quoted multi-line values, the shell winning', () => {
    // Prepare
    const file = join(dir(), '.env');
    writeFileSync(file, '# c\nA=1\nexport B="two"\nC="line1\nline2"\n\nD=4\n');
    const env: NodeJS.ProcessEnv = { D: 'shell' };

    // Act
    loadDotEnv(file, env);

    // Assess
    expect(env).toEqual({ A: '1', B: 'two', C: 'line1\nline2', D: 'shell' });
  });

  it('names a malformed line by its number only', () => {
    // Prepare
    const file = join(dir(), '.env');
    writeFileSync(file, 'A=1\nsk-live-secret-value\n');

    // Act
    const message = usageErrorOf(() => loadDotEnv(file, {}));

    // Assess
    expect(message).toBe(`${file} line 2 is not KEY=value`);
  });

  it('refuses an unclosed quote and an unreadable file, and ignores a missing one', () => {
    // Prepare
    const folder = dir();
    const unclosed = join(folder, 'unclosed.env');
    writeFileSync(unclosed, 'A="never closed\nB=2\n');
    mkdirSync(join(folder, 'folder.env'));

    // Act + Assess
    expect(usageErrorOf(() => loadDotEnv(unclosed, {}))).toBe(
      `${unclosed} has a quoted value that is never closed`,
    );
    expect(usageErrorOf(() => loadDotEnv(join(folder, 'folder.env'), {}))).toContain('(it is a folder)');
    expect(() => loadDotEnv(join(folder, 'missing.env'), {})).not.toThrow();
  });

  it('refuses a DIGEST_LOCAL_DIR that is a file, and takes a folder or a path still to create', () => {
    // Prepare
    const folder = dir();
    writeFileSync(join(folder, 'file'), '');

    // Act + Assess
    expect(usageErrorOf(() => dataDirFrom({ DIGEST_LOCAL_DIR: join(folder, 'file') }))).toContain(
      'is not a folder',
    );
    expect(dataDirFrom({ DIGEST_LOCAL_DIR: folder })).toBe(folder);
    expect(dataDirFrom({ DIGEST_LOCAL_DIR: join(folder, 'new') })).toBe(join(folder, 'new'));
  });
});

describe('errors', () => {
  const printed = (error: unknown, verbose: boolean) => {
    const lines: string[] = [];
    reportError(error, verbose, (line) => lines.push(line));
    return lines;
  };

  it('prints an unexpected error on one line, with its stack only when verbose', () => {
    // Prepare
    const error = new TypeError('boom\nsecond line');

    // Act
    const quiet = printed(error, false);
    const verbose = printed(error, true);

    // Assess
    expect(quiet).toEqual(['error: boom']);
    expect(verbose[0]).toBe('error: boom');
    expect(verbose[1]).toContain('TypeError: boom');
  });

  it('prints our own errors as they are, one line per problem, never a stack', () => {
    // Act
    const lines = printed(new ConfigError('invalid config in x:\na: bad\nb: bad'), true);

    // Assess
    expect(lines).toEqual(['error: invalid config in x:\na: bad\nb: bad']);
  });
});
