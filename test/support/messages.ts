import { msToSnowflake } from '../../shared/domain/snowflake';

/** A plain Discord message posted `minutesBefore` the reference time. */
export function message(reference: string, minutesBefore: number, content: string, seq = 0) {
  const ms = Date.parse(reference) - minutesBefore * 60_000;
  return {
    id: (BigInt(msToSnowflake(ms)) + BigInt(seq)).toString(),
    channel_id: '1200000000000000000',
    type: 0,
    content,
    timestamp: new Date(ms).toISOString(),
    author: { id: '42', username: 'alice', global_name: 'Alice', bot: false },
    embeds: [],
    attachments: [],
  };
}

/** `count` messages each linking a distinct status, one a minute before the reference time. */
export function linkMessages(reference: string, count: number, startMinutes = 1) {
  return Array.from({ length: count }, (_, i) =>
    message(
      reference,
      startMinutes + i,
      `post ${i} ${i % 3 === 0 ? 'launch' : 'update'} https://x.com/p${i}/status/${9000 + i}`,
    ),
  );
}
