import { describe, expect, it } from 'vitest';
import { resumeScheduleName } from '../../shared/config/aws-names';
import { parseConfig } from '../../shared/config/load';
import { TransientError } from '../../shared/errors';
import { type BeginRunEvent, beginRun, beginRunEventSchema } from '../../shared/pipeline/begin-run';
import { finishRun } from '../../shared/pipeline/finish-run';
import type { StepInput } from '../../shared/pipeline/run-state';
import type { ResumeScheduler } from '../../shared/ports';
import { FakeScheduleStates } from '../support/fake-schedule-state';
import { FakeLedger } from '../support/fakes';

const NOW = new Date('2026-11-24T08:05:00.000Z');
const RUN_ID = 'morning-20261124T0800Z';

const config = parseConfig(
  {
    pipelines: [
      {
        id: 'demo',
        discord: { channelId: '1200000000000000000' },
        sheet: { spreadsheetId: 'sheet-0000000001' },
        schedules: [{ name: 'morning', dailyAt: '09:00', timeZone: 'Europe/Berlin' }],
      },
    ],
  },
  'test',
);

const outage = { collect: { Error: 'TransientError', Cause: '{"errorMessage":"discord 503"}' } };
const quota = {
  collect: { status: 'succeeded' as const, endedAt: '2026-11-24T08:01:00Z', counts: {} },
  upload: { status: 'succeeded' as const, endedAt: '2026-11-24T08:02:00Z', counts: {} },
  analyze: {
    status: 'failed' as const,
    endedAt: '2026-11-24T08:03:00Z',
    counts: {},
    error: { name: 'RateLimitedError', message: 'gemini daily quota' },
    retryAt: '2026-11-25T08:00:00.000Z',
  },
};
const badKey = { collect: { Error: 'AuthError', Cause: '{"errorMessage":"401"}' } };

/** A Scheduler that keeps what it was given, and answers a name it has seen as CreateSchedule would: done. */
class FakeResumeScheduler implements ResumeScheduler {
  readonly created = new Map<string, Parameters<ResumeScheduler['schedule']>[0]>();
  calls = 0;
  failWith: Error | undefined;
  async schedule(resume: Parameters<ResumeScheduler['schedule']>[0]) {
    this.calls += 1;
    if (this.failWith) throw this.failWith;
    if (!this.created.has(resume.name)) this.created.set(resume.name, resume);
  }
}

function world(backoffMinutes?: number[]) {
  const ledger = new FakeLedger();
  const scheduler = new FakeResumeScheduler();
  const logs: string[] = [];
  const deps = {
    ledger,
    schedules: new FakeScheduleStates(),
    maxConsecutiveFailures: 10,
    autoResume: { backoffMinutes, scheduler },
    now: () => NOW,
    log: (message: string) => logs.push(message),
  };
  const input = (steps: StepInput['steps'], extra: Partial<StepInput['run']> = {}): StepInput => ({
    run: {
      pipelineId: 'demo',
      runId: RUN_ID,
      trigger: 'schedule',
      scheduleName: 'morning',
      referenceTime: '2026-11-24T08:00:00.000Z',
      startedAt: '2026-11-24T08:00:01.000Z',
      dryRun: false,
      proceed: true,
      ...extra,
    },
    steps,
  });
  const begin = (executionName: string, input: Record<string, unknown>): Promise<StepInput> =>
    beginRun(
      {
        config,
        ledger,
        schedules: deps.schedules,
        now: () => NOW,
        lockLeaseMs: 60_000,
        log: deps.log,
      },
      beginRunEventSchema.parse({
        input,
        executionName,
        executionId: `arn:exec:${executionName}`,
      }) satisfies BeginRunEvent,
    );
  return { ledger, scheduler, logs, deps, input, begin };
}

