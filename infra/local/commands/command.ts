import type { ParseArgsOptionsConfig } from 'node:util';
import type { DigestConfig } from '../../../shared/config/schema';

/** The options and positionals one command line gave, after its command name. */
export interface CommandArgs {
  values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  positionals: string[];
}

export interface CliContext extends CommandArgs {
  config: DigestConfig;
  configFile: string;
  /** Where the local S3 objects and DynamoDB ledger live. */
  dataDir: string;
  /** The pipeline named by --pipeline, or the config's first; an unknown id is a one-line error. */
  pipelineId(): string;
}

/**
 * One subcommand of `npm run digest -- <name>`. Each lives in its own module
 * and declares its own options; the CLI adds the common ones (--config,
 * --pipeline, --verbose, --help) and dispatches by name.
 */
export interface LocalCommand {
  name: string;
  /** One line for the usage text, e.g. `replay <runId>   process an earlier run's CSV again`. */
  synopsis: string;
  /** Lines describing this command's own options, for the usage text. */
  optionHelp?: string[];
  options: ParseArgsOptionsConfig;
  /** Names of its positional arguments, e.g. `['runId']` (a trailing `?` marks one optional); none when absent. */
  positionals?: string[];
  /** Its options that take a whole number, with their bounds; the CLI refuses anything else in one line. */
  integerOptions?: Record<string, { min: number; max: number }>;
  run(context: CliContext): Promise<number>;
}
