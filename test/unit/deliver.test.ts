/**
 * The Deliver step against in-memory ports: each destination once per run,
 * independently; one failing makes the step partial and a resume sends only
 * it; a lost answer is re-sent only where the receiver drops repeats; a dry
 * run delivers nothing.
 */
import { describe, expect, it } from 'vitest';
import type { DestinationConfig } from '../../shared/config/schema';
import { TransientError, UnknownOutcomeError } from '../../shared/errors';
import { draftKeyOf, type StoredDraft } from '../../shared/pipeline/analyze';
import { deliverRunDigest } from '../../shared/pipeline/deliver';
import type { StepInput } from '../../shared/pipeline/run-state';
import type { DeliveryProgress, Destination, DigestMessage } from '../../shared/ports';
import { FakeDeliveryJournal, FakeObjectStore, silentLog, testPipeline } from '../support/fakes';
import { runRef } from '../support/harness';

const T = '2026-11-24T09:00:00.000Z';
const RUN = 'morning-20261124T0800Z';

/** A destination that records what arrived, and fails its calls as told. */
class RecordingDestination implements Destination {
  readonly arrived: { key: string; message: DigestMessage }[] = [];
  /** Errors for the next calls; `afterEffect` lets the message arrive before throwing (a lost answer). */
  faults: { error: Error; afterEffect: boolean }[] = [];
  constructor(
    readonly kind: Destination['kind'],
    readonly name: string,
  ) {}
  async deliver(message: DigestMessage, key: string, progress?: DeliveryProgress) {
    const fault = this.faults.shift();
    if (fault && !fault.afterEffect) throw fault.error;
    this.arrived.push({ key, message });
    await progress?.confirm(progress.confirmed.length, `id-${this.arrived.length}`);
    if (fault) throw fault.error;
    return { destination: this.name, id: `id-${this.arrived.length}` };
  }
}

const specs: DestinationConfig[] = [
  { kind: 'discord', name: 'team', webhookUrlSecret: 'TEAM_WEBHOOK_URL', format: 'embeds' },
  { kind: 'webhook', name: 'crm', urlSecret: 'CRM_URL', signingSecret: 'CRM_SECRET' },
  { kind: 'email', name: 'editors', from: 'digest@example.com', to: ['ed@example.com'] },
  { kind: 'file', name: 'archive', prefix: 'digests' },
];

function world(runOverrides: Partial<ReturnType<typeof runRef>> = {}) {
  const pipeline = testPipeline({ deliver: specs });
  const store = new FakeObjectStore();
  const journal = new FakeDeliveryJournal();
  const destinations = new Map(specs.map((s) => [s.name, new RecordingDestination(s.kind, s.name)]));
  const draft: StoredDraft = {
    runId: RUN,
    createdAt: '2026-11-24T08:01:00.000Z',
    draft: 'Today https://x.com/a/status/1',
    parts: ['Today https://x.com/a/status/1'],
    messageIds: ['1'],
  };
  store.objects.set(draftKeyOf('demo', RUN), JSON.stringify(draft));
  const input: StepInput = {
    run: runRef(RUN, T, runOverrides),
    steps: { analyze: { status: 'succeeded', endedAt: T, counts: {} } },
  };
  const deliver = () =>
    deliverRunDigest(
      {
        pipeline,
        store,
        journal,
        destinationFor: async (spec) => {
          const destination = destinations.get(spec.name);
          if (!destination) throw new Error(`no ${spec.name}`);
          return destination;
        },
        log: silentLog,
      },
      input,
    );
  const arrived = (name: string) => destinations.get(name)?.arrived ?? [];
  return { deliver, destinations, arrived, journal };
}

