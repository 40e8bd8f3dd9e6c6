import { type SandboxServer, startSandboxServer } from './http';

export interface DiscordSandbox extends SandboxServer {
  addMessages(channelId: string, messages: unknown[]): void;
}

const idOf = (m: unknown) =>
  BigInt((m as { id?: string }).id?.match(/^\d+$/) ? (m as { id: string }).id : '0');

/** Discord REST v10, the part we read: a channel's messages, newest first, paged by snowflake. */
export async function startDiscordSandbox(options: {
  token: string;
  channels: Record<string, unknown[]>;
  port?: number;
}): Promise<DiscordSandbox> {
  const channels = new Map(Object.entries(options.channels).map(([id, msgs]) => [id, [...msgs]]));
  const rateHeaders = {
    'x-ratelimit-limit': '50',
    'x-ratelimit-remaining': '49',
    'x-ratelimit-reset-after': '1',
    'x-ratelimit-reset': String(Math.ceil(Date.now() / 1000) + 1),
    'x-ratelimit-bucket': 'sandbox-messages',
  };
  const server = await startSandboxServer({
    name: 'discord',
    ...(options.port ? { port: options.port } : {}),
    faultResponse: (fault) =>
      fault.kind === 'rate-limit'
        ? {
            status: 429,
            headers: {
              ...rateHeaders,
              'retry-after': String(fault.retryAfterSeconds),
              'x-ratelimit-scope': 'user',
            },
            body: {
              message: 'You are being rate limited.',
              retry_after: fault.retryAfterSeconds,
              global: false,
            },
          }
        : { status: 500, body: { message: '500: Internal Server Error', code: 0 } },
    route: (request) => {
      const match = request.path.match(/^\/api\/v10\/channels\/(\d+)\/messages$/);
      if (!match || request.method !== 'GET')
        return { status: 404, body: { message: '404: Not Found', code: 0 } };
      if (request.headers.authorization !== `Bot ${options.token}`) {
        return { status: 401, body: { message: '401: Unauthorized', code: 0 } };
      }
      const messages = channels.get(match[1] ?? '');
      if (!messages) return { status: 404, body: { message: 'Unknown Channel', code: 10003 } };
      const limit = Number(request.query.get('limit') ?? 50);
      if (!Number.isInteger(limit) || limit < 1 || limit > 100) {
        return { status: 400, body: { code: 50035, message: 'Invalid Form Body', errors: { limit: {} } } };
      }
      const after = request.query.get('after');
      const before = request.query.get('before');
      const sorted = [...messages].sort((a, b) => (idOf(a) < idOf(b) ? -1 : 1));
      let page: unknown[];
      if (after) page = sorted.filter((m) => idOf(m) > BigInt(after)).slice(0, limit);
      else if (before) page = sorted.filter((m) => idOf(m) < BigInt(before)).slice(-limit);
      else page = sorted.slice(-limit);
      // Newest first, whatever the direction: the real API does the same.
      return { status: 200, headers: rateHeaders, body: page.reverse() };
    },
  });
  return {
    ...server,
    addMessages: (channelId, msgs) => {
      channels.set(channelId, [...(channels.get(channelId) ?? []), ...msgs]);
    },
  };
}
