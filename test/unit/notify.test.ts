/**
 * Notifications: each event a finished run can raise reaches the notify
 * destinations that listen for it, once per run and event, saying what
 * happened, the run and the one command that helps; a notification that
 * cannot go out never fails the run.
 */
import { describe, expect, it } from 'vitest';
import type { NotifyEvent } from '../../shared/config/schema';
import { finishRun } from '../../shared/pipeline/finish-run';
import { type Notice, sendNotice } from '../../shared/pipeline/notify';
import type { StepInput } from '../../shared/pipeline/run-state';
import type { DeliveryProgress, Destination, DigestMessage } from '../../shared/ports';
import { FakeScheduleStates } from '../support/fake-schedule-state';
import { FakeDeliveryJournal, FakeLedger, silentLog, testPipeline } from '../support/fakes';

const STARTED = '2026-11-24T08:00:01.000Z';

class Inbox implements Destination {
  readonly kind = 'discord' as const;
  readonly received: { key: string; message: DigestMessage }[] = [];
  failNext: Error | undefined;
  constructor(readonly name: string) {}
  async deliver(message: DigestMessage, key: string, progress?: DeliveryProgress) {
    if (this.failNext) {
      const error = this.failNext;
      this.failNext = undefined;
      throw error;
    }
    this.received.push({ key, message });
    await progress?.confirm(0, `m${this.received.length}`);
    return { destination: this.name, id: `m${this.received.length}` };
  }
}

function world(onlyFailures = false) {
  const pipeline = testPipeline({
    maxConsecutiveFailures: 1,
    notify: [
      { kind: 'discord', name: 'ops', webhookUrlSecret: 'OPS_WEBHOOK_URL' },
      {
        kind: 'email',
        name: 'on-call',
        from: 'digest@example.com',
        to: ['oncall@example.com'],
        ...(onlyFailures ? { on: ['run-failed'] } : {}),
      },
    ],
  });
  const inboxes = { ops: new Inbox('ops'), 'on-call': new Inbox('on-call') };
  const journal = new FakeDeliveryJournal();
  const ledger = new FakeLedger();
  const logs: string[] = [];
  const notifyDeps = {
    pipeline,
    journal,
    destinationFor: async (spec: { name: string }) => inboxes[spec.name as keyof typeof inboxes],
    log: silentLog,
  };
  const finish = async (runId: string, steps: StepInput['steps']) => {
    if (!(await ledger.getRun('demo', runId)))
      await ledger.createRun({
        pipelineId: 'demo',
        runId,
        trigger: 'schedule',
        startedAt: STARTED,
        status: 'running',
        steps: {},
      });
    return finishRun(
      {
        ledger,
        schedules: new FakeScheduleStates(),
        maxConsecutiveFailures: 1,
        notify: async (notice: Notice) => {
          await sendNotice(notifyDeps, notice);
        },
        now: () => new Date('2026-11-24T08:05:00Z'),
        log: (message: string) => logs.push(message),
      },
      {
        run: {
          pipelineId: 'demo',
          runId,
          trigger: 'schedule',
          referenceTime: '2026-11-24T08:00:00.000Z',
          startedAt: STARTED,
          dryRun: false,
          scheduleName: 'morning',
          proceed: true,
        },
        steps,
      },
    );
  };
  const events = (inbox: Inbox) => inbox.received.map((r) => r.key.split('#')[1]);
  return { inboxes, finish, events, logs, notifyDeps, journal };
}

const ok = { status: 'succeeded' as const, endedAt: STARTED, counts: {} };
const RUN = 'morning-20261124T0800Z';

