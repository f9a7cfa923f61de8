// Checks a software template as Backstage's scaffolder does when the catalog ingests it:
// the catalog model's entity policies, then the Template kind's own validator from the
// published @backstage/plugin-scaffolder-common. Reads one entity (JSON) on stdin; prints
// {"problems": [...]}.
"use strict";
const scaffolder = require("@backstage/plugin-scaffolder-common");

const policy = require("./policy");

let input = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => (input += chunk));
process.stdin.on("end", async () => {
  const problems = [];
  let entity = JSON.parse(input);
  try {
    entity = await policy.enforce(entity);
  } catch (error) {
    problems.push(String(error.message || error));
  }
  try {
    if (!(await scaffolder.templateEntityV1beta3Validator.check(entity))) {
      problems.push("not a scaffolder.backstage.io/v1beta3 Template");
    }
  } catch (error) {
    problems.push(String(error.message || error));
  }
  process.stdout.write(JSON.stringify({ problems }) + "\n");
});
