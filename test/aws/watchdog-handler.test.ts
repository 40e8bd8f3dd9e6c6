/**
 * The watchdog function as Lambda runs it, against embedded dynalite: a batch
 * of the schedules' dead letters records each readable one as a missed run,
 * and hands back the unreadable one (partial batch response) so it stays in
 * the queue; the rate-scheduled call checks every schedule's slots.
 */
import type { SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EmbeddedAws, startEmbeddedAws } from '../../infra/local/embedded-aws';
import { lambdaContext } from '../../infra/local/local-execution';
import { createDynamoDocumentClient } from '../../shared/adapters/aws-clients';
import { createRunLedger } from '../../shared/adapters/dynamo-ledger';
import { CONFIG_ENV } from '../../shared/config/load';

const config = {
  pipelines: [
    {
      id: 'demo',
      discord: { channelId: '1200000000000000000' },
      sheet: { spreadsheetId: 'sheet-0000000001' },
      schedules: [{ name: 'morning', dailyAt: '09:00', timeZone: 'Europe/Berlin' }],
    },
  ],
};

let aws: EmbeddedAws;
let handler: (event: unknown, context: unknown) => Promise<unknown>;
const saved = { ...process.env };

beforeAll(async () => {
  aws = await startEmbeddedAws({});
  // The function reads its config and table once per container, at import: set them first, as Lambda does.
  Object.assign(process.env, aws.env, {
    [CONFIG_ENV]: JSON.stringify(config),
    SECRETS_SOURCE: 'env',
    // No EMF lines in the test output (@aws-lambda-powertools/metrics Metrics.js reads it).
    POWERTOOLS_METRICS_DISABLED: 'true',
  });
  ({ handler } = (await import('../../functions/watchdog/handler')) as unknown as {
    handler: typeof handler;
  });
});
afterAll(async () => {
  process.env = saved;
  await aws?.close();
});

const deadLetter = (messageId: string, body: string) => ({
  messageId,
  receiptHandle: messageId,
  body,
  attributes: {},
  messageAttributes: {},
  md5OfBody: '',
  eventSource: 'aws:sqs',
  eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:ScheduleDeadLetters',
  awsRegion: 'us-east-1',
});

describe('the watchdog function', () => {
  it('records each readable dead letter as a missed run and hands back the one it cannot read', async () => {
    // Prepare
    const event = {
      Records: [
        deadLetter(
          'm-1',
          JSON.stringify({
            pipelineId: 'demo',
            trigger: 'schedule',
            scheduleName: 'morning',
            scheduledTime: '2026-11-24T08:00:00Z',
          }),
        ),
        deadLetter('m-2', '{"pipelineId":"demo"}'),
      ],
    } as unknown as SQSEvent;

    // Act
    const answer = await handler(event, lambdaContext('discord-digest-watchdog', 60_000));

    // Assess
    expect(answer).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-2' }] });
    const ledger = createRunLedger({ client: createDynamoDocumentClient(aws.env), tableName: aws.table });
    expect(await ledger.getRun('demo', 'morning-20261124T0800Z')).toMatchObject({
      status: 'missed',
      scheduledTime: '2026-11-24T08:00:00.000Z',
    });
  });

  it('on its schedule, checks every schedule (the first check only marks where checking starts)', async () => {
    // Act
    const answer = await handler({}, lambdaContext('discord-digest-watchdog', 60_000));

    // Assess
    expect(answer).toEqual({ missed: 0 });
  });
});
