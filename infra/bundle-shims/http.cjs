// `node:http` for the bundles, by the CommonJS route rather than an ESM import (infra/bundling.ts says why).
// process.getBuiltinModule (Node ≥ 22.3: nodejs.org/api/process.html#processgetbuiltinmoduleid) rather than
// require('node:http'), which the bundles' alias would send back to this file.
module.exports = process.getBuiltinModule('node:http');
