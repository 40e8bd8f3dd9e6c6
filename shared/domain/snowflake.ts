/** Discord snowflakes carry their creation time: the top 42 bits are ms since the Discord epoch. */
const DISCORD_EPOCH = 1420070400000n;

export function snowflakeToMs(id: string): number {
  return Number((BigInt(id) >> 22n) + DISCORD_EPOCH);
}

/** The smallest snowflake created at `ms`: a valid `after` cursor for "newer than this moment". */
export function msToSnowflake(ms: number): string {
  const since = BigInt(Math.max(0, Math.floor(ms))) - DISCORD_EPOCH;
  return (since < 0n ? 0n : since << 22n).toString();
}

export function compareSnowflakes(a: string, b: string): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

export function isSnowflake(value: unknown): value is string {
  return typeof value === 'string' && /^\d{1,20}$/.test(value);
}

export function maxSnowflake(ids: Iterable<string>): string | undefined {
  let max: string | undefined;
  for (const id of ids) {
    if (isSnowflake(id) && (max === undefined || compareSnowflakes(id, max) > 0)) max = id;
  }
  return max;
}
