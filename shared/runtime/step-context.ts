import type { Context } from 'aws-lambda';
import { createDynamoDocumentClient, createS3Client } from '../adapters/aws-clients';
import { createDeliveryJournal } from '../adapters/dynamo-delivery-journal';
import { createRunLedger } from '../adapters/dynamo-ledger';
import { createPublicationJournal } from '../adapters/dynamo-publication-journal';
import { createScheduleStateStore } from '../adapters/dynamo-schedule-state';
import type { RetryOptions } from '../adapters/retry';
import { createObjectStore } from '../adapters/s3-object-store';
import { loadServiceSecrets } from '../adapters/secrets';
import {
  type Endpoints,
  endpointsFromEnv,
  endpointsSchema,
  runtimeEnvFromEnv,
  runtimeEnvSchema,
  type SecretService,
  type ServiceSecrets,
} from '../config/env';
import { findPipeline, loadRuntimeConfig } from '../config/load';
import type { DigestConfig, PipelineConfig } from '../config/schema';
import { type Log, logInfo } from '../observability/logger';
import type {
  DeliveryJournal,
  ObjectStore,
  PublicationJournal,
  RunLedger,
  ScheduleStateStore,
} from '../ports';

/** Everything a step's use case is wired from, built from the environment the Lambda runs in. */
export interface StepContext {
  config: DigestConfig;
  pipeline: PipelineConfig;
  endpoints: Endpoints;
  store: ObjectStore;
  ledger: RunLedger;
  journal: PublicationJournal;
  /** Each destination's delivery (and each notification) of a run, so none is sent twice. */
  deliveries: DeliveryJournal;
  /** Each schedule's pause state and failure count, in the ledger table. */
  schedules: ScheduleStateStore;
  /** In-process retry bounds: no single wait may outlast the Lambda's remaining time. */
  retry: Partial<RetryOptions>;
  /** Milliseconds this invocation has left before Lambda ends it. */
  remainingMs: () => number;
  /** One service's credentials; the function's role may read only the services its step needs. */
  secrets: <S extends SecretService>(service: S) => Promise<ServiceSecrets<S>>;
  now: () => Date;
  log: Log;
}

/** Time kept back to record the step's outcome and answer the state machine. */
const SAFETY_MARGIN_MS = 15_000;
/** Longer waits are left to the state machine's Retry, which costs nothing while it waits. */
export const MAX_IN_PROCESS_WAIT_MS = 20_000;

export function maxWaitFor(lambda: Pick<Context, 'getRemainingTimeInMillis'>): number {
  return Math.max(0, Math.min(MAX_IN_PROCESS_WAIT_MS, lambda.getRemainingTimeInMillis() - SAFETY_MARGIN_MS));
}

/** The variables the container's part of a context is built from: the same in every invocation in Lambda. */
const CONTAINER_VARIABLES = [
  ...Object.keys(runtimeEnvSchema.shape),
  ...Object.keys(endpointsSchema.shape),
  // What the S3 and DynamoDB clients are made from (shared/adapters/aws-clients.ts).
  'AWS_REGION',
  'AWS_ENDPOINT_URL_S3',
  'AWS_ENDPOINT_URL_DYNAMODB',
  'AWS_ACCESS_KEY_ID',
];

type ContainerPart = Pick<
  StepContext,
  'endpoints' | 'store' | 'ledger' | 'journal' | 'deliveries' | 'schedules'
>;

/**
 * The environment's settings, parsed, and the stores over the container's S3 and DynamoDB clients: built
 * once per container and reused by its warm invocations. Keyed by the variables they come from, so a
 * local run or a test that points the environment elsewhere gets new ones rather than stale ones.
 */
let containerPart: { key: string; part: ContainerPart } | undefined;

function containerPartOf(env: NodeJS.ProcessEnv): ContainerPart {
  const key = JSON.stringify(CONTAINER_VARIABLES.map((name) => env[name] ?? null));
  if (containerPart?.key === key) return containerPart.part;
  const runtime = runtimeEnvFromEnv(env);
  const s3 = createS3Client();
  const dynamo = createDynamoDocumentClient();
  const part: ContainerPart = {
    endpoints: endpointsFromEnv(env),
    store: createObjectStore({ client: s3, bucket: runtime.BUCKET_NAME }),
    ledger: createRunLedger({ client: dynamo, tableName: runtime.LEDGER_TABLE }),
    journal: createPublicationJournal({ client: dynamo, tableName: runtime.LEDGER_TABLE }),
    deliveries: createDeliveryJournal({ client: dynamo, tableName: runtime.LEDGER_TABLE }),
    schedules: createScheduleStateStore({ client: dynamo, tableName: runtime.LEDGER_TABLE }),
  };
  containerPart = { key, part };
  return part;
}

export function stepContext(
  pipelineId: string,
  lambda: Pick<Context, 'getRemainingTimeInMillis'>,
): StepContext {
  const config = loadRuntimeConfig();
  const container = containerPartOf(process.env);
  const { endpoints } = container;
  return {
    ...container,
    config,
    pipeline: findPipeline(config, pipelineId),
    remainingMs: () => lambda.getRemainingTimeInMillis(),
    retry: {
      maxWaitMs: maxWaitFor(lambda),
      ...(endpoints.API_RETRY_BASE_MS ? { baseDelayMs: endpoints.API_RETRY_BASE_MS } : {}),
    },
    secrets: (service) => loadServiceSecrets(pipelineId, service),
    now: () => new Date(),
    log: logInfo,
  };
}
