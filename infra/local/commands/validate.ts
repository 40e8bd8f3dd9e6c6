import type { LocalCommand } from './command';

export const validateCommand: LocalCommand = {
  name: 'validate',
  synopsis: 'validate            check the config file and exit',
  options: {},
  async run({ config, configFile }) {
    console.log(
      `${configFile}: ${config.pipelines.length} pipeline(s) valid: ${config.pipelines.map((p) => p.id).join(', ')}`,
    );
    return 0;
  },
};
