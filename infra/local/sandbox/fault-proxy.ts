import { createServer, request as httpRequest } from 'node:http';
import { FaultInjector, type InjectedFault } from './faults';
import { listenOnLoopback } from './http';

export interface FaultProxy {
  /** Point the client here instead of at the target. */
  url: string;
  faults: FaultInjector;
  close(): Promise<void>;
}

export interface FaultProxyOptions {
  /** The service behind the proxy, e.g. the embedded s3rver. */
  target: string;
  /** How the service spells a throttle or an internal error. */
  faultResponse: (fault: InjectedFault) => { status: number; headers: Record<string, string>; body: string };
  /** Which part of the request names the operation (DynamoDB puts it in X-Amz-Target). */
  operationOf?: (
    method: string,
    path: string,
    headers: Record<string, string | string[] | undefined>,
  ) => string;
}

/**
 * A transparent HTTP proxy with fault injection, for services we embed rather
 * than write (s3rver, dynalite): the SDK talks to the proxy, which forwards
 * every request unless a fault rule says to throttle, fail, hang, or apply the
 * request and then drop the answer.
 */
export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const faults = new FaultInjector();
  const target = new URL(options.target);
  const server = createServer((req, res) => {
    const method = req.method ?? 'GET';
    const path = options.operationOf
      ? options.operationOf(method, req.url ?? '/', req.headers)
      : (req.url ?? '/');
    const fault = faults.next(method, path);
    if (fault?.kind === 'timeout') return;
    if (fault?.kind === 'rate-limit' || fault?.kind === 'server-error') {
      const answer = options.faultResponse(fault);
      res.writeHead(answer.status, answer.headers);
      res.end(answer.body);
      return;
    }
    const upstream = httpRequest(
      {
        host: target.hostname,
        port: target.port,
        method,
        path: req.url,
        headers: { ...req.headers, host: target.host },
      },
      (answer) => {
        if (fault?.kind === 'drop-after-effect') {
          answer.resume();
          answer.on('end', () => req.socket.destroy());
          return;
        }
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => req.socket.destroy());
    req.pipe(upstream);
  });
  const { url, close } = await listenOnLoopback(server, 0);
  return { url, faults, close };
}

/** DynamoDB names the operation in a header; the proxy matches rules on `DynamoDB_20120810.PutItem` etc. */
export const dynamoOperation = (
  _m: string,
  _p: string,
  headers: Record<string, string | string[] | undefined>,
) => String(headers['x-amz-target'] ?? '');

export const dynamoFault = (fault: InjectedFault) => ({
  status: fault.kind === 'rate-limit' ? 400 : 500,
  headers: { 'content-type': 'application/x-amz-json-1.0' },
  body: JSON.stringify(
    fault.kind === 'rate-limit'
      ? {
          __type: 'com.amazonaws.dynamodb.v20120810#ThrottlingException',
          message: 'Rate of requests exceeds the allowed throughput.',
        }
      : { __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError', message: 'Internal server error' },
  ),
});

export const s3Fault = (fault: InjectedFault) => ({
  status: fault.kind === 'rate-limit' ? 503 : 500,
  headers: { 'content-type': 'application/xml' },
  body:
    fault.kind === 'rate-limit'
      ? '<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>'
      : '<?xml version="1.0" encoding="UTF-8"?><Error><Code>InternalError</Code><Message>We encountered an internal error. Please try again.</Message></Error>',
});
