import { randomUUID } from 'node:crypto';
import { type SandboxRequest, type SandboxResponse, type SandboxServer, startSandboxServer } from './http';
import { type Clock, Quota } from './quota';

export interface SentEmail {
  messageId: string;
  from: string;
  to: string[];
  subject: string;
  html?: string;
  text?: string;
  tags: { Name: string; Value: string }[];
  region: string;
  sentAt: string;
}

export interface SesSandbox extends SandboxServer {
  sent(): SentEmail[];
  /** Per-second sending rate and the 24-hour quota; `exhaust()` either to provoke TooManyRequestsException. */
  rate: Quota;
  daily: Quota;
  /** AccountSuspendedException / SendingPausedException from now on (until called with false). */
  suspend(suspended?: boolean): void;
  pauseSending(paused?: boolean): void;
}

export interface SesSandboxOptions {
  /** Access key ids the sandbox knows; any other signs an UnrecognizedClientException. */
  accessKeyIds: string[];
  /** Verified identities: addresses or whole domains. */
  verifiedIdentities: string[];
  /**
   * A new account is in the SES sandbox: it may send only to verified
   * identities, 1 email per second, 200 per 24 hours
   * (https://docs.aws.amazon.com/ses/latest/dg/quotas.html). Default true.
   */
  sandboxAccount?: boolean;
  maxSendRate?: number;
  max24HourSend?: number;
  now?: Clock;
  port?: number;
}

/**
 * An AWS restJson1 error as SES v2 sends it: the type in `x-amzn-ErrorType`
 * and the text in the body's `message`. The SDK reads the header first, then
 * the body's `code`, then `__type` (@smithy/core protocols `loadRestJsonErrorCode`,
 * via @aws-sdk/core AwsRestJsonProtocol.handleError).
 */
const awsError = (status: number, type: string, message: string): SandboxResponse => ({
  status,
  headers: { 'x-amzn-errortype': type, 'x-amzn-requestid': randomUUID() },
  body: { message },
});

const domainOf = (address: string) => address.slice(address.lastIndexOf('@') + 1).toLowerCase();
/** `"Name" <a@b>` or `a@b` → `a@b`. */
const bareAddress = (address: string) =>
  (address.match(/<([^>]+)>\s*$/)?.[1] ?? address).trim().toLowerCase();

/**
 * Amazon SES API v2 `SendEmail` (`POST /v2/email/outbound-emails`, JSON,
 * SigV4; https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_SendEmail.html),
 * Simple content only. The signature itself is not verified: only that the
 * request is signed, with a known key, for the `ses` service.
 */
