/**
 * The Deliver step in the synthesized state machine, run locally: the sample
 * config's four destinations each get the run's digest once from its sandbox
 * (Discord's Execute Webhook, a receiver checking the signature, SES v2, S3),
 * a second delivery of the slot sends nothing, and after lost answers only the receiver
 * that drops repeats is sent the digest again.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { synthesizeDefinition } from '../../infra/definition';
import { type LocalEnvironment, startLocalEnvironment } from '../../infra/local/environment';
import { runDigestLocally } from '../../infra/local/runner';
import { createDynamoDocumentClient, createS3Client } from '../../shared/adapters/aws-clients';
import { createDeliveryJournal } from '../../shared/adapters/dynamo-delivery-journal';
import { createObjectStore } from '../../shared/adapters/s3-object-store';
import { loadConfigFile } from '../../shared/config/load';
import { loadDraft } from '../../shared/pipeline/analyze';

const config = loadConfigFile('digest.config.json');
const pipeline = config.pipelines[0];
if (!pipeline) throw new Error('the sample config has no pipeline');
const now = new Date('2026-11-24T08:00:00.000Z');
const definition = synthesizeDefinition(config).definition;
let environment: LocalEnvironment | undefined;

afterEach(async () => {
  await environment?.close();
  environment = undefined;
});

const start = async () => {
  environment = await startLocalEnvironment({ config, secretsEnv: {}, now, seedCount: 40 });
  return environment;
};
const run = (env: LocalEnvironment, extra: Record<string, unknown> = {}) =>
  runDigestLocally({
    config,
    environment: env,
    definition,
    input: {
      pipelineId: pipeline.id,
      trigger: 'schedule',
      scheduleName: 'morning',
      scheduledTime: now.toISOString(),
      ...extra,
    },
  });
/** The digest's messages in the webhook's channel (notifications there are plain content, the digest embeds). */
const digestMessages = (env: LocalEnvironment) =>
  env.sandboxes.discordWebhook?.messages().filter((m) => m.embeds.length > 0) ?? [];

