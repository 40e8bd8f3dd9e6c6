import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { InvalidResponseError } from '../errors';
import { type CollectedPost, POST_COLUMNS, postToRecord, recordToPost } from './post';

/**
 * CSV injection: a spreadsheet opening the run's CSV runs any cell that starts with `=`, `+`, `-`, `@`, tab,
 * carriage return or line feed as a formula. OWASP's remedy is to prepend a single quote to such cells
 * (https://owasp.org/www-community/attacks/CSV_Injection). A cell that already starts with a quote gets one
 * too, so reading the file back takes exactly one leading quote off and gives the original text again:
 * the sheet is written with RAW values and must get the text as the message had it.
 */
const FORMULA_START = /^[=+\-@\t\r\n']/;

export function neutraliseCell(text: string): string {
  return FORMULA_START.test(text) ? `'${text}` : text;
}

export function restoreCell(text: string): string {
  return text.startsWith("'") ? text.slice(1) : text;
}

/** The run's CSV: a header row, then one row per kept post, quoted as RFC 4180 requires. */
export function postsToCsv(posts: readonly CollectedPost[]): string {
  const records = posts.map((post) =>
    Object.fromEntries(Object.entries(postToRecord(post)).map(([k, v]) => [k, neutraliseCell(v)])),
  );
  return stringify(records, { header: true, columns: [...POST_COLUMNS] });
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
  return records.map((record) =>
    recordToPost(Object.fromEntries(Object.entries(record).map(([k, v]) => [k, restoreCell(v)]))),
  );
}
