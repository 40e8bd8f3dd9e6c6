/**
 * The local command line (its entry is cli.ts): `npm start` runs one whole pipeline on this machine
 * with the state machine `cdk deploy` ships. See README for every command.
 * Each command is a module of `commands/`; this file parses and dispatches.
 * Every mistake on the command line, in `.env` or in the config is one line
 * (`error: …`) and a non-zero exit, before anything starts; never a stack
 * trace unless --verbose asks for one.
 */
import { checkedGoogleCredential } from '../../shared/config/google-key';
import { loadConfigFile } from '../../shared/config/load';
import { dataDirFrom, loadDotEnv, parseCommandLine, reportError, UsageError } from './command-line';
import { backfillCommand } from './commands/backfill';
import type { LocalCommand } from './commands/command';
import { daemonCommand } from './commands/daemon';
import { deliverCommand } from './commands/deliver';
import { historyCommand } from './commands/history';
import { locksCommand } from './commands/locks';
import { postsCommand } from './commands/posts';
import { publishCommand } from './commands/publish';
import { findRecordedRun } from './commands/recorded-run';
import { approveCommand, rejectCommand } from './commands/review';
import { replayCommand, runCommand } from './commands/run';
import { runsCommand } from './commands/runs';
import { schedulesCommand } from './commands/schedules';
import { validateCommand } from './commands/validate';

const COMMANDS: LocalCommand[] = [
  runCommand,
  replayCommand,
  historyCommand,
  validateCommand,
  schedulesCommand,
  runsCommand,
  locksCommand,
  publishCommand,
  deliverCommand,
  daemonCommand,
  postsCommand,
  backfillCommand,
  approveCommand,
  rejectCommand,
];

const USAGE = [
  'usage: npm run digest -- <command> [options]',
  '',
  'commands:',
  ...COMMANDS.map((c) => `  ${c.synopsis}`),
  '',
  'options:',
  '  --pipeline <id>     which pipeline (default: the first in the config)',
  '  --config <file>     config file (default: $DIGEST_CONFIG_FILE or digest.config.json)',
  "  --verbose           print the functions' structured logs (and the stack of an unexpected error)",
  ...COMMANDS.flatMap((c) => (c.optionHelp ?? []).map((line) => `  ${line}`)),
].join('\n');

async function main(argv: string[]): Promise<number> {
  const parsed = parseCommandLine(argv, COMMANDS);
  if (parsed === 'help') {
    console.log(USAGE);
    return 0;
  }
  const { command, args } = parsed;
  const { values } = args;
  loadDotEnv('.env');
  // A malformed key is known now; the run would only find out at its Upload step.
  if (process.env.GOOGLE_SERVICE_ACCOUNT_JSON)
    checkedGoogleCredential(process.env.GOOGLE_SERVICE_ACCOUNT_JSON);
  const dataDir = dataDirFrom(process.env);
  const configFile = String(values.config ?? process.env.DIGEST_CONFIG_FILE ?? 'digest.config.json');
  const config = loadConfigFile(configFile);
  const pipelineId = () => {
    const id = typeof values.pipeline === 'string' ? values.pipeline : config.pipelines[0]?.id;
    if (!id || !config.pipelines.some((p) => p.id === id)) {
      throw new UsageError(
        `unknown pipeline "${id}" (configured: ${config.pipelines.map((p) => p.id).join(', ')})`,
      );
    }
    return id;
  };
  // A replay or a resume of a run the ledger never saw would start everything to fail at BeginRun.
  const referenced =
    command.name === 'replay' ? args.positionals[0] : values.resume === true ? values['run-id'] : undefined;
  if (typeof referenced === 'string' && !(await findRecordedRun(dataDir, pipelineId(), referenced))) {
    throw new UsageError(
      `run "${referenced}" of pipeline ${pipelineId()} does not exist in ${dataDir} (see history)`,
    );
  }
  return command.run({ ...args, config, configFile, dataDir, pipelineId });
}

const argv = process.argv.slice(2);
const verbose = argv.includes('--verbose');
for (const event of ['uncaughtException', 'unhandledRejection'] as const) {
  process.on(event, (error: unknown) => {
    reportError(error, verbose);
    process.exit(1);
  });
}
main(argv).then(
  (code) => process.exit(code),
  (error: unknown) => {
    reportError(error, verbose);
    process.exit(error instanceof UsageError ? 2 : 1);
  },
);
