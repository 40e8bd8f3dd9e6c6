import type { PipelineConfig } from '../../shared/config/schema';
import { analyzeSheetPosts } from '../../shared/pipeline/analyze';
import { analyzeRunItem } from '../../shared/pipeline/analyze-batch';
import { archiveProcessedRows } from '../../shared/pipeline/archive';
import { collectChannelPosts } from '../../shared/pipeline/collect';
import { finishRun, type RunReport } from '../../shared/pipeline/finish-run';
import { type ItemOutcome, planRunAnalysis } from '../../shared/pipeline/plan-analysis';
import { publishRunDraft } from '../../shared/pipeline/publish';
import type { RunRef, StepInput } from '../../shared/pipeline/run-state';
import { appendNewPostsToSheet } from '../../shared/pipeline/upload';
import { FakeScheduleStates } from './fake-schedule-state';
import {
  FakeAnalyzer,
  type FakeChannel,
  FakeJournal,
  FakeLedger,
  FakeObjectStore,
  FakePublisher,
  FakeSheetStore,
  silentLog,
} from './fakes';

/** A world of fakes shared by consecutive runs, as S3, the sheet and the ledger are in life. */
export class World {
  store = new FakeObjectStore();
  sheet = new FakeSheetStore();
  analyzer = new FakeAnalyzer();
  publisher = new FakePublisher();
  ledger = new FakeLedger();
  journal = new FakeJournal();
  schedules = new FakeScheduleStates();
  constructor(
    public pipeline: PipelineConfig,
    public channel: FakeChannel,
  ) {}
}

export function runRef(runId: string, referenceTime: string, extra: Partial<RunRef> = {}): RunRef {
  return {
    pipelineId: 'demo',
    runId,
    trigger: 'schedule',
    referenceTime,
    startedAt: referenceTime,
    dryRun: false,
    proceed: true,
    ...extra,
  };
}

const STEPS = ['collect', 'upload', 'analyze', 'publish', 'archive'] as const;

/**
 * Run the five steps and FinishRun the way the state machine does: each
 * step's result or caught error lands in `steps`, and every step runs.
 */
export async function runPipeline(world: World, run: RunRef): Promise<RunReport> {
  const input: StepInput = { run, steps: {} };
  const log = silentLog;
  const { pipeline, store, sheet } = world;
  const uses = {
    collect: () =>
      collectChannelPosts({ pipeline, channel: world.channel, store, sheet: async () => sheet, log }, input),
    upload: () => appendNewPostsToSheet({ pipeline, store, sheet, log }, input),
    // The state machine's fan-out, one item after another: plan, each item, then write-back and draft.
    analyze: async () => {
      const plan = await planRunAnalysis({ pipeline, sheet, store, log }, input);
      const items: ItemOutcome[] = [];
      for (const batches of plan.items) {
        try {
          items.push(
            await analyzeRunItem(
              { pipeline, analyzer: world.analyzer, store, log },
              { run, round: plan.round, batches },
            ),
          );
        } catch (error) {
          const { name, message } = error as Error;
          items.push({ batches, status: 'failed', error: name, reason: message });
        }
      }
      return analyzeSheetPosts(
        { pipeline, sheet, analyzer: world.analyzer, store, log },
        { ...input, round: plan.round, items },
      );
    },
    publish: () =>
      publishRunDraft(
        { pipeline, store, journal: world.journal, publisher: async () => world.publisher, log },
        input,
      ),
    archive: () =>
      archiveProcessedRows({ pipeline, store, sheet, now: () => new Date(run.referenceTime), log }, input),
  };
  if (!world.ledger.runs.has(run.runId)) {
    await world.ledger.createRun({ ...run, status: 'running', steps: {} });
  }
  for (const step of STEPS) {
    try {
      input.steps[step] = await uses[step]();
      await world.ledger.recordStep(run.pipelineId, run.runId, step, input.steps[step] as never);
    } catch (error) {
      const e = error as Error;
      input.steps[step] = { Error: e.name, Cause: JSON.stringify({ errorMessage: e.message }) };
    }
  }
  return finishRun(
    {
      ledger: world.ledger,
      schedules: world.schedules,
      maxConsecutiveFailures: pipeline.maxConsecutiveFailures,
      now: () => new Date(run.referenceTime),
      log,
    },
    input,
  );
}
