// Executes deploy/sam/statemachine.asl.json with aws-local-stepfunctions, a
// third-party Amazon States Language interpreter, exactly as written: each Task's
// Resource (a Lambda ARN) is invoked by the package's own code path, the AWS SDK
// for JavaScript's Lambda InvokeCommand, which AWS_ENDPOINT_URL_LAMBDA points at
// tests/emulators/lambda_emulator.py, where the real lambda-bootstrap serves it.
//
//   node sfn_execute.mjs DEFINITION INPUT_JSON EXECUTION_NAME SUBSTITUTIONS_JSON
//
// Prints one JSON line: {"status": "SUCCEEDED", "output": ...} or
// {"status": "FAILED", "error": NAME, "cause": TEXT} or {"status": "TIMED_OUT"},
// plus "states": the names of the states entered, in order.
// Only the Wait states' durations (waitTimeOverrides) and the retry intervals are
// shortened, to keep the test fast; what runs and in which order is the engine's.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

// The package's engines says node >= 22 for Promise.withResolvers (ES2024), the
// one newer API it uses; Debian 12's node 20 lacks it.
if (typeof Promise.withResolvers !== 'function') {
  Promise.withResolvers = function withResolvers() {
    let resolve, reject;
    const promise = new Promise((res, rej) => { resolve = res; reject = rej; });
    return { promise, resolve, reject };
  };
}

const require = createRequire(import.meta.url);
const here = new URL('.', import.meta.url).pathname;
const { StateMachine, ExecutionError, ExecutionTimeoutError } =
  require(here + '../node/node_modules/aws-local-stepfunctions');

const [defPath, inputJson, name, subsJson] = process.argv.slice(2);
let text = readFileSync(defPath, 'utf8');
// CloudFormation's DefinitionSubstitutions: ${Name} replaced by its value.
for (const [k, v] of Object.entries(JSON.parse(subsJson || '{}'))) {
  text = text.split('${' + k + '}').join(v);
}
const definition = JSON.parse(text);
const waits = {};
const retries = {};
for (const [n, s] of Object.entries(definition.States)) {
  if (s.Type === 'Wait') waits[n] = Number(process.env.SFN_WAIT_MS || 50);
  if (s.Retry) retries[n] = Number(process.env.SFN_RETRY_MS || 50);
}
const sm = new StateMachine(definition, { validationOptions: { checkArn: true, checkPaths: true } });
const entered = [];
const execution = sm.run(JSON.parse(inputJson), {
  overrides: { waitTimeOverrides: waits, retryIntervalOverrides: retries },
  context: { Execution: { Name: name, Id: 'arn:aws:states:us-east-1:123456789012:execution:test:' + name } },
});
(async () => {
  for await (const ev of execution.eventLogs) {
    if (ev.type === 'StateEntered') entered.push(ev.state.name);
  }
})().catch(() => {});
try {
  const output = await execution.result;
  console.log(JSON.stringify({ status: 'SUCCEEDED', output, states: entered }));
} catch (e) {
  if (e instanceof ExecutionTimeoutError) {
    console.log(JSON.stringify({ status: 'TIMED_OUT', states: entered }));
  } else if (e instanceof ExecutionError) {
    const c = e.cause;
    console.log(JSON.stringify({ status: 'FAILED', error: c?.name ?? String(c), cause: c?.cause ?? c?.message ?? '',
      states: entered }));
  } else {
    console.log(JSON.stringify({ status: 'ERROR', error: String(e && e.stack || e), states: entered }));
  }
}
