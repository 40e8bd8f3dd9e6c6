import { SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2';
import { renderEmail } from '../../domain/digest-render';
import {
  AuthError,
  type DigestError,
  PermanentError,
  quotaExhausted,
  RateLimitedError,
  TransientError,
  UnknownOutcomeError,
} from '../../errors';
import type { Destination } from '../../ports';
import { awsErrorName, awsStatus } from '../aws-clients';
import { type RetryOptions, retryTransient } from '../retry';

export interface SesClientOptions {
  region: string;
  /** The sandbox's URL locally; absent on AWS. */
  endpoint?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  timeoutMs?: number;
}

/**
 * An SES v2 client that never resends by itself: SendEmail has no idempotency
 * token, so the SDK's own retry of a timed-out send could mail everyone twice.
 * Retries happen in `createSesEmailDestination`, only where nothing was sent.
 */
export function createSesV2Client(options: SesClientOptions): SESv2Client {
  return new SESv2Client({
    region: options.region,
    maxAttempts: 1,
    requestHandler: { connectionTimeout: 3_000, requestTimeout: options.timeoutMs ?? 10_000 },
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
  });
}

export interface SesEmailOptions {
  name: string;
  /** Built with `createSesV2Client` (one attempt per call). */
  client: SESv2Client;
  /** A verified identity, e.g. `Digest <digest@example.com>`. */
  from: string;
  to: string[];
  configurationSetName?: string;
  retry?: Partial<RetryOptions>;
  now?: () => number;
}

/** Failures below HTTP where the request never reached SES: nothing was sent. */
const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);
const AUTH_ERRORS = new Set([
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'MissingAuthenticationTokenException',
  'AccessDeniedException',
  'ExpiredTokenException',
]);

/** API_MessageTag: names and values only ASCII letters, digits, `_` and `-`, at most 256. */
const tagValue = (value: string) => value.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 256);

/**
 * SES v2 SendEmail errors in the pipeline's classes
 * (https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_SendEmail.html#API_SendEmail_Errors).
 */
export function sesError(error: unknown, now = Date.now()): DigestError {
  const name = awsErrorName(error) ?? 'Error';
  const status = awsStatus(error);
  const text = `ses SendEmail failed: ${name}: ${(error as Error)?.message ?? String(error)}`;
  if (name === 'TooManyRequestsException' || name === 'ThrottlingException') {
    // manage-sending-quotas-errors: the daily quota is a rolling 24 hours; SES sends no Retry-After.
    if (/daily/i.test(text))
      return quotaExhausted('ses', 'daily sending quota', new Date(now + 86_400_000), now);
    // The per-second sending rate frees up within a second.
    return new RateLimitedError(text, 1000, { cause: error, now });
  }
  if (AUTH_ERRORS.has(name) || status === 401 || status === 403) return new AuthError(text, { cause: error });
  if (status !== undefined) {
    if (status >= 500) return new TransientError(text, { cause: error });
    // MessageRejected, AccountSuspendedException, SendingPausedException, MailFromDomainNotVerifiedException,
    // BadRequestException, NotFoundException, LimitExceededException: all 4xx, none fixed by retrying.
    return new PermanentError(text, { cause: error });
  }
  const code = (error as { code?: unknown })?.code;
  if (typeof code === 'string' && NOT_SENT.has(code)) return new TransientError(text, { cause: error });
  // No answer: a timeout or a dropped connection after the request went out. SES may have accepted it.
  return new UnknownOutcomeError(`${text}; the email may have been sent`, { cause: error });
}

/** Email through Amazon SES v2 SendEmail, Simple content with an HTML and a text body. */
export function createSesEmailDestination(options: SesEmailOptions): Destination {
  const retry: RetryOptions = { maxAttempts: 3, baseDelayMs: 500, maxWaitMs: 5_000, ...options.retry };
  const now = options.now ?? Date.now;
  if (options.to.length === 0) throw new PermanentError(`email ${options.name}: no recipients`);
  return {
    kind: 'email',
    name: options.name,
    async deliver(message, idempotencyKey) {
      const email = renderEmail(message);
      const command = new SendEmailCommand({
        FromEmailAddress: options.from,
        Destination: { ToAddresses: options.to },
        Content: {
          Simple: {
            Subject: { Data: email.subject, Charset: 'UTF-8' },
            Body: {
              Html: { Data: email.html, Charset: 'UTF-8' },
              Text: { Data: email.text, Charset: 'UTF-8' },
            },
          },
        },
        // Tags travel to SES event destinations: a delivery can be traced back to its run and key.
        EmailTags: [
          { Name: 'pipeline', Value: tagValue(message.pipelineId) },
          { Name: 'run', Value: tagValue(message.runId) },
          { Name: 'idempotency-key', Value: tagValue(idempotencyKey) },
        ],
        ...(options.configurationSetName ? { ConfigurationSetName: options.configurationSetName } : {}),
      });
      const output = await retryTransient(async () => {
        try {
          return await options.client.send(command);
        } catch (error) {
          throw sesError(error, now());
        }
      }, retry);
      return {
        destination: options.name,
        ...(output.MessageId ? { id: output.MessageId } : {}),
        detail: `sent to ${options.to.length} recipient${options.to.length === 1 ? '' : 's'}`,
      };
    },
  };
}
