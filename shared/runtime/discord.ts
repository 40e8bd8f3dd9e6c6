import { createDiscordChannelSource } from '../adapters/discord';
import type { ChannelSource } from '../ports';
import type { StepContext } from './step-context';

export async function channelSourceFor(context: StepContext): Promise<ChannelSource> {
  const secrets = await context.secrets('discord');
  return createDiscordChannelSource({
    token: secrets.DISCORD_BOT_TOKEN,
    baseUrl: context.endpoints.DISCORD_API_URL,
    timeoutMs: context.endpoints.API_TIMEOUT_MS ?? 30_000,
    retry: context.retry,
  });
}