describe('the digest delivered by the Deliver step', () => {
  it('reaches each destination once: Discord embeds, a signed webhook, an email and a markdown file', async () => {
    // Prepare
    const env = await start();

    // Act
    const first = await run(env);
    const runId = first.report?.runId ?? '';
    const again = await run(env);

    // Assess
    expect(first.report?.steps.deliver).toMatchObject({
      status: 'succeeded',
      counts: { destinationsDelivered: 4, destinationsFailed: 0, destinationsUnknown: 0 },
    });
    const store = createObjectStore({ client: createS3Client(env.env), bucket: env.aws.bucket });
    const draft = await loadDraft(store, pipeline.id, runId);
    expect(draft?.parts.length).toBeGreaterThan(0);
    // The heading line: free of the characters each format escapes its own way.
    const heading = draft?.parts[0]?.split('\n')[0] ?? '';
    expect(heading.length).toBeGreaterThan(5);
    // Discord: embeds, in order, with the draft's text.
    const messages = digestMessages(env);
    expect(messages.length).toBeGreaterThan(0);
    expect(messages.flatMap((m) => m.embeds.map((e) => e.description ?? '')).join('\n')).toContain(heading);
    // The webhook receiver verified the HMAC and the timestamp before it accepted the one delivery.
    const deliveries = env.sandboxes.webhook?.deliveries() ?? [];
    expect(deliveries).toHaveLength(1);
    expect(deliveries[0]?.idempotencyKey).toBe(`${runId}#deliver#crm`);
    expect(deliveries[0]?.body).toMatchObject({ runId, parts: draft?.parts });
    expect(env.sandboxes.webhook?.refusals()).toEqual([]);
    // SES: one email, HTML and text, to the configured recipient.
    const emails = env.sandboxes.ses?.sent().filter((e) => e.to.includes('editors@example.com')) ?? [];
    expect(emails).toHaveLength(1);
    expect(emails[0]?.html).toContain('<');
    expect(emails[0]?.text).toContain(heading);
    // The file: markdown under the configured prefix in the bucket.
    const file = await store.getText(`digests/${pipeline.id}/${runId}.md`);
    expect(file).toContain(heading);
    // Scheduler's second delivery of the same slot is a duplicate run: nothing is sent again.
    expect(again.report).toBeUndefined();
    expect(digestMessages(env)).toHaveLength(messages.length);
    expect(env.sandboxes.webhook?.deliveries()).toHaveLength(1);
    expect(env.sandboxes.ses?.sent().filter((e) => e.to.includes('editors@example.com'))).toHaveLength(1);
  });

  it('after lost answers: the webhook is sent again and delivered once; Discord and SES are not sent twice', async () => {
    // Prepare
    const env = await start();
    env.sandboxes.webhook?.faults.add({ kind: 'drop-after-effect', method: 'POST' });
    env.sandboxes.discordWebhook?.faults.add({ kind: 'drop-after-effect', method: 'POST' });
    env.sandboxes.ses?.faults.add({ kind: 'drop-after-effect', method: 'POST' });

    // Act
    const first = await run(env);
    const runId = first.report?.runId ?? '';
    const resumed = await run(env, { runId, resume: true });

    // Assess
    const deliver = first.report?.steps.deliver;
    expect(deliver?.status).toBe('partial');
    expect(deliver?.counts).toMatchObject({ destinationsDelivered: 2, destinationsUnknown: 2 });
    expect(deliver?.notes?.['deliver.team-channel']).toMatch(/^unknown: /);
    expect(deliver?.notes?.['deliver.editors']).toMatch(/^unknown: /);
    expect(first.report?.status).toBe('partial');
    // The receiver acted once; the retry with the same key was answered as a replay.
    expect(env.sandboxes.webhook?.deliveries()).toHaveLength(1);
    expect(env.sandboxes.webhook?.refusals()).toContainEqual({ reason: 'replayed', status: 200 });
    // Discord got the first message (its answer was lost) and nothing after it; SES sent one email.
    expect(digestMessages(env)).toHaveLength(1);
    expect(env.sandboxes.ses?.sent().filter((e) => e.to.includes('editors@example.com'))).toHaveLength(1);
    // A resume does not guess: the unknown ones stay unknown and nothing more is sent.
    expect(resumed.report?.steps.deliver?.counts).toMatchObject({
      destinationsUnknown: 2,
      destinationsAlready: 2,
    });
    expect(digestMessages(env)).toHaveLength(1);
    expect(env.sandboxes.ses?.sent().filter((e) => e.to.includes('editors@example.com'))).toHaveLength(1);
    // Both partial closes raised the same two events: the ops channel (plain content) heard each once.
    const notices = (env.sandboxes.discordWebhook?.messages() ?? [])
      .filter((m) => m.embeds.length === 0)
      .map((m) => m.content);
    expect(notices).toHaveLength(2);
    expect(notices.filter((n) => n.includes(`run partly done (${runId})`))).toHaveLength(1);
    expect(notices.filter((n) => n.includes(`publication outcome unknown (${runId})`))).toHaveLength(1);
    expect(notices.join('\n')).toContain(`npm run digest -- runs show ${runId}`);
    expect(notices.join('\n')).toContain(`npm run digest -- deliver retry ${runId}`);
  });

  it('deliver retry: the operator says an unknown delivery did not arrive, and the next resume sends it', async () => {
    // Prepare
    const env = await start();
    env.sandboxes.ses?.faults.add({ kind: 'drop-after-effect', method: 'POST' });
    const first = await run(env);
    const runId = first.report?.runId ?? '';
    const journal = createDeliveryJournal({
      client: createDynamoDocumentClient(env.env),
      tableName: env.aws.table,
    });

    // Act: what `npm run digest -- deliver retry <runId> editors` does, then the resume.
    const released = await journal.releaseUnknown(pipeline.id, `${runId}#deliver#editors`);
    const again = await journal.releaseUnknown(pipeline.id, `${runId}#deliver#editors`);
    const resumed = await run(env, { runId, resume: true });

    // Assess
    expect(first.report?.steps.deliver?.notes?.['deliver.editors']).toMatch(/^unknown: /);
    expect(released).toBe(true);
    expect(again).toBe(false);
    expect(resumed.report?.steps.deliver?.counts).toMatchObject({
      destinationsDelivered: 1,
      destinationsAlready: 3,
    });
    expect(resumed.report?.status).toBe('succeeded');
  });
});
