import { DigestError } from '../../../shared/errors';
import { closeRunByOperator, holderState } from '../../../shared/pipeline/close-abandoned-run';
import { STEP_NAMES } from '../../../shared/ports';
import { describeAutoResume, runDurationMs, runLine } from '../report';
import type { CliContext, LocalCommand } from './command';
import { AWS_OPTION_HELP, AWS_OPTIONS, type LedgerAccess, openLedger } from './ledger-access';

async function show(access: LedgerAccess, pipelineId: string, runId: string): Promise<number> {
  const run = await access.ledger.getRun(pipelineId, runId);
  if (!run) {
    console.error(`error: no run ${runId} in pipeline ${pipelineId} (${access.where})`);
    return 1;
  }
  console.log(
    `run ${run.runId}   pipeline ${run.pipelineId}   status ${run.status}   trigger ${run.trigger}`,
  );
  if (run.reason) console.log(`reason: ${run.reason}`);
  const took = runDurationMs(run);
  console.log(
    `started ${run.startedAt}${run.endedAt ? `   ended ${run.endedAt}` : ''}${took === undefined ? '' : `   took ${(took / 1000).toFixed(1)} s`}`,
  );
  if (run.autoResume) console.log(describeAutoResume(run.autoResume));
  for (const step of STEP_NAMES) {
    const record = run.steps[step];
    // Only a pipeline with publisher.review: approve has a review step.
    if (!record && step === 'review') continue;
    if (!record) {
      console.log(`  ${step.padEnd(8)} not run`);
      continue;
    }
    const duration = record.durationMs === undefined ? '' : `${record.durationMs} ms`;
    const counts = Object.entries(record.counts)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ');
    console.log(`  ${step.padEnd(8)} ${record.status.padEnd(9)} ${duration.padEnd(9)} ${counts}`);
    if (record.error) console.log(`           ${record.error.name}: ${record.error.message}`);
    if (record.notes?.reason) console.log(`           ${record.notes.reason}`);
    if (record.notes?.decidedBy) console.log(`           decided by ${record.notes.decidedBy}`);
  }
  const lock = await access.ledger.getLock(pipelineId);
  if (lock?.holder === runId) {
    const state = await holderState(
      { ledger: access.ledger, now: () => new Date(), ...holderCheck(access) },
      lock,
      run,
    );
    console.log(`holds the lock of ${pipelineId}: ${state.description}`);
  }
  return 0;
}

const holderCheck = (access: LedgerAccess) => ({
  ...(access.isHolderGone ? { isHolderGone: access.isHolderGone } : {}),
  ...(access.executionStatus ? { executionStatus: access.executionStatus } : {}),
});

export const runsCommand: LocalCommand = {
  name: 'runs',
  synopsis:
    "runs list | runs show|close <runId>  runs newest first; a run's steps; close a stuck run as failed (refused while its holder lives)",
  optionHelp: [
    '--reason <text>     runs close: the reason recorded (default: closed by an operator)',
    '--force             runs close, locks release: even though the holder looks alive',
    ...AWS_OPTION_HELP,
  ],
  options: {
    reason: { type: 'string' },
    force: { type: 'boolean', default: false },
    limit: { type: 'string', default: '20' },
    ...AWS_OPTIONS,
  },
  positionals: ['action', 'runId?'],
  async run(context: CliContext) {
    const [action, runId] = context.positionals;
    const listing = action === 'list' && !runId;
    if (!listing && ((action !== 'show' && action !== 'close') || !runId)) {
      throw new DigestError(
        'usage: runs list [--limit <n>] | runs show <runId> | runs close <runId> [--reason <text>] [--force] [--aws]',
      );
    }
    const pipelineId = context.pipelineId();
    const access = await openLedger(context);
    try {
      if (listing) {
        for (const run of await access.ledger.listRuns(pipelineId, Number(context.values.limit))) {
          console.log(runLine(run));
        }
        return 0;
      }
      if (!runId) return 1;
      if (action === 'show') return await show(access, pipelineId, runId);
      const result = await closeRunByOperator(
        { ledger: access.ledger, now: () => new Date(), ...holderCheck(access) },
        {
          pipelineId,
          runId,
          force: context.values.force === true,
          ...(typeof context.values.reason === 'string' ? { reason: context.values.reason } : {}),
        },
      );
      if (result.done) console.log(result.message);
      else console.error(`error: ${result.message}`);
      return result.done ? 0 : 1;
    } finally {
      await access.close();
    }
  },
};
