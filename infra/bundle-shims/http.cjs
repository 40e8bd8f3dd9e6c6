// `node:http` for the bundles, loaded by require() rather than import (infra/bundling.ts says why).
module.exports = require('node:http');
