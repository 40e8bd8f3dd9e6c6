import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { FaultInjector, type InjectedFault } from './faults';

export interface SandboxRequest {
  method: string;
  /** Path without the query string, e.g. `/api/v10/channels/1/messages`. */
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  /** Parsed JSON body, or undefined when there was none. */
  body: unknown;
}

export interface SandboxResponse {
  status: number;
  headers?: Record<string, string>;
  /** Serialised as JSON unless it is already a string. */
  body?: unknown;
}

export type SandboxRoute = (request: SandboxRequest) => SandboxResponse | Promise<SandboxResponse>;

export interface SandboxServer {
  name: string;
  /** The latency profile this server answers with. */
  latency: LatencyProfile;
  /** Base URL on loopback, without a trailing slash, e.g. http://127.0.0.1:41234 */
  url: string;
  faults: FaultInjector;
  close(): Promise<void>;
}

/**
 * How long the sandboxes take to answer. `fast` (the default, for `npm start`
 * and tests) answers at once; `realistic` waits about as long as the real
 * service does, so a benchmark's wall time means something. Chosen with
 * DIGEST_SANDBOX_LATENCY=fast|realistic; each sandbox gives its realistic figure.
 */
export type LatencyProfile = 'fast' | 'realistic';

export function latencyProfile(env: NodeJS.ProcessEnv = process.env): LatencyProfile {
  return env.DIGEST_SANDBOX_LATENCY === 'realistic' ? 'realistic' : 'fast';
}

/** Milliseconds one answer takes under the realistic profile (the request is there to size it). */
export type RealisticLatency = (request: SandboxRequest) => number;

export interface SandboxServerOptions {
  name: string;
  route: SandboxRoute;
  /** The service's own answer time, used when the profile is `realistic`. */
  realisticLatency?: RealisticLatency;
  /** Overrides DIGEST_SANDBOX_LATENCY (tests). */
  latency?: LatencyProfile;
  /** How the service spells an injected 429 or 500 (each API has its own error body). */
  faultResponse: (fault: InjectedFault, request: SandboxRequest) => SandboxResponse;
  port?: number;
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  if (chunks.length === 0) return undefined;
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function send(res: ServerResponse, response: SandboxResponse): void {
  const body =
    response.body === undefined
      ? ''
      : typeof response.body === 'string'
        ? response.body
        : JSON.stringify(response.body);
  res.writeHead(response.status, {
    'content-type': 'application/json; charset=utf-8',
    ...response.headers,
  });
  res.end(body);
}

/** Start a JSON HTTP server on 127.0.0.1 with fault injection in front of its routes. */
export async function startSandboxServer(options: SandboxServerOptions): Promise<SandboxServer> {
  const faults = new FaultInjector();
  const profile = options.latency ?? latencyProfile();
  const server: Server = createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? '/', 'http://sandbox');
      const request: SandboxRequest = {
        method: req.method ?? 'GET',
        path: decodeURIComponent(url.pathname),
        query: url.searchParams,
        headers: req.headers,
        body: await readBody(req),
      };
      const fault = faults.next(request.method, request.path, () =>
        typeof request.body === 'string' ? request.body : JSON.stringify(request.body ?? ''),
      );
      if (fault?.kind === 'timeout') {
        // Never answer; the client's own timeout decides. The socket is freed on close().
        return;
      }
      if (fault?.kind === 'rate-limit' || fault?.kind === 'server-error') {
        send(res, options.faultResponse(fault, request));
        return;
      }
      const wait = profile === 'realistic' ? (options.realisticLatency?.(request) ?? 0) : 0;
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      const response = await options.route(request);
      if (fault?.kind === 'drop-after-effect') {
        // The side effect happened; the caller never learns it.
        req.socket.destroy();
        return;
      }
      send(res, response);
    } catch (error) {
      send(res, { status: 500, body: { error: { message: (error as Error).message } } });
    }
  });
  const { url, close } = await listenOnLoopback(server, options.port ?? 0);
  return { name: options.name, latency: profile, url, faults, close };
}

/**
 * Listen on 127.0.0.1 and return a close() that also drops open keep-alive
 * connections, so a test or the CLI can end without waiting for them.
 */
export async function listenOnLoopback(
  server: Server,
  port: number,
): Promise<{ url: string; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const address = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
