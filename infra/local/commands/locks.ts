import { DigestError } from '../../../shared/errors';
import { releaseLockByOperator } from '../../../shared/pipeline/close-abandoned-run';
import type { CliContext, LocalCommand } from './command';
import { AWS_OPTIONS, openLedger } from './ledger-access';

export const locksCommand: LocalCommand = {
  name: 'locks',
  synopsis: "locks release <pipeline>  free a pipeline's stuck lock (refused while its holder lives)",
  // --force, --aws and --table are described once, with `runs`.
  options: { force: { type: 'boolean', default: false }, ...AWS_OPTIONS },
  positionals: ['action', 'pipeline'],
  async run(context: CliContext) {
    const [action, pipelineId] = context.positionals;
    if (action !== 'release' || !pipelineId) {
      throw new DigestError('usage: locks release <pipeline> [--force] [--aws]');
    }
    if (context.values.aws !== true && !context.config.pipelines.some((p) => p.id === pipelineId)) {
      throw new DigestError(
        `unknown pipeline "${pipelineId}" (configured: ${context.config.pipelines.map((p) => p.id).join(', ')})`,
      );
    }
    const access = await openLedger(context);
    try {
      const result = await releaseLockByOperator(
        {
          ledger: access.ledger,
          now: () => new Date(),
          ...(access.isHolderGone ? { isHolderGone: access.isHolderGone } : {}),
          ...(access.executionStatus ? { executionStatus: access.executionStatus } : {}),
        },
        { pipelineId, force: context.values.force === true },
      );
      if (result.done) console.log(result.message);
      else console.error(`error: ${result.message}`);
      return result.done ? 0 : 1;
    } finally {
      await access.close();
    }
  },
};