export async function startSesSandbox(options: SesSandboxOptions): Promise<SesSandbox> {
  const now = options.now ?? Date.now;
  const sent: SentEmail[] = [];
  const sandboxAccount = options.sandboxAccount ?? true;
  const rate = new Quota({ limit: options.maxSendRate ?? 1, windowMs: 1000, now });
  // SES counts the last 24 hours (a rolling window); a fixed 24-hour window is close enough here.
  const daily = new Quota({ limit: options.max24HourSend ?? 200, windowMs: 86_400_000, now });
  const identities = options.verifiedIdentities.map((i) => i.toLowerCase());
  const verified = (address: string) => {
    const bare = bareAddress(address);
    return identities.includes(bare) || identities.includes(domainOf(bare));
  };
  let suspended = false;
  let paused = false;

  function authenticate(request: SandboxRequest): { region: string } | SandboxResponse {
    const authorization = String(request.headers.authorization ?? '');
    // CommonErrors: MissingAuthenticationToken (403) when the request is not signed.
    if (!authorization.startsWith('AWS4-HMAC-SHA256 ') || !request.headers['x-amz-date'])
      return awsError(403, 'MissingAuthenticationTokenException', 'Missing Authentication Token');
    const scope = authorization.match(/Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request/);
    if (!scope || !options.accessKeyIds.includes(scope[1] ?? ''))
      return awsError(
        403,
        'UnrecognizedClientException',
        'The security token included in the request is invalid.',
      );
    // The SDK signs SES v2 with the signing name `ses` (@aws-sdk/client-sesv2 endpoint rules).
    if (scope[4] !== 'ses')
      return awsError(
        403,
        'InvalidSignatureException',
        `Credential should be scoped to correct service: 'ses'.`,
      );
    return { region: scope[3] ?? 'us-east-1' };
  }

  function sendEmail(request: SandboxRequest, region: string): SandboxResponse {
    const body = (request.body ?? {}) as {
      FromEmailAddress?: string;
      Destination?: { ToAddresses?: string[]; CcAddresses?: string[]; BccAddresses?: string[] };
      Content?: {
        Simple?: {
          Subject?: { Data?: string };
          Body?: { Html?: { Data?: string }; Text?: { Data?: string } };
        };
      };
      EmailTags?: { Name?: string; Value?: string }[];
    };
    const simple = body.Content?.Simple;
    if (!simple) return awsError(400, 'BadRequestException', 'Content is required: Simple, Raw or Template.');
    if (!simple.Subject?.Data) return awsError(400, 'BadRequestException', 'Subject is required.');
    if (!simple.Body?.Html?.Data && !simple.Body?.Text?.Data)
      return awsError(400, 'BadRequestException', 'Body must contain Text or Html.');
    const from = body.FromEmailAddress;
    if (!from) return awsError(400, 'BadRequestException', 'FromEmailAddress is required.');
    const to = body.Destination?.ToAddresses ?? [];
    const recipients = [
      ...to,
      ...(body.Destination?.CcAddresses ?? []),
      ...(body.Destination?.BccAddresses ?? []),
    ];
    if (recipients.length === 0)
      return awsError(400, 'BadRequestException', 'At least one recipient is required.');
    // API_SendEmail: the message may include up to 50 recipients across To, CC and BCC.
    if (recipients.length > 50) return awsError(400, 'MessageRejected', 'Recipient count exceeds 50.');
    const tags = body.EmailTags ?? [];
    // API_MessageTag: names and values only ASCII letters, digits, `_` and `-`, 256 at most.
    const badTag = tags.find(
      (t) => !/^[A-Za-z0-9_-]{1,256}$/.test(t.Name ?? '') || !/^[A-Za-z0-9_-]{0,256}$/.test(t.Value ?? ''),
    );
    if (badTag) return awsError(400, 'BadRequestException', `Invalid tag: ${badTag.Name}`);
    // API_SendEmail errors: AccountSuspendedException and SendingPausedException are both 400.
    if (suspended)
      return awsError(
        400,
        'AccountSuspendedException',
        "The message can't be sent because the account's ability to send email has been permanently restricted.",
      );
    if (paused)
      return awsError(
        400,
        'SendingPausedException',
        "The message can't be sent because the account's ability to send email is currently paused.",
      );
    // The account (and, in the SES sandbox, every recipient) must be verified, else MessageRejected (400).
    const unverified = [from, ...(sandboxAccount ? recipients : [])].filter((a) => !verified(a));
    if (unverified.length)
      return awsError(
        400,
        'MessageRejected',
        `Email address is not verified. The following identities failed the check in region ${region.toUpperCase()}: ${unverified.join(', ')}`,
      );
    // manage-sending-quotas-errors: "Daily message quota exceeded" / "Maximum sending rate exceeded";
    // SES v2 types it TooManyRequestsException, HTTP 429 (client-sesv2 model).
    if (!daily.take().allowed)
      return awsError(429, 'TooManyRequestsException', 'Daily message quota exceeded.');
    if (!rate.take().allowed)
      return awsError(429, 'TooManyRequestsException', 'Maximum sending rate exceeded.');
    const messageId = `0100019${now().toString(16)}-${randomUUID()}-000000`;
    sent.push({
      messageId,
      from,
      to,
      subject: simple.Subject.Data,
      ...(simple.Body.Html?.Data ? { html: simple.Body.Html.Data } : {}),
      ...(simple.Body.Text?.Data ? { text: simple.Body.Text.Data } : {}),
      tags: tags.map((t) => ({ Name: t.Name ?? '', Value: t.Value ?? '' })),
      region,
      sentAt: new Date(now()).toISOString(),
    });
    return { status: 200, headers: { 'x-amzn-requestid': randomUUID() }, body: { MessageId: messageId } };
  }

  const server = await startSandboxServer({
    name: 'ses',
    ...(options.port ? { port: options.port } : {}),
    // Estimate: SendEmail answers in roughly 60-200 ms within a region.
    realisticLatency: () => 60 + Math.floor(Math.random() * 140),
    faultResponse: (fault) =>
      fault.kind === 'rate-limit'
        ? awsError(429, 'TooManyRequestsException', 'Maximum sending rate exceeded.')
        : awsError(500, 'InternalFailure', 'The request processing has failed because of an unknown error.'),
    route: (request) => {
      const auth = authenticate(request);
      if ('status' in auth) return auth;
      if (request.path !== '/v2/email/outbound-emails')
        return awsError(404, 'NotFoundException', `No route for ${request.path}`);
      if (request.method !== 'POST') return awsError(405, 'MethodNotAllowedException', 'Method not allowed');
      if (!String(request.headers['content-type'] ?? '').startsWith('application/json'))
        return awsError(400, 'SerializationException', 'Expected application/json');
      return sendEmail(request, auth.region);
    },
  });
  return {
    ...server,
    rate,
    daily,
    sent: () => sent.map((e) => ({ ...e, to: [...e.to], tags: [...e.tags] })),
    suspend: (value = true) => {
      suspended = value;
    },
    pauseSending: (value = true) => {
      paused = value;
    },
  };
}
