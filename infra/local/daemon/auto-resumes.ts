/**
 * Automatic resumes on this machine. In AWS a one-time Scheduler schedule starts each resume FinishRun
 * planned; locally the plan in the ledger is all there is, and the daemon fires it when it is due. Reading
 * the plans from the ledger at every wake-up is what makes a restart safe: a resume that fell due while the
 * daemon was down fires as soon as it is back, and one that has fired is `started` (BeginRun marks it when
 * it takes the run), so it never fires twice.
 */
import { resumeInput } from '../../../shared/pipeline/auto-resume';
import type { StartRunInput } from '../../../shared/pipeline/begin-run';
import type { RunLedger, RunRecord } from '../../../shared/ports';

/** Runs read per pipeline: a plan belongs to a run that ended minutes or hours ago, never to an old one. */
const RECENT_RUNS = 500;

export interface DueResume {
  run: RunRecord;
  /** The input the resume's execution starts with, as the Scheduler schedule would send it. */
  input: StartRunInput;
}

/** Plans that are waiting: the run still failed or partial, the plan not yet taken. */
const waiting = (run: RunRecord) =>
  (run.status === 'failed' || run.status === 'partial') && run.autoResume?.state === 'scheduled';

/** Every plan still waiting, soonest first: what the daemon (or, in AWS, a Scheduler schedule) will fire. */
export async function waitingAutoResumes(
  ledger: Pick<RunLedger, 'listRuns'>,
  pipelineIds: readonly string[],
): Promise<RunRecord[]> {
  const runs: RunRecord[] = [];
  for (const pipelineId of pipelineIds) {
    runs.push(...(await ledger.listRuns(pipelineId, RECENT_RUNS)).filter(waiting));
  }
  return runs.sort((a, b) => (a.autoResume?.at ?? '').localeCompare(b.autoResume?.at ?? ''));
}

/** The resumes due at `nowMs` (oldest first), and when the next one falls due. */
export async function autoResumesDue(
  ledger: Pick<RunLedger, 'listRuns'>,
  pipelineIds: readonly string[],
  nowMs: number,
): Promise<{ due: DueResume[]; nextMs?: number }> {
  const due: DueResume[] = [];
  let nextMs: number | undefined;
  for (const run of await waitingAutoResumes(ledger, pipelineIds)) {
    const plan = run.autoResume;
    if (!plan) continue;
    const at = Date.parse(plan.at);
    if (at <= nowMs) due.push({ run, input: resumeInput(run, plan.attempt) });
    else nextMs = Math.min(nextMs ?? at, at);
  }
  return { due, ...(nextMs === undefined ? {} : { nextMs }) };
}

/**
 * The daemon's tick for automatic resumes: start each due one (one at a time, as the pipeline's lock would
 * have it anyway) and ask to be woken when the next is due. A resume that fails to start is reported and
 * the others go on.
 */
export function autoResumeTick(options: {
  ledger: Pick<RunLedger, 'listRuns'>;
  pipelineIds: readonly string[];
  now: () => number;
  resume(due: DueResume): Promise<void>;
  signal: AbortSignal;
}): (nowMs: number) => Promise<number | undefined> {
  return async (nowMs) => {
    const { due } = await autoResumesDue(options.ledger, options.pipelineIds, nowMs);
    for (const resume of due) {
      if (options.signal.aborted) return undefined;
      await options.resume(resume);
    }
    // Read again: the resumes just run may have planned the next attempt.
    return (await autoResumesDue(options.ledger, options.pipelineIds, options.now())).nextMs;
  };
}
