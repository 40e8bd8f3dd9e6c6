import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { InvalidResponseError } from '../errors';
import { type CollectedPost, POST_COLUMNS, postToRecord, recordToPost } from './post';

/** The run's CSV: a header row, then one row per kept post, quoted as RFC 4180 requires. */
export function postsToCsv(posts: readonly CollectedPost[]): string {
  return stringify(posts.map(postToRecord), { header: true, columns: [...POST_COLUMNS] });
}

export function csvToPosts(text: string): CollectedPost[] {
  const records = parse(text, { columns: true, skip_empty_lines: true, bom: true }) as Record<
    string,
    string
  >[];
  const first = records[0];
  if (first) {
    const missing = POST_COLUMNS.filter((c) => !(c in first));
    if (missing.length > 0) throw new InvalidResponseError(`CSV lacks columns: ${missing.join(', ')}`);
  }
  return records.map(recordToPost);
}