describe('automatic resume, planned by FinishRun', () => {
  it('at the quota reset: recorded on the run and scheduled with the resume input under the same run id', async () => {
    // Prepare
    const w = world();
    await w.begin('e1', {
      pipelineId: 'demo',
      trigger: 'schedule',
      scheduleName: 'morning',
      scheduledTime: '2026-11-24T08:00:00Z',
    });

    // Act
    const report = await finishRun(w.deps, w.input(quota));

    // Assess
    const plan = {
      attempt: 1,
      at: '2026-11-25T08:00:00.000Z',
      reason: 'analyze stopped on a quota that resets at 2026-11-25T08:00:00.000Z',
      state: 'scheduled',
      scheduleName: `digest-resume-demo-${RUN_ID}-1`,
    };
    expect(report.status).toBe('partial');
    expect(report.autoResume).toEqual(plan);
    expect(w.ledger.runs.get(RUN_ID)?.autoResume).toEqual(plan);
    expect([...w.scheduler.created.values()]).toEqual([
      {
        name: `digest-resume-demo-${RUN_ID}-1`,
        at: '2026-11-25T08:00:00.000Z',
        description: `automatic resume 1 of run ${RUN_ID} (demo)`,
        input: {
          pipelineId: 'demo',
          trigger: 'schedule',
          scheduleName: 'morning',
          runId: RUN_ID,
          resume: true,
          autoResumeAttempt: 1,
        },
      },
    ]);
  });

  it('after an outage backs off by the pipeline’s minutes; a retried FinishRun plans the same attempt, once', async () => {
    // Prepare
    const w = world([15, 60]);
    await w.begin('e1', { pipelineId: 'demo', runId: RUN_ID, trigger: 'manual' });

    // Act
    await finishRun(w.deps, w.input(outage, { trigger: 'manual', scheduleName: undefined }));
    await finishRun(w.deps, w.input(outage, { trigger: 'manual', scheduleName: undefined }));

    // Assess
    expect(w.scheduler.calls).toBe(2);
    expect([...w.scheduler.created.keys()]).toEqual([`digest-resume-demo-${RUN_ID}-1`]);
    expect(w.ledger.runs.get(RUN_ID)?.autoResume).toMatchObject({
      attempt: 1,
      at: '2026-11-24T08:20:00.000Z',
    });
  });

  it('never after a cause a retry cannot fix, for a dry run, or when the pipeline turned it off', async () => {
    // Prepare
    const permanent = world();
    const dry = world();
    const off = world([]);

    // Act
    const reports = [
      await finishRun(permanent.deps, permanent.input(badKey)),
      await finishRun(dry.deps, dry.input(outage, { dryRun: true })),
      await finishRun(off.deps, off.input(outage)),
    ];

    // Assess
    expect(reports.map((r) => [r.status, r.autoResume])).toEqual([
      ['failed', undefined],
      ['failed', undefined],
      ['failed', undefined],
    ]);
    expect(permanent.scheduler.calls + dry.scheduler.calls + off.scheduler.calls).toBe(0);
  });

  it('the last attempt plans no further one', async () => {
    // Prepare
    const w = world([5, 10]);

    // Act
    const second = await finishRun(w.deps, w.input(outage, { autoResumeAttempt: 1 }));
    const third = await finishRun(w.deps, w.input(outage, { autoResumeAttempt: 2 }));

    // Assess
    expect(second.autoResume).toMatchObject({ attempt: 2, at: '2026-11-24T08:15:00.000Z' });
    expect(third.autoResume).toBeUndefined();
    expect(w.logs).toContain('no further automatic resume');
  });

  it('a scheduled run’s failure counts once against its schedule, however often its resumes fail again', async () => {
    // Prepare
    const w = world();
    w.deps.maxConsecutiveFailures = 2;

    // Act
    await finishRun(w.deps, w.input(outage));
    const resumes = [
      await finishRun(w.deps, w.input(outage, { autoResumeAttempt: 1 })),
      await finishRun(w.deps, w.input(outage, { autoResumeAttempt: 2 })),
    ];

    // Assess
    const state = await w.deps.schedules.get('demo', 'morning');
    expect(state).toMatchObject({ state: 'enabled', consecutiveFailures: 1 });
    expect(resumes.map((r) => r.schedulePaused)).toEqual([undefined, undefined]);
  });

  it('a schedule that cannot be created is written on the plan; the run stays closed', async () => {
    // Prepare
    const w = world();
    await w.begin('e1', { pipelineId: 'demo', runId: RUN_ID, trigger: 'manual' });
    w.scheduler.failWith = new TransientError('scheduler CreateSchedule failed: ThrottlingException');

    // Act
    const report = await finishRun(w.deps, w.input(outage));

    // Assess
    expect(report.status).toBe('failed');
    expect(w.ledger.runs.get(RUN_ID)).toMatchObject({
      status: 'failed',
      autoResume: {
        attempt: 1,
        error: 'TransientError: scheduler CreateSchedule failed: ThrottlingException',
      },
    });
    expect(w.ledger.lock).toBeUndefined();
  });
});

