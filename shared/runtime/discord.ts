import type { REST } from '@discordjs/rest';
import {
  createDiscordChannelSource,
  createDiscordRest,
  type DiscordClientOptions,
} from '../adapters/discord';
import type { ChannelSource } from '../ports';
import type { StepContext } from './step-context';

/**
 * One REST client per token, base URL and timeout for the container's life: it keeps the routes' rate-limit
 * buckets between warm invocations. The channel source around it is per invocation, since its retry bounds
 * follow the invocation's remaining time.
 */
const clients = new Map<string, REST>();

export function discordRestFor(options: DiscordClientOptions): REST {
  const key = JSON.stringify([options.token, options.baseUrl, options.timeoutMs]);
  let rest = clients.get(key);
  if (!rest) {
    rest = createDiscordRest(options);
    clients.set(key, rest);
  }
  return rest;
}

export async function channelSourceFor(context: StepContext): Promise<ChannelSource> {
  const secrets = await context.secrets('discord');
  return createDiscordChannelSource({
    rest: discordRestFor({
      token: secrets.DISCORD_BOT_TOKEN,
      baseUrl: context.endpoints.DISCORD_API_URL,
      timeoutMs: context.endpoints.API_TIMEOUT_MS ?? 30_000,
    }),
    retry: context.retry,
  });
}