describe('the Deliver step', () => {
  it('delivers the stored draft to every destination once; a second run of the step sends nothing', async () => {
    // Prepare
    const w = world();

    // Act
    const first = await w.deliver();
    const again = await w.deliver();

    // Assess
    expect(first.status).toBe('succeeded');
    expect(first.counts).toMatchObject({ destinationsDelivered: 4, destinationsFailed: 0 });
    for (const spec of specs) {
      expect(w.arrived(spec.name)).toHaveLength(1);
      expect(w.arrived(spec.name)[0]?.key).toBe(`${RUN}#deliver#${spec.name}`);
      expect(w.arrived(spec.name)[0]?.message).toMatchObject({
        runId: RUN,
        parts: ['Today https://x.com/a/status/1'],
        links: ['https://x.com/a/status/1'],
        createdAt: '2026-11-24T08:01:00.000Z',
      });
    }
    expect(again.status).toBe('succeeded');
    expect(again.counts).toMatchObject({ destinationsDelivered: 0, destinationsAlready: 4 });
  });

  it('one failing destination leaves the others delivered and the step partial; a resume sends only it', async () => {
    // Prepare
    const w = world();
    w.destinations
      .get('crm')
      ?.faults.push({ error: new TransientError('crm answered 503'), afterEffect: false });

    // Act
    const first = await w.deliver();
    const resumed = await w.deliver();

    // Assess
    expect(first.status).toBe('partial');
    expect(first.counts).toMatchObject({ destinationsDelivered: 3, destinationsFailed: 1 });
    expect(first.notes?.reason).toContain('webhook crm failed: TransientError: crm answered 503');
    expect(first.notes?.['deliver.crm']).toContain('failed');
    expect(resumed.status).toBe('succeeded');
    expect(resumed.counts).toMatchObject({ destinationsDelivered: 1, destinationsAlready: 3 });
    for (const spec of specs) expect(w.arrived(spec.name)).toHaveLength(1);
  });

  it('a lost answer: the webhook (it drops repeats) is sent again with the same key, Discord and email are not', async () => {
    // Prepare
    const w = world();
    const lost = () => ({ error: new UnknownOutcomeError('answer lost'), afterEffect: true });
    for (const name of ['team', 'crm', 'editors']) w.destinations.get(name)?.faults.push(lost());

    // Act
    const first = await w.deliver();
    const resumed = await w.deliver();

    // Assess
    expect(first.status).toBe('partial');
    expect(first.counts).toMatchObject({
      destinationsUnknown: 2,
      destinationsFailed: 1,
      destinationsDelivered: 1,
    });
    expect(first.notes?.reason).toContain(`npm run digest -- deliver retry ${RUN} team`);
    expect(resumed.counts).toMatchObject({ destinationsUnknown: 2, destinationsDelivered: 1 });
    expect(w.arrived('team')).toHaveLength(1);
    expect(w.arrived('editors')).toHaveLength(1);
    // The webhook got it twice with one key: the receiver answers the repeat without a second delivery.
    expect(w.arrived('crm').map((a) => a.key)).toEqual([`${RUN}#deliver#crm`, `${RUN}#deliver#crm`]);
  });

  it('an attempt that never confirmed (a crash) is not sent again to Discord: it is marked unknown', async () => {
    // Prepare
    const w = world();
    await w.journal.beginAttempt('demo', `${RUN}#deliver#team`, 'team');

    // Act
    const record = await w.deliver();

    // Assess
    expect(w.arrived('team')).toHaveLength(0);
    expect(record.notes?.['deliver.team']).toMatch(/^unknown: an earlier attempt/);
    expect((await w.journal.get('demo', `${RUN}#deliver#team`))?.status).toBe('unknown');
  });

  it('every destination failing fails the step', async () => {
    // Prepare
    const w = world();
    for (const d of w.destinations.values())
      d.faults.push({ error: new TransientError('down'), afterEffect: false });

    // Act
    const record = await w.deliver();

    // Assess
    expect(record.status).toBe('failed');
    expect(record.error?.name).toBe('DeliveryError');
  });

  it('a dry run delivers nothing and says so', async () => {
    // Prepare
    const w = world({ dryRun: true });

    // Act
    const record = await w.deliver();

    // Assess
    expect(record.status).toBe('skipped');
    expect(record.notes?.reason).toBe(
      'dry run: nothing delivered (would deliver to team, crm, editors, archive)',
    );
    for (const spec of specs) expect(w.arrived(spec.name)).toHaveLength(0);
  });
});