describe('automatic resume, taken by BeginRun', () => {
  const resume = { pipelineId: 'demo', trigger: 'manual', runId: RUN_ID, resume: true, autoResumeAttempt: 1 };

  async function failedRunWithPlan() {
    const w = world();
    await w.begin('e1', { pipelineId: 'demo', runId: RUN_ID, trigger: 'manual' });
    await finishRun(w.deps, w.input(outage, { trigger: 'manual', scheduleName: undefined }));
    return w;
  }

  it('runs the resume under the same run id, once, and marks its plan started', async () => {
    // Prepare
    const w = await failedRunWithPlan();

    // Act
    const first = await w.begin('resume-a', resume);
    const second = await w.begin('resume-b', resume);

    // Assess: the second delivery finds the run running and only leaves a duplicate record.
    expect(first.run).toMatchObject({ runId: RUN_ID, proceed: true, autoResumeAttempt: 1 });
    expect(second.run.proceed).toBe(false);
    expect(w.ledger.runs.get(RUN_ID)).toMatchObject({
      status: 'running',
      executionId: 'arn:exec:resume-a',
      autoResume: { state: 'started' },
    });
    expect([...w.ledger.runs.values()].map((r) => r.status).sort()).toEqual(['duplicate', 'running']);
  });

  it('a retried BeginRun of the resume goes on as that attempt, so FinishRun plans the next one', async () => {
    // Prepare
    const w = await failedRunWithPlan();
    await w.begin('resume-a', resume);

    // Act
    const retried = await w.begin('resume-a', resume);

    // Assess
    expect(retried.run).toMatchObject({ runId: RUN_ID, proceed: true, autoResumeAttempt: 1 });
  });

  it('a resume of a run that succeeded in the meantime does nothing and is recorded', async () => {
    // Prepare
    const w = await failedRunWithPlan();
    await w.ledger.finishRun('demo', RUN_ID, { status: 'succeeded', endedAt: NOW.toISOString() });

    // Act
    const out = await w.begin('resume-a', resume);

    // Assess
    expect(out.run.proceed).toBe(false);
    const duplicate = [...w.ledger.runs.values()].find((r) => r.status === 'duplicate');
    expect(duplicate?.reason).toBe(`run ${RUN_ID} already exists (succeeded)`);
  });

  it('a resume that finds another run holding the lock leaves the run failed, to be resumed later', async () => {
    // Prepare
    const w = await failedRunWithPlan();
    await w.begin('other', { pipelineId: 'demo', runId: 'other-run', trigger: 'manual' });

    // Act
    const out = await w.begin('resume-a', resume);

    // Assess
    expect(out.run.proceed).toBe(false);
    expect(w.ledger.runs.get(RUN_ID)?.status).toBe('failed');
    const refusal = [...w.ledger.runs.values()].find((r) => r.runId.startsWith(`${RUN_ID}-resume-`));
    expect(refusal).toMatchObject({ status: 'skipped' });
    expect(refusal?.reason).toMatch(
      /^resume of run morning-20261124T0800Z skipped: overlapping: run other-run/,
    );
  });
});

describe('the name of a resume schedule', () => {
  it('is the same for one run and attempt, differs between attempts, and fits Scheduler at the longest ids', () => {
    // Prepare: the longest pipeline id (40) and run id (80) the config and run ids allow.
    const pipelineId = 'p'.repeat(40);
    const runId = `${'r'.repeat(79)}x`;

    // Act
    const names = [1, 1, 2].map((attempt) => resumeScheduleName(pipelineId, runId, attempt));

    // Assess
    expect(names[0]).toBe(names[1]);
    expect(names[2]).not.toBe(names[0]);
    for (const name of names) {
      expect(name).toMatch(/^digest-resume-[0-9a-zA-Z._-]+$/);
      expect(name.length).toBeLessThanOrEqual(64);
    }
    expect(resumeScheduleName('demo', RUN_ID, 3)).toBe(`digest-resume-demo-${RUN_ID}-3`);
  });
});
