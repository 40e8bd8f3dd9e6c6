import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DigestError, PermanentError, TransientError } from '../errors';

/**
 * Bounded waits: a hung connection must end in a (retried) TimeoutError rather
 * than in the Lambda's own timeout. `socketTimeout` is idle time, so a large
 * upload that keeps moving is never cut off.
 */
const REQUEST_HANDLER = { connectionTimeout: 3_000, socketTimeout: 5_000 } as const;

/**
 * One client per endpoint configuration. In Lambda the environment never
 * changes, so this is one client per container; locally each embedded
 * environment (new ports) gets its own client instead of a stale one.
 */
const s3Clients = new Map<string, S3Client>();
const documentClients = new Map<string, DynamoDBDocumentClient>();

const configKey = (env: NodeJS.ProcessEnv, endpointVar: string) =>
  `${env.AWS_REGION ?? ''}|${env[endpointVar] ?? ''}|${env.AWS_ACCESS_KEY_ID ?? ''}`;

/**
 * Region and credentials from an explicitly passed environment (tests, tools);
 * from `process.env` the SDK's own provider reads them: the default chain
 * unbundled, the environment's keys only in a function's bundle (infra/bundling.ts).
 */
function identityFrom(env: NodeJS.ProcessEnv) {
  if (env === process.env) return {};
  const { AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN } = env;
  return {
    ...(AWS_REGION ? { region: AWS_REGION } : {}),
    ...(AWS_ACCESS_KEY_ID && AWS_SECRET_ACCESS_KEY
      ? {
          credentials: {
            accessKeyId: AWS_ACCESS_KEY_ID,
            secretAccessKey: AWS_SECRET_ACCESS_KEY,
            ...(AWS_SESSION_TOKEN ? { sessionToken: AWS_SESSION_TOKEN } : {}),
          },
        }
      : {}),
  };
}

export function createS3Client(env: NodeJS.ProcessEnv = process.env): S3Client {
  const key = configKey(env, 'AWS_ENDPOINT_URL_S3');
  let client = s3Clients.get(key);
  if (!client) {
    const endpoint = env.AWS_ENDPOINT_URL_S3;
    client = new S3Client({
      ...identityFrom(env),
      requestHandler: REQUEST_HANDLER,
      ...(endpoint
        ? {
            endpoint,
            // s3rver serves path-style only, and stores aws-chunked framing verbatim
            // unless checksums are limited to the operations that require them.
            forcePathStyle: true,
            requestChecksumCalculation: 'WHEN_REQUIRED',
            responseChecksumValidation: 'WHEN_REQUIRED',
          }
        : {}),
    });
    s3Clients.set(key, client);
  }
  return client;
}

export function createDynamoDocumentClient(env: NodeJS.ProcessEnv = process.env): DynamoDBDocumentClient {
  const key = configKey(env, 'AWS_ENDPOINT_URL_DYNAMODB');
  let client = documentClients.get(key);
  if (!client) {
    const endpoint = env.AWS_ENDPOINT_URL_DYNAMODB;
    const base = new DynamoDBClient({
      ...identityFrom(env),
      requestHandler: REQUEST_HANDLER,
      ...(endpoint ? { endpoint } : {}),
    });
    client = DynamoDBDocumentClient.from(base, { marshallOptions: { removeUndefinedValues: true } });
    documentClients.set(key, client);
  }
  return client;
}

/** Throttling spelled the ways AWS services spell it. */
const THROTTLING_NAMES = new Set([
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'RequestThrottled',
  'RequestThrottledException',
  'RequestLimitExceeded',
  'ProvisionedThroughputExceededException',
  'TooManyRequestsException',
  'SlowDown',
  'LimitExceededException',
  'TransactionInProgressException',
]);

/** Failures below HTTP: the request may or may not have reached the service. */
const NETWORK_NAMES = new Set(['TimeoutError', 'RequestTimeout', 'RequestTimeoutException']);
const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

interface AwsErrorShape {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
  $retryable?: unknown;
}

export const awsErrorName = (error: unknown): string | undefined =>
  typeof error === 'object' && error !== null ? (error as AwsErrorShape).name : undefined;

export const awsStatus = (error: unknown): number | undefined =>
  typeof error === 'object' && error !== null
    ? (error as AwsErrorShape).$metadata?.httpStatusCode
    : undefined;

/**
 * Translate an SDK error into the pipeline's error classes, so the state
 * machine retries throttling, 5xx and network failures and records the rest.
 */
export function toDigestError(service: string, operation: string, error: unknown): DigestError {
  if (error instanceof DigestError) return error;
  const shape: AwsErrorShape = typeof error === 'object' && error !== null ? (error as AwsErrorShape) : {};
  const name = shape.name ?? 'Error';
  const status = shape.$metadata?.httpStatusCode;
  const message = `${service} ${operation} failed: ${name}: ${shape.message ?? String(error)}`;
  const transient =
    THROTTLING_NAMES.has(name) ||
    NETWORK_NAMES.has(name) ||
    (shape.code !== undefined && NETWORK_CODES.has(shape.code)) ||
    shape.$retryable !== undefined ||
    (status !== undefined && (status >= 500 || status === 429));
  return transient
    ? new TransientError(message, { cause: error })
    : new PermanentError(message, { cause: error });
}
