import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { createDynamoDocumentClient } from '../../../shared/adapters/aws-clients';
import { createRunLedger } from '../../../shared/adapters/dynamo-ledger';
import { createScheduledPostStore } from '../../../shared/adapters/dynamo-post-store';
import { createScheduleStateStore } from '../../../shared/adapters/dynamo-schedule-state';
import { scheduledRunId } from '../../../shared/domain/run-id';
import type { StartRunInput } from '../../../shared/pipeline/begin-run';
import { recordMissedRun } from '../../../shared/pipeline/watchdog';
import type { ScheduledPost, ScheduledPostStatus } from '../../../shared/ports';
import { autoResumeTick } from '../daemon/auto-resumes';
import { acquireDaemonLock, progressFile } from '../daemon/daemon-files';
import { type DaemonClock, runDaemonLoop, type Slot } from '../daemon/daemon-loop';
import { daemonSchedules } from '../daemon/daemon-schedules';
import { publishPostLocally } from '../daemon/post-runner';
import { startLocalEnvironment } from '../environment';
import { listenForInterrupt } from '../interrupt';
import { lambdaContext } from '../local-execution';
import { applyEnvironment, type RunProgress, runDigestLocally } from '../runner';
import { attachSharedAws } from '../shared-aws';
import type { CliContext, LocalCommand } from './command';
import { closeInterruptedRun } from './run';

const realClock: DaemonClock = {
  now: () => Date.now(),
  sleep: (ms, signal) => sleep(ms, undefined, { signal }).catch(() => undefined),
};

/** The reason recorded on a slot that passed its grace while no daemon ran. */
export const missedReason = (at: Date) => `missed: the daemon was not running at ${at.toISOString()}`;

const describeSlot = (slot: Slot) =>
  `${slot.schedule.key} at ${slot.time.at.toISOString()} (${slot.time.local}${
    'timeZone' in slot.schedule.rule ? ` ${slot.schedule.rule.timeZone}` : ''
  }${slot.time.dst ? `, ${slot.time.dst}` : ''})`;

/**
 * Fire every enabled schedule of every pipeline on this machine, as
 * EventBridge Scheduler does in AWS (same evaluator, same run ids, same state
 * machine), and publish one-off posts when they are due. Stops on
 * SIGINT/SIGTERM after closing the run under way as `run` does on Ctrl-C.
 */
