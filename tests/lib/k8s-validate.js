#!/usr/bin/env node
// Validates Kubernetes objects with kubernetes-models (npm, pinned in tests/node;
// its validators are generated from the Kubernetes OpenAPI spec: types, enums,
// required fields, formats).
//
//   k8s-validate.js < OBJECTS.json    a JSON array of objects (the documents of a
//                                     manifest); prints one line per invalid object
//                                     and exits 1, or prints "ok N" and exits 0
// Unknown fields are not its business (tests/wrappers/k8s_schema.py checks those).
'use strict';
const path = require('path');
const fs = require('fs');
const models = path.join(__dirname, '..', 'node', 'node_modules', 'kubernetes-models');
const KINDS = {
  'v1/ServiceAccount': 'v1/ServiceAccount', 'v1/ConfigMap': 'v1/ConfigMap', 'v1/Secret': 'v1/Secret',
  'v1/PersistentVolumeClaim': 'v1/PersistentVolumeClaim', 'batch/v1/CronJob': 'batch/v1/CronJob',
  'batch/v1/Job': 'batch/v1/Job',
};
const docs = JSON.parse(fs.readFileSync(0, 'utf8'));
let bad = 0;
for (const doc of docs) {
  const key = `${doc.apiVersion}/${doc.kind}`;
  const mod = KINDS[key];
  if (!mod) {
    console.log(`${key}: kind not modelled`);
    bad++;
    continue;
  }
  const Model = require(path.join(models, mod))[doc.kind];
  try {
    new Model(doc).validate();
  } catch (err) {
    console.log(`${key} ${(doc.metadata || {}).name}: ${String(err.message || err).replace(/\s+/g, ' ')}`);
    bad++;
  }
}
if (bad) process.exit(1);
console.log(`ok ${docs.length}`);
