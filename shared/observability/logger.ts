import { Logger } from '@aws-lambda-powertools/logger';

/** One structured logger for every function; messages are static and lowercase, data goes in fields. */
export const logger = new Logger({ serviceName: 'discord-digest' });

export type Log = (message: string, data: Record<string, unknown>) => void;
export const logInfo: Log = (message, data) => logger.info(message, data);
