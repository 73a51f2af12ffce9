#!/usr/bin/env node
// Parses an HCL2 file with @cdktf/hcl2json (HashiCorp's HCL parser compiled to
// WebAssembly, installed into tests/node by `make deps`) and prints its JSON.
// Exit 2 with the parser's message when the file is not valid HCL2.
'use strict';
const path = require('path');
const fs = require('fs');
const hcl = require(path.join(__dirname, '..', 'node', 'node_modules', '@cdktf', 'hcl2json'));
const file = process.argv[2];
if (!file) {
  console.error('usage: hcl2json.js FILE.hcl');
  process.exit(64);
}
hcl.parse(path.basename(file), fs.readFileSync(file, 'utf8'))
  .then((json) => { process.stdout.write(JSON.stringify(json) + '\n'); })
  .catch((err) => { console.error(String(err.message || err)); process.exit(2); });
