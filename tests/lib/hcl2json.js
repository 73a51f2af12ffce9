#!/usr/bin/env node
// Parses HCL2 files with @cdktf/hcl2json (HashiCorp's HCL parser compiled to
// WebAssembly, installed into tests/node by `make deps`) and prints their JSON.
//
//   hcl2json.js FILE.hcl            the JSON of FILE on one line; exit 2 with the
//                                   parser's message when it is not valid HCL2
//   hcl2json.js FILE.hcl FILE2...   one JSON object {"FILE": JSON or {"error": msg}}
//                                   (loading the parser takes seconds: parse many
//                                   files in one process)
'use strict';
const path = require('path');
const fs = require('fs');
const hcl = require(path.join(__dirname, '..', 'node', 'node_modules', '@cdktf', 'hcl2json'));
const files = process.argv.slice(2);
if (files.length === 0) {
  console.error('usage: hcl2json.js FILE.hcl [FILE.hcl...]');
  process.exit(64);
}
const parse = (file) => hcl.parse(path.basename(file), fs.readFileSync(file, 'utf8'));
if (files.length === 1) {
  parse(files[0])
    .then((json) => { process.stdout.write(JSON.stringify(json) + '\n'); })
    .catch((err) => { console.error(String(err.message || err)); process.exit(2); });
} else {
  (async () => {
    const out = {};
    for (const file of files) {
      try {
        out[file] = await parse(file);
      } catch (err) {
        out[file] = { error: String(err.message || err) };
      }
    }
    process.stdout.write(JSON.stringify(out) + '\n');
  })();
}
