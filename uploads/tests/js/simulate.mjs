// Evaluate IAM requests with @cloud-copilot/iam-simulate (an independent IAM policy
// evaluator). Reads {cases: [{principal, action, resource, accountId, identityPolicies,
// sessionPolicy, resourcePolicy, context}]} on stdin; prints one result per case.
import { runSimulation } from "@cloud-copilot/iam-simulate";

const input = JSON.parse(await new Promise((resolve) => {
  let data = "";
  process.stdin.on("data", (c) => (data += c));
  process.stdin.on("end", () => resolve(data));
}));

const results = [];
for (const c of input.cases) {
  const simulation = {
    request: {
      principal: c.principal,
      action: c.action,
      resource: { resource: c.resource, accountId: c.accountId },
      contextVariables: c.context || {},
    },
    identityPolicies: c.identityPolicies.map((p, i) => ({ name: `identity-${i}`, policy: p })),
    serviceControlPolicies: [],
    resourceControlPolicies: [],
  };
  if (c.sessionPolicy) simulation.sessionPolicy = c.sessionPolicy;
  if (c.resourcePolicy) simulation.resourcePolicy = c.resourcePolicy;
  const out = await runSimulation(simulation, {});
  const result = out.result?.analysis?.result;
  results.push(result ? { result } : { error: JSON.stringify(out).slice(0, 2000) });
}
process.stdout.write(JSON.stringify(results));
