/**
 * How the analysis fans out: how many Gemini requests a pipeline may keep in
 * flight, and how they are shared between the Map's items (one AnalyzeBatch
 * invocation each) and the batches each item sends at once.
 *
 * Lambda bills the time an invocation waits on Gemini (~25 s a batch), so an
 * item sends its batches together and costs one wait for all of them; the
 * Map runs as many items at once as the rest of the in-flight budget allows.
 * At most MAX_BATCHES_PER_ITEM together: an item that dies repeats only the
 * requests it had in flight, and the Map still spreads a big run over several
 * invocations at once.
 */

/** Gemini requests in flight at once, whatever the quota: each is a batch of posts being judged. */
export const MAX_REQUESTS_IN_FLIGHT = 10;
/** Batches one AnalyzeBatch invocation sends at once, at most. */
export const MAX_BATCHES_PER_ITEM = 5;
/** About how long one post takes Gemini to judge within a batch (~25 s for 100 on 2.5 Flash). */
const SECONDS_PER_ANALYSED_POST = 0.25;

export interface GeminiPace {
  requestsPerMinute: number;
  batchSize: number;
}

/**
 * The requests one pipeline may keep in flight: as many as its requests per
 * minute allow, given how long a batch takes (10 RPM and 25 s batches: 4), at
 * least 1, at most MAX_REQUESTS_IN_FLIGHT.
 */
export function requestsInFlight({ requestsPerMinute, batchSize }: GeminiPace): number {
  const fits = Math.floor((requestsPerMinute * batchSize * SECONDS_PER_ANALYSED_POST) / 60);
  return Math.max(1, Math.min(MAX_REQUESTS_IN_FLIGHT, fits));
}

/** Items of one pipeline's analysis that may run at once (the fewest that hold its in-flight budget). */
export function itemsAtOnce(pace: GeminiPace): number {
  return Math.ceil(requestsInFlight(pace) / MAX_BATCHES_PER_ITEM);
}

/**
 * Batches each item of one pipeline's analysis sends at once: its budget shared
 * evenly by itemsAtOnce items (10 in flight: 2 items of 5; 4: 1 item of 4; 7: 2
 * of 3). With any Map concurrency up to itemsAtOnce, items × batches stays within
 * the pipeline's requests in flight.
 */
export function batchesPerItem(pace: GeminiPace): number {
  return Math.floor(requestsInFlight(pace) / itemsAtOnce(pace));
}

/** Batch numbers 1..count, in items of `perItem`. */
export function itemsOf(count: number, perItem: number): number[][] {
  const items: number[][] = [];
  for (let first = 1; first <= count; first += perItem) {
    items.push(Array.from({ length: Math.min(perItem, count - first + 1) }, (_, i) => first + i));
  }
  return items;
}