async function runDaemon(context: CliContext): Promise<number> {
  const { config, dataDir } = context;
  mkdirSync(dataDir, { recursive: true });
  const release = acquireDaemonLock(dataDir);
  // The credentials as given: every run puts sandbox keys into process.env, which must not make the next run "real".
  const secretsEnv = { ...process.env };
  const interrupt = listenForInterrupt();
  let stopLine: string | undefined;
  let aws: Awaited<ReturnType<typeof attachSharedAws>> | undefined;
  try {
    aws = await attachSharedAws(dataDir);
    const client = createDynamoDocumentClient(aws.env);
    const ledger = createRunLedger({ client, tableName: aws.table });
    const posts = createScheduledPostStore({ client, tableName: aws.table });
    const scheduleStates = createScheduleStateStore({ client, tableName: aws.table });
    const schedules = daemonSchedules(config, Date.now());
    console.log(
      `daemon ${process.pid}: ${schedules.length} enabled schedule(s) of ${config.pipelines.length} pipeline(s), data in ${dataDir}`,
    );
    let nextPost: ScheduledPost | undefined;
    let lastPlan = '';

    /** One execution of the state machine, as a schedule or a resume starts it in AWS. */
    const execute = async (input: StartRunInput, runId: string) => {
      let environment: Awaited<ReturnType<typeof startLocalEnvironment>> | undefined;
      try {
        environment = await startLocalEnvironment({ config, dataDir, secretsEnv, now: new Date() });
        const progress: RunProgress = {};
        const result = await runDigestLocally({
          config,
          environment,
          input,
          executionName: randomUUID(),
          signal: interrupt.signal,
          progress,
        });
        const interrupted = interrupt.received();
        if (interrupted) {
          stopLine = await closeInterruptedRun(ledger, progress, interrupted);
          return;
        }
        const record = await ledger.getRun(input.pipelineId, progress.run?.runId ?? runId);
        const status = record?.status ?? result.status;
        const next =
          record?.autoResume?.state === 'scheduled'
            ? `; automatic resume ${record.autoResume.attempt} at ${record.autoResume.at}`
            : '';
        console.log(`run ${runId}: ${status}${record?.reason ? ` (${record.reason})` : ''}${next}`);
      } catch (error) {
        // One run that cannot start (a broken credential) must not stop the other schedules.
        console.error(
          `run ${runId} could not run: ${error instanceof Error ? error.message : String(error)}`,
        );
      } finally {
        await environment?.close();
      }
    };

    const fire = async (slot: Slot) => {
      const { pipelineId, scheduleName } = slot.schedule;
      const runId = scheduledRunId(scheduleName, slot.time.at);
      console.log(`firing ${describeSlot(slot)}: run ${runId}`);
      await execute(
        { pipelineId, trigger: 'schedule', scheduleName, scheduledTime: slot.time.at.toISOString() },
        runId,
      );
    };

    // Automatic resumes FinishRun planned in the ledger, under the same run id (shared/pipeline/auto-resume.ts).
    const resumes = autoResumeTick({
      ledger,
      pipelineIds: config.pipelines.map((p) => p.id),
      now: () => Date.now(),
      signal: interrupt.signal,
      resume: async ({ run, input }) => {
        console.log(
          `resuming run ${run.runId} of ${run.pipelineId} (automatic resume ${run.autoResume?.attempt}, due ${run.autoResume?.at}: ${run.autoResume?.reason})`,
        );
        await execute(input, run.runId);
      },
    });

    // A slot past its grace is a missed run, recorded and notified by the watchdog's own use case.
    const missed = async (slot: Slot) => {
      const { pipelineId, scheduleName } = slot.schedule;
      const runId = scheduledRunId(scheduleName, slot.time.at);
      const pipeline = config.pipelines.find((p) => p.id === pipelineId);
      if (!pipeline) return;
      let environment: Awaited<ReturnType<typeof startLocalEnvironment>> | undefined;
      try {
        // The notify destinations' sandboxes (or real ones with .env) for this one notice, if anyone listens.
        if (pipeline.notify.length > 0) {
          environment = await startLocalEnvironment({ config, dataDir, secretsEnv, now: new Date() });
          applyEnvironment(config, environment);
        }
        const recorded = await recordMissedRun(
          {
            ledger,
            schedules: scheduleStates,
            // Loaded here, not with the CLI: the functions' logger must see the CLI's log level first.
            notify: environment
              ? (await import('../../../shared/runtime/notifier')).notifierFor(
                  lambdaContext('discord-digest-watchdog', 120_000),
                )
              : async () => {},
            now: () => new Date(),
            log: () => {},
          },
          pipeline,
          {
            pipelineId,
            scheduleName,
            runId,
            at: slot.time.at.toISOString(),
            reason: missedReason(slot.time.at),
          },
        );
        console.log(
          `missed ${describeSlot(slot)}: run ${runId} ${recorded ? `recorded missed (${missedReason(slot.time.at)})` : 'has a run already'}`,
        );
      } finally {
        await environment?.close();
      }
    };

    // Only this daemon publishes the directory's posts: one found `publishing` when it starts was left by a crash.
    let firstTick = true;
    const postsTick = async (nowMs: number): Promise<number | undefined> => {
      let next: ScheduledPost | undefined;
      const statuses: ScheduledPostStatus[] = firstTick ? ['pending', 'publishing'] : ['pending'];
      firstTick = false;
      for (const pipeline of config.pipelines) {
        for (const post of await posts.list(pipeline.id, statuses)) {
          if (interrupt.signal.aborted) return undefined;
          if (Date.parse(post.at) > nowMs) {
            if (!next || post.at < next.at) next = post;
            continue;
          }
          console.log(
            `publishing post ${post.postId} of ${post.pipelineId} (due ${post.at}) on ${post.platform}`,
          );
          try {
            const outcome = await publishPostLocally({
              config,
              dataDir,
              secretsEnv,
              post,
              resumeClaimed: post.status === 'publishing',
            });
            console.log(
              `post ${post.postId}: ${outcome.status}${outcome.postUrl ? ` ${outcome.postUrl}` : ''}${outcome.error ? ` (${outcome.error})` : ''}`,
            );
          } catch (error) {
            console.error(
              `post ${post.postId} could not be published: ${error instanceof Error ? error.message : String(error)}`,
            );
          }
        }
      }
      nextPost = next;
      return next ? Date.parse(next.at) : undefined;
    };

    const tick = async (nowMs: number): Promise<number | undefined> => {
      const post = await postsTick(nowMs);
      if (interrupt.signal.aborted) return undefined;
      const resume = await resumes(Date.now());
      const wakeAt = [post, resume].filter((t): t is number => t !== undefined);
      return wakeAt.length > 0 ? Math.min(...wakeAt) : undefined;
    };

    const upcoming = (next: Slot[]) => {
      const lines = next.map((slot) => `next: ${describeSlot(slot)}`);
      if (nextPost)
        lines.push(
          `next post: ${nextPost.pipelineId}/${nextPost.postId} at ${nextPost.at} (${nextPost.localAt} ${nextPost.timeZone})`,
        );
      const plan = lines.join('\n');
      if (plan === lastPlan) return;
      lastPlan = plan;
      console.log(plan || 'next: nothing scheduled');
    };

    await runDaemonLoop({
      schedules,
      progress: progressFile(dataDir),
      clock: realClock,
      hooks: { fire, missed, tick, upcoming },
      signal: interrupt.signal,
    });
    const signal = interrupt.received() ?? 'SIGINT';
    console.error(stopLine ?? `interrupted (${signal}): daemon stopped, no run was under way`);
    return interrupt.exitCode(signal);
  } finally {
    interrupt.release();
    release();
    await aws?.close();
  }
}

export const daemonCommand: LocalCommand = {
  name: 'daemon',
  synopsis:
    'daemon              fire every enabled schedule, due one-off post and automatic resume on this machine until Ctrl-C',
  options: {},
  run: runDaemon,
};
