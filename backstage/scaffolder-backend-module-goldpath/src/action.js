'use strict';
// The goldpath:new action: `goldpath new` into the task's workspace. The form's answers are
// another party's text: they reach goldpath as a preset file (data it checks against
// copier.yml), never as command-line words, and the command runs without a shell and
// without the portal's credentials in its environment.
const { execFile } = require('node:child_process');
const fs = require('node:fs/promises');
const os = require('node:os');
const path = require('node:path');
const { createTemplateAction } = require('@backstage/plugin-scaffolder-node');

// What goldpath and uv need from the backend's environment; tokens and the like stay out.
const KEPT = ['PATH', 'HOME', 'LANG', 'LC_ALL', 'TMPDIR', 'XDG_CACHE_HOME', 'SSL_CERT_FILE'];
const MAX_ANSWER = 2000;

function childEnvironment(environment) {
  const kept = {};
  for (const [name, value] of Object.entries(environment)) {
    if (KEPT.includes(name) || name.startsWith('UV_')) {
      kept[name] = value;
    }
  }
  return kept;
}

// goldpath without a shell; resolves with its output, rejects with its last line (which
// names the answer and the fix).
function goldpath(command, args, options) {
  return new Promise((resolve, reject) => {
    execFile(command, args, { ...options, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) {
        const said = `${stderr}`.trim().split('\n').pop() || error.message;
        reject(new Error(`goldpath new failed: ${said.slice(0, 500)}`));
      } else {
        resolve(`${stdout}${stderr}`);
      }
    });
  });
}

function createGoldpathNewAction(options = {}) {
  const command = options.command ?? 'goldpath';
  const template = options.template;
  const environment = options.environment ?? process.env;
  return createTemplateAction({
    id: 'goldpath:new',
    description:
      "Renders a goldpath project into the workspace with `goldpath new`: every answer is " +
      "checked against the template's copier.yml, the project is locked and committed.",
    schema: {
      input: {
        answers: z =>
          z
            .record(
              z.string().regex(/^[a-z][a-z0-9_]{0,63}$/),
              z.union([z.string().max(MAX_ANSWER), z.number(), z.boolean()]),
            )
            .describe("The template's questions and their answers, by name"),
      },
      output: {
        answersFile: z => z.string().describe('The rendered project\'s copier answers file'),
      },
    },
    async handler(ctx) {
      // Outside the workspace, which `goldpath new` wants empty, and removed after.
      const scratch = await fs.mkdtemp(path.join(os.tmpdir(), 'goldpath-answers-'));
      try {
        const preset = path.join(scratch, 'answers.json');
        // JSON is YAML: goldpath reads the preset as data, bounded and shape-checked.
        await fs.writeFile(preset, JSON.stringify(ctx.input.answers), { mode: 0o600 });
        const args = ['new', '--preset', preset, '--defaults'];
        if (template) {
          args.push('--template', template);
        }
        args.push('--', ctx.workspacePath);
        ctx.logger.info(`goldpath new into ${ctx.workspacePath}`);
        const said = await goldpath(command, args, {
          cwd: scratch,
          env: childEnvironment(environment),
          timeout: 15 * 60 * 1000,
        });
        for (const line of said.split('\n').filter(Boolean)) {
          ctx.logger.info(line);
        }
      } finally {
        await fs.rm(scratch, { recursive: true, force: true });
      }
      ctx.output('answersFile', '.copier-answers.yml');
    },
  });
}

module.exports = { createGoldpathNewAction, childEnvironment };
