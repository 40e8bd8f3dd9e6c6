import { createDynamoDocumentClient } from '../../../shared/adapters/aws-clients';
import { createPublicationJournal } from '../../../shared/adapters/dynamo-publication-journal';
import { RUN_ID_PATTERN } from '../../../shared/domain/run-id';
import { DigestError } from '../../../shared/errors';
import type { UnknownResolution } from '../../../shared/ports';
import { attachSharedAws } from '../shared-aws';
import type { LocalCommand } from './command';

const USAGE = 'usage: publish confirm <runId> <postId> | publish retry <runId>';
/** X post ids and Typefully draft ids are both decimal integers. */
const POST_ID = /^\d{1,20}$/;

/**
 * The operator's word on a post whose outcome is unknown (the answer was lost
 * and the account could not be read): `confirm` records it as published, so a
 * resumed thread continues after it; `retry` says it did not go out, so the
 * next attempt posts it. Then `run --run-id <runId> --resume` finishes the run.
 */
export const publishCommand: LocalCommand = {
  name: 'publish',
  synopsis: 'publish confirm <runId> <postId> | publish retry <runId>   settle a post of unknown outcome',
  options: {},
  positionals: ['action', 'runId', 'postId?'],
  async run({ config, dataDir, positionals, pipelineId }) {
    const [action, runId, postId, ...extra] = positionals;
    const refuse = (why: string) => {
      console.error(`error: ${why} (${USAGE})`);
      return 2;
    };
    if (action !== 'confirm' && action !== 'retry') return refuse(`unknown publish action "${action ?? ''}"`);
    if (!runId || !RUN_ID_PATTERN.test(runId)) return refuse(`"${runId ?? ''}" is not a run id`);
    if (action === 'confirm' && !postId)
      return refuse('"publish confirm" needs <postId>, the id of the post on X');
    if (action === 'confirm' && postId && !POST_ID.test(postId))
      return refuse(`"${postId ?? ''}" is not a post id (digits)`);
    if (action === 'retry' && postId !== undefined) return refuse('retry takes only a run id');
    if (extra.length > 0) return refuse(`unexpected "${extra.join(' ')}"`);
    const id = pipelineId();
    const pipeline = config.pipelines.find((p) => p.id === id);
    const kind = pipeline?.publisher.kind;
    if (kind !== 'x' && kind !== 'typefully') return refuse(`pipeline ${id} publishes nowhere`);

    // The journal is in the data directory's ledger: attach to its shared service (no sandboxes needed).
    const aws = await attachSharedAws(dataDir);
    try {
      const journal = createPublicationJournal({
        client: createDynamoDocumentClient(aws.env),
        tableName: aws.table,
      });
      const url =
        kind === 'x'
          ? `https://x.com/i/web/status/${postId}`
          : `https://typefully.com/?a=${pipeline?.publisher.typefullySocialSetId}&d=${postId}`;
      const resolution: UnknownResolution =
        action === 'confirm' ? { published: { id: postId ?? '', url } } : { published: false };
      try {
        const record = await journal.resolveUnknown(id, runId, resolution);
        console.log(
          action === 'confirm'
            ? `run ${runId}: part ${record.published.length}/${record.parts.length} recorded as ${url}; resume the run to continue`
            : `run ${runId}: the part will be posted by the next attempt; resume the run`,
        );
        return 0;
      } catch (error) {
        if (!(error instanceof DigestError)) throw error;
        console.error(`error: ${error.message}`);
        return 1;
      }
    } finally {
      await aws.close();
    }
  },
};
