import { userInfo } from 'node:os';
import { decideReview, ReviewDecisionError, type ReviewVerdict } from '../../../shared/pipeline/review';
import type { ReviewDecision } from '../../../shared/ports';
import type { CliContext, LocalCommand } from './command';
import { AWS_OPTIONS, openLedger } from './ledger-access';

/** Who decided, as recorded with the decision: `--by`, else the local user's name. */
function decider(context: CliContext): string {
  if (typeof context.values.by === 'string' && context.values.by.trim()) return context.values.by.trim();
  try {
    return userInfo().username;
  } catch {
    return 'operator';
  }
}

function reviewCommand(decision: ReviewDecision): LocalCommand {
  return {
    name: decision,
    synopsis:
      decision === 'approve'
        ? 'approve <runId>      let a run waiting for review publish its draft (publisher.review: approve)'
        : 'reject <runId>       turn a waiting draft down: nothing is published, the run ends partial',
    optionHelp:
      decision === 'approve'
        ? ['--by <name>         approve, reject: who decides (default: your user name)']
        : ['--reason <text>     reject: why, recorded with the run'],
    // --aws and --table are described once, with `runs`.
    options: { by: { type: 'string' }, reason: { type: 'string' }, ...AWS_OPTIONS },
    positionals: ['runId'],
    async run(context) {
      const [runId = ''] = context.positionals;
      const pipelineId = context.pipelineId();
      const access = await openLedger(context);
      try {
        const verdict: ReviewVerdict = {
          pipelineId,
          runId,
          decision,
          by: decider(context),
          ...(typeof context.values.reason === 'string' ? { reason: context.values.reason } : {}),
        };
        console.log(
          await decideReview(
            {
              reviews: access.reviews,
              ledger: access.ledger,
              ...(access.taskCallback ? { callback: access.taskCallback } : {}),
              now: () => new Date(),
            },
            verdict,
          ),
        );
        return 0;
      } catch (error) {
        if (!(error instanceof ReviewDecisionError)) throw error;
        console.error(`error: ${error.message}`);
        return 1;
      } finally {
        await access.close();
      }
    },
  };
}

export const approveCommand = reviewCommand('approve');
export const rejectCommand = reviewCommand('reject');