describe('notifications from a finished run', () => {
  it('a failed run: one notification per destination, with what happened, the run and the command', async () => {
    // Prepare
    const w = world();

    // Act
    const report = await w.finish(RUN, {
      collect: { Error: 'AuthError', Cause: '{"errorMessage":"bad token"}' },
    });

    // Assess
    expect(report.status).toBe('failed');
    // maxConsecutiveFailures 1: the failure also paused the schedule.
    expect(w.events(w.inboxes.ops)).toEqual(['notify-run-failed', 'notify-schedule-paused']);
    const [failed, paused] = w.inboxes.ops.received.map((r) => r.message);
    expect(failed?.title).toBe(`discord-digest demo: run failed (${RUN})`);
    expect(failed?.parts).toEqual([
      'run failed: collect: AuthError bad token',
      `pipeline demo, run ${RUN}`,
      `what helps: npm run digest -- runs show ${RUN}`,
    ]);
    expect(failed?.createdAt).toBe(STARTED);
    expect(paused?.parts[2]).toBe(
      'what helps: npm run digest -- schedules resume demo/morning --reason "<what was fixed>"',
    );
  });

  it('a retried FinishRun sends nothing twice', async () => {
    // Prepare
    const w = world();
    const steps = { collect: ok, publish: { Error: 'TransientError', Cause: 'x down' } };

    // Act
    await w.finish(RUN, steps);
    await w.finish(RUN, steps);

    // Assess
    expect(w.events(w.inboxes.ops)).toEqual(['notify-run-partial']);
    expect(w.events(w.inboxes['on-call'])).toEqual(['notify-run-partial']);
  });

  it.each([
    [
      'publication-unknown',
      {
        publish: {
          status: 'partial' as const,
          endedAt: STARTED,
          counts: { partsUnknown: 1 },
          notes: { reason: 'x: the post may or may not be published' },
        },
      },
      `npm run digest -- publish confirm ${RUN} <postId>`,
    ],
    [
      'publication-unknown',
      {
        deliver: {
          status: 'partial' as const,
          endedAt: STARTED,
          counts: { destinationsUnknown: 1 },
          notes: { reason: 'discord team: outcome unknown' },
        },
      },
      `npm run digest -- deliver retry ${RUN} <destination>`,
    ],
    [
      'quota-exhausted',
      {
        analyze: {
          status: 'failed' as const,
          endedAt: STARTED,
          counts: {},
          error: { name: 'RateLimitedError', message: 'gemini daily quota exhausted' },
          retryAt: '2026-11-25T08:00:00.000Z',
        },
      },
      `npm run digest -- run --run-id ${RUN} --resume (after 2026-11-25T08:00:00.000Z)`,
    ],
  ] as [NotifyEvent, StepInput['steps'], string][])(
    '%s says so, with the command that helps',
    async (event, steps, command) => {
      // Prepare
      const w = world();

      // Act
      await w.finish(RUN, { collect: ok, ...steps });

      // Assess
      expect(w.events(w.inboxes.ops)).toContain(`notify-${event}`);
      const notice = w.inboxes.ops.received.find((r) => r.key.includes(`notify-${event}`))?.message;
      expect(notice?.parts[2]).toContain(command);
    },
  );

  it('a succeeded run notifies no one; a destination listening only for failures hears only those', async () => {
    // Prepare
    const w = world(true);

    // Act
    await w.finish('run-ok', { collect: ok });
    await w.finish('run-partial', { collect: ok, publish: { Error: 'TransientError', Cause: 'down' } });

    // Assess
    expect(w.events(w.inboxes.ops)).toEqual(['notify-run-partial']);
    expect(w.events(w.inboxes['on-call'])).toEqual([]);
  });

  it('a notification that cannot go out is journalled failed, never fails the run, and goes out on the next try', async () => {
    // Prepare
    const w = world();
    w.inboxes.ops.failNext = new Error('webhook down');
    const steps = { collect: ok, publish: { Error: 'TransientError', Cause: 'down' } };

    // Act
    const report = await w.finish(RUN, steps);
    const again = await w.finish(RUN, steps);

    // Assess
    expect(report.status).toBe('partial');
    expect(again.status).toBe('partial');
    expect(w.events(w.inboxes.ops)).toEqual(['notify-run-partial']);
    expect(w.events(w.inboxes['on-call'])).toEqual(['notify-run-partial']);
  });
});
