/**
 * The link allow-list in the pipeline: a link a channel member smuggled into a
 * message's text, and one the model invented, never reach the draft that is
 * published and delivered; each removal is counted in Analyze's counts, and
 * the links of the run's own posts stay, whatever their spelling.
 */
import { describe, expect, it } from 'vitest';
import type { PostAnalysis } from '../../shared/domain/post';
import { draftKeyOf, type StoredDraft } from '../../shared/pipeline/analyze';
import { FakeChannel, testPipeline } from '../support/fakes';
import { runPipeline, runRef, World } from '../support/harness';
import { message } from '../support/messages';

const T = '2026-11-24T09:00:00.000Z';
const RUN = 'morning-20261124T0900Z';

describe('links in the draft', () => {
  it('removes a smuggled and an invented link and counts them; keeps the posts of the run', async () => {
    // Prepare: one post carries a phishing link beside its X link; the model adds one of its own.
    const w = new World(
      testPipeline(),
      new FakeChannel([
        message(T, 5, 'launch https://x.com/acme/status/111 claim at https://evil.example/claim', 0),
        message(T, 4, 'update on https://x.com/beta/status/222', 1),
      ]),
    );
    w.analyzer.writeDraft = async (analyses) =>
      [
        'Today:',
        // The model quotes the summaries (which carry the smuggled link) and invents a "source".
        ...(analyses as readonly (PostAnalysis & { postLink: string })[]).map(
          (a) => `- ${a.summary} ${a.postLink}`,
        ),
        'More at https://x.com/made_up/status/999 and www.invented-news.com/today',
        // The same post under another spelling is still the run's post.
        'Also https://twitter.com/acme/status/111?s=20',
      ].join('\n');
    // The fake's summary is the first 40 characters of the content: let it keep the whole text.
    const analyze = w.analyzer.analyzePosts.bind(w.analyzer);
    w.analyzer.analyzePosts = async (posts) =>
      (await analyze(posts)).map((a) => ({
        ...a,
        summary: posts.find((p) => p.messageId === a.messageId)?.content ?? '',
      }));

    // Act
    const report = await runPipeline(w, runRef(RUN, T));

    // Assess
    const draft = JSON.parse(w.store.objects.get(draftKeyOf('demo', RUN)) ?? '{}') as StoredDraft;
    const text = draft.parts.join('\n');
    expect(text).not.toContain('evil.example');
    expect(text).not.toContain('made_up/status/999');
    expect(text).not.toContain('invented-news.com');
    expect(text).toContain('https://x.com/acme/status/111');
    expect(text).toContain('https://x.com/beta/status/222');
    expect(text).toContain('https://twitter.com/acme/status/111?s=20');
    expect(draft.linksRemoved).toEqual(
      expect.arrayContaining([
        'https://evil.example/claim',
        'https://x.com/made_up/status/999',
        'www.invented-news.com/today',
      ]),
    );
    expect(report.steps.analyze?.counts.linksRemoved).toBe(draft.linksRemoved?.length);
    expect(report.steps.analyze?.notes?.linksRemoved).toContain('https://evil.example/claim');
    // What was published is the filtered draft.
    expect(w.publisher.posts.map((p) => p.text).join('\n')).not.toContain('evil.example');
  });
});
