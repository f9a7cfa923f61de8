// Checks catalog entities the way a Backstage catalog does when it ingests them: the
// catalog backend's entity policies (envelope, namespace, field formats, no foreign root
// fields, the Entity schema) and the built-in kinds' validators, all from the published
// @backstage/catalog-model. Reads a JSON array of entities on stdin; prints one JSON line
// per entity: {"ref": "...", "problems": ["..."]}.
"use strict";
const model = require("@backstage/catalog-model");

const policy = require("./policy");
const kinds = [
  model.apiEntityV1alpha1Validator,
  model.componentEntityV1alpha1Validator,
  model.domainEntityV1alpha1Validator,
  model.groupEntityV1alpha1Validator,
  model.locationEntityV1alpha1Validator,
  model.resourceEntityV1alpha1Validator,
  model.systemEntityV1alpha1Validator,
  model.userEntityV1alpha1Validator,
];

async function check(entity) {
  const problems = [];
  let checked = entity;
  try {
    checked = await policy.enforce(entity);
  } catch (error) {
    problems.push(String(error.message || error));
  }
  let known = false;
  for (const validator of kinds) {
    try {
      if (await validator.check(checked)) known = true;
    } catch (error) {
      problems.push(String(error.message || error));
      known = true;
    }
  }
  if (!known) problems.push(`no built-in kind validates kind ${entity && entity.kind}`);
  let ref = "?";
  try {
    ref = model.stringifyEntityRef(checked);
  } catch (error) {
    // the problems above say why
  }
  return { ref, problems };
}

let input = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => (input += chunk));
process.stdin.on("end", async () => {
  for (const entity of JSON.parse(input)) {
    process.stdout.write(JSON.stringify(await check(entity)) + "\n");
  }
});
