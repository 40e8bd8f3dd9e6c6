// A core-js 2 polyfill for the bundles: nothing. twitter-text's Babel build imports them for ES5 engines;
// on Node 22 they replace no built-in (each one loaded and the built-ins' descriptors compared before and
// after) and only add globals (core, __core-js_shared__) and a wrapped Function.prototype.toString
// (core-js modules/_redefine.js), at every cold start.
