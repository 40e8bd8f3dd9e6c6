import { createDynamoDocumentClient } from '../../../shared/adapters/aws-clients';
import { createDeliveryJournal } from '../../../shared/adapters/dynamo-delivery-journal';
import { RUN_ID_PATTERN } from '../../../shared/domain/run-id';
import { deliveryKeyOf } from '../../../shared/pipeline/deliver';
import { attachSharedAws } from '../shared-aws';
import type { LocalCommand } from './command';

const USAGE = 'usage: deliver retry <runId> <destination>';

/**
 * The operator's word on a delivery whose outcome is unknown (Discord's or
 * SES's answer was lost, so it was not sent again): it did not arrive, so the
 * next attempt sends it. Then `run --run-id <runId> --resume` does.
 */
export const deliverCommand: LocalCommand = {
  name: 'deliver',
  synopsis:
    'deliver retry <runId> <destination>   a delivery of unknown outcome did not arrive: send it again',
  options: {},
  positionals: ['action', 'runId', 'destination'],
  async run({ config, dataDir, positionals, pipelineId }) {
    const [action, runId, name, ...extra] = positionals;
    const refuse = (why: string) => {
      console.error(`error: ${why} (${USAGE})`);
      return 2;
    };
    if (action !== 'retry') return refuse(`unknown deliver action "${action ?? ''}"`);
    if (!runId || !RUN_ID_PATTERN.test(runId)) return refuse(`"${runId ?? ''}" is not a run id`);
    if (extra.length > 0) return refuse(`unexpected "${extra.join(' ')}"`);
    const id = pipelineId();
    const pipeline = config.pipelines.find((p) => p.id === id);
    const names = pipeline?.deliver.map((d) => d.name) ?? [];
    if (!name || !names.includes(name))
      return refuse(`"${name ?? ''}" is not a destination of pipeline ${id} (${names.join(', ') || 'none'})`);

    const aws = await attachSharedAws(dataDir);
    try {
      const journal = createDeliveryJournal({
        client: createDynamoDocumentClient(aws.env),
        tableName: aws.table,
      });
      if (!(await journal.releaseUnknown(id, deliveryKeyOf(runId, name)))) {
        console.error(
          `error: the delivery of run ${runId} to ${name} is not of unknown outcome; nothing changed`,
        );
        return 1;
      }
      console.log(`run ${runId}: ${name} will be sent by the next attempt; resume the run`);
      return 0;
    } finally {
      await aws.close();
    }
  },
};
