/** One kept Discord message that links to an X/Twitter post: a row of the run's CSV. */
export interface CollectedPost {
  messageId: string;
  /** UTC date of the Discord message, YYYY-MM-DD. */
  date: string;
  /** UTC time of the Discord message, HH:MM:SS. */
  time: string;
  content: string;
  postLink: string;
  author: string;
  authorLink: string;
}

/** CSV columns, in order; also the first columns of the sheet's main tab. */
export const POST_COLUMNS = [
  'message_id',
  'date',
  'time',
  'content',
  'post_link',
  'author',
  'author_link',
] as const;

/** Columns the analyze step fills in on the main tab. */
export const ANALYSIS_COLUMNS = [
  'ai_processed',
  'is_new_project',
  'project_handle',
  'project_link',
  'summary',
  'run_id',
] as const;

/** Columns only the Archive tab has. */
export const ARCHIVE_COLUMNS = ['date_processed', 'x_post_url', 'processing_status'] as const;

export const MAIN_TAB_HEADERS: readonly string[] = [...POST_COLUMNS, ...ANALYSIS_COLUMNS];
export const ARCHIVE_TAB_HEADERS: readonly string[] = [...MAIN_TAB_HEADERS, ...ARCHIVE_COLUMNS];
export const DRAFTS_TAB_HEADERS: readonly string[] = [
  'run_id',
  'created_at',
  'draft',
  'parts',
  'status',
  'post_id',
  'post_url',
];

/** The key column every tab is deduplicated by. */
export const KEY_COLUMN = 'message_id';

export function postToRecord(post: CollectedPost): Record<string, string> {
  return {
    message_id: post.messageId,
    date: post.date,
    time: post.time,
    content: post.content,
    post_link: post.postLink,
    author: post.author,
    author_link: post.authorLink,
  };
}

export function recordToPost(record: Record<string, string | undefined>): CollectedPost {
  return {
    messageId: record.message_id ?? '',
    date: record.date ?? '',
    time: record.time ?? '',
    content: record.content ?? '',
    postLink: record.post_link ?? '',
    author: record.author ?? '',
    authorLink: record.author_link ?? '',
  };
}

/** What Gemini says about one post. */
export interface PostAnalysis {
  messageId: string;
  isNewProject: boolean;
  projectHandle: string;
  projectLink: string;
  /** At most 25 words. */
  summary: string;
}
