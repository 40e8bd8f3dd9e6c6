/**
 * The local command line: `npm start` runs one whole pipeline on this machine
 * with the state machine `cdk deploy` ships. See README for every command.
 * Each command is a module of `commands/`; this file parses and dispatches.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { type ParseArgsOptionsConfig, parseArgs } from 'node:util';
import { loadConfigFile } from '../../shared/config/load';
import { DigestError } from '../../shared/errors';
import type { LocalCommand } from './commands/command';
import { historyCommand } from './commands/history';
import { publishCommand } from './commands/publish';
import { replayCommand, runCommand } from './commands/run';
import { validateCommand } from './commands/validate';

const COMMANDS: LocalCommand[] = [runCommand, replayCommand, historyCommand, validateCommand, publishCommand];

const COMMON_OPTIONS: ParseArgsOptionsConfig = {
  pipeline: { type: 'string' },
  config: { type: 'string' },
  verbose: { type: 'boolean', default: false },
  help: { type: 'boolean', default: false },
};

const USAGE = [
  'usage: npm run digest -- <command> [options]',
  '',
  'commands:',
  ...COMMANDS.map((c) => `  ${c.synopsis}`),
  '',
  'options:',
  '  --pipeline <id>     which pipeline (default: the first in the config)',
  '  --config <file>     config file (default: $DIGEST_CONFIG_FILE or digest.config.json)',
  "  --verbose           print the functions' structured logs",
  ...COMMANDS.flatMap((c) => (c.optionHelp ?? []).map((line) => `  ${line}`)),
].join('\n');

const DATA_DIR = resolve(process.env.DIGEST_LOCAL_DIR ?? '.local');

async function main(argv: string[]): Promise<number> {
  const name = argv.find((a) => !a.startsWith('-')) ?? 'run';
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    console.error(`error: unknown command "${name}"\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { ...COMMON_OPTIONS, ...command.options },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  // Secrets live in .env locally, never in the config file.
  if (existsSync('.env')) process.loadEnvFile('.env');
  const configFile = String(values.config ?? process.env.DIGEST_CONFIG_FILE ?? 'digest.config.json');
  const config = loadConfigFile(configFile);
  if (!values.verbose) {
    process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
    process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
  }
  return command.run({
    values,
    positionals: positionals.slice(positionals.indexOf(name) + 1),
    config,
    configFile,
    dataDir: DATA_DIR,
    pipelineId: () => {
      const id = typeof values.pipeline === 'string' ? values.pipeline : config.pipelines[0]?.id;
      if (!id || !config.pipelines.some((p) => p.id === id)) {
        throw new DigestError(
          `unknown pipeline "${id}" (configured: ${config.pipelines.map((p) => p.id).join(', ')})`,
        );
      }
      return id;
    },
  });
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    // Known errors (bad config, missing secret) are one clear line; anything else keeps its stack.
    console.error(error instanceof DigestError ? `error: ${error.message}` : error);
    process.exit(1);
  },
);
