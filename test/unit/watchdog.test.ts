/**
 * The missed-run watchdog on a fake clock: a slot past its grace with no run
 * becomes one `missed` run and one notification, whatever the number of
 * checks; a slot that ran, or is still within grace, is left alone; a dead
 * letter of a schedule is a missed run too.
 */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../shared/config/load';
import type { PipelineConfig } from '../../shared/config/schema';
import { type Notice, sendNotice } from '../../shared/pipeline/notify';
import { recordDeadLetter, type WatchdogProgress, watchForMissedRuns } from '../../shared/pipeline/watchdog';
import type { DeliveryProgress, DigestMessage } from '../../shared/ports';
import { FakeScheduleStates } from '../support/fake-schedule-state';
import { FakeDeliveryJournal, FakeLedger, silentLog } from '../support/fakes';

const config = parseConfig(
  {
    pipelines: [
      {
        id: 'demo',
        discord: { channelId: '1200000000000000000' },
        sheet: { spreadsheetId: 'sheet-0000000001' },
        schedules: [{ name: 'morning', dailyAt: '09:00', timeZone: 'Europe/Berlin', graceMinutes: 30 }],
        notify: [{ kind: 'discord', name: 'ops', webhookUrlSecret: 'OPS_WEBHOOK_URL' }],
      },
    ],
  },
  'test',
);

class MemoryProgress implements WatchdogProgress {
  readonly checked = new Map<string, number>();
  async checkedUntil(p: string, s: string) {
    return this.checked.get(`${p}/${s}`);
  }
  async setCheckedUntil(p: string, s: string, ms: number) {
    this.checked.set(`${p}/${s}`, ms);
  }
}

function world(startIso: string) {
  let now = new Date(startIso);
  const ledger = new FakeLedger();
  const journal = new FakeDeliveryJournal();
  const received: DigestMessage[] = [];
  const destination = {
    kind: 'discord' as const,
    name: 'ops',
    async deliver(message: DigestMessage, _key: string, progress?: DeliveryProgress) {
      received.push(message);
      await progress?.confirm(0, String(received.length));
      return { destination: 'ops', id: String(received.length) };
    },
  };
  const schedules = new FakeScheduleStates();
  const deps = {
    config,
    ledger,
    schedules,
    progress: new MemoryProgress(),
    notify: (pipeline: PipelineConfig, notice: Notice) =>
      sendNotice({ pipeline, journal, destinationFor: async () => destination, log: silentLog }, notice).then(
        () => undefined,
      ),
    now: () => now,
    log: silentLog,
  };
  const at = (iso: string) => {
    now = new Date(iso);
  };
  return { deps, ledger, schedules, received, at };
}

// 09:00 in Berlin on 24 November is 08:00 UTC.
const SLOT_RUN_ID = 'morning-20261124T0800Z';

describe('the missed-run watchdog', () => {
  it('records a slot with no run after its grace as one missed run, notified once, however often it checks', async () => {
    // Prepare
    const w = world('2026-11-24T07:00:00.000Z');
    await watchForMissedRuns(w.deps); // the first check only marks where checking starts

    // Act
    w.at('2026-11-24T08:20:00.000Z'); // within the 30 minutes' grace
    const early = await watchForMissedRuns(w.deps);
    w.at('2026-11-24T08:45:00.000Z');
    const late = await watchForMissedRuns(w.deps);
    w.at('2026-11-24T09:00:00.000Z');
    const again = await watchForMissedRuns(w.deps);

    // Assess
    expect(early).toEqual([]);
    expect(late.map((m) => m.runId)).toEqual([SLOT_RUN_ID]);
    expect(again).toEqual([]);
    const record = await w.ledger.getRun('demo', SLOT_RUN_ID);
    expect(record).toMatchObject({
      status: 'missed',
      trigger: 'schedule',
      scheduleName: 'morning',
      scheduledTime: '2026-11-24T08:00:00.000Z',
      reason: 'missed: no run started within 30 min of 2026-11-24 09:00 Europe/Berlin',
    });
    // `schedules list` shows it as the schedule's last run; it is no failure of the pipeline.
    expect(await w.schedules.get('demo', 'morning')).toMatchObject({
      lastRun: { runId: SLOT_RUN_ID, status: 'missed' },
      consecutiveFailures: 0,
    });
    expect(w.received).toHaveLength(1);
    expect(w.received[0]?.parts).toEqual([
      `scheduled run morning at 2026-11-24T08:00:00.000Z did not happen: ${record?.reason}`,
      `pipeline demo, run ${SLOT_RUN_ID}`,
      `what helps: npm run digest -- run --run-id ${SLOT_RUN_ID} --resume (runs it late, with its own window)`,
    ]);
  });

  it('leaves a slot that ran alone', async () => {
    // Prepare
    const w = world('2026-11-24T07:00:00.000Z');
    await watchForMissedRuns(w.deps);
    await w.ledger.createRun({
      pipelineId: 'demo',
      runId: SLOT_RUN_ID,
      trigger: 'schedule',
      startedAt: '2026-11-24T08:00:02.000Z',
      status: 'succeeded',
      steps: {},
    });

    // Act
    w.at('2026-11-25T12:00:00.000Z');
    const missed = await watchForMissedRuns(w.deps);

    // Assess: the 24th ran; the 25th's slot (08:00 UTC) passed its grace with no run.
    expect(missed.map((m) => m.runId)).toEqual(['morning-20261125T0800Z']);
    expect((await w.ledger.getRun('demo', SLOT_RUN_ID))?.status).toBe('succeeded');
  });

  it("records a schedule's dead letter as a missed run, once, naming Scheduler's error", async () => {
    // Prepare
    const w = world('2026-11-24T09:10:00.000Z');
    const body = JSON.stringify({
      pipelineId: 'demo',
      trigger: 'schedule',
      scheduleName: 'morning',
      scheduledTime: '2026-11-24T08:00:00Z',
    });

    // Act
    const first = await recordDeadLetter(w.deps, body, 'AccessDenied: not authorized to StartExecution');
    const repeat = await recordDeadLetter(w.deps, body, undefined);

    // Assess
    expect(first?.runId).toBe(SLOT_RUN_ID);
    expect(repeat).toBeUndefined();
    expect(await w.ledger.getRun('demo', SLOT_RUN_ID)).toMatchObject({
      status: 'missed',
      reason:
        'missed: EventBridge Scheduler could not start it (AccessDenied: not authorized to StartExecution)',
    });
    expect(w.received).toHaveLength(1);
  });

  it('a dead letter it cannot read is one error naming the field', async () => {
    // Prepare
    const w = world('2026-11-24T09:10:00.000Z');
    const body = JSON.stringify({ pipelineId: 'demo', trigger: 'schedule', scheduleName: 'morning' });

    // Act
    const recording = recordDeadLetter(w.deps, body, undefined);

    // Assess
    await expect(recording).rejects.toMatchObject({
      name: 'DeadLetterError',
      message: expect.stringMatching(/^dead letter body: scheduledTime: /),
    });
    await expect(recordDeadLetter(w.deps, 'not json', undefined)).rejects.toThrow(
      'dead letter body is not JSON',
    );
  });
});
