/**
 * "While Sheets API has no hard size limits for an API request ... we recommend a 2 MB maximum payload"
 * (https://developers.google.com/sheets/api/limits, Quota limits): a write bigger than this is split, so
 * at 100,000 rows one logical append or write-back is several requests. A read's answer is not a
 * request's payload: a read is one request whatever its length, its answer parsed as it arrives.
 */
export const MAX_PAYLOAD_BYTES = 2_000_000;
