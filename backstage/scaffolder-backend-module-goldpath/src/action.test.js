'use strict';
// Run by tests/test_scaffolder_action.py with jest and Backstage's own action-context mock
// (@backstage/plugin-scaffolder-node-test-utils); GOLDPATH_COMMAND names the goldpath to run.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const { createMockActionContext } = require('@backstage/plugin-scaffolder-node-test-utils');
const { createGoldpathNewAction, childEnvironment } = require('./action');

jest.setTimeout(300_000);

function workspace() {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'goldpath-action-'));
}

async function run(answers) {
  const workspacePath = workspace();
  const action = createGoldpathNewAction({ command: process.env.GOLDPATH_COMMAND });
  const ctx = createMockActionContext({ input: { answers }, workspacePath });
  await action.handler(ctx);
  return { workspacePath, ctx };
}

test('renders, locks and commits the project in the workspace', async () => {
  const { workspacePath, ctx } = await run({ project_name: 'rfq-model', owner: 'fx-desk-ml' });
  const answers = fs.readFileSync(path.join(workspacePath, '.copier-answers.yml'), 'utf8');
  expect(answers).toMatch(/^owner: fx-desk-ml$/m);
  expect(fs.existsSync(path.join(workspacePath, 'catalog-info.yaml'))).toBe(true);
  expect(fs.existsSync(path.join(workspacePath, 'uv.lock'))).toBe(true);
  const log = execFileSync('git', ['-C', workspacePath, 'log', '--format=%s'], { encoding: 'utf8' });
  expect(log.trim()).toBe('Start from goldpath');
  expect(ctx.output).toHaveBeenCalledWith('answersFile', '.copier-answers.yml');
});

test('an answer is data: no option, no command, written as given', async () => {
  const marker = path.join(workspace(), 'ran');
  const description = `$(touch ${marker}) \`touch ${marker}\` --template /tmp/evil; "quoted"`;
  const { workspacePath } = await run({ project_name: '--help', description });
  expect(fs.existsSync(marker)).toBe(false);
  const answers = fs.readFileSync(path.join(workspacePath, '.copier-answers.yml'), 'utf8');
  expect(answers).toContain('--help');
  expect(answers).toContain('touch');
  expect(answers).not.toContain('/tmp/evil\n');
});

test('a question the template does not ask is one line naming it', async () => {
  await expect(run({ project_name: 'rfq-model', no_such_question: 'x' })).rejects.toThrow(
    /^goldpath new failed: .*no_such_question/,
  );
});

test('a bad answer is refused before anything is written', async () => {
  const workspacePath = workspace();
  const action = createGoldpathNewAction({ command: process.env.GOLDPATH_COMMAND });
  const ctx = createMockActionContext({ input: { answers: { cloud: 'aws' } }, workspacePath });
  await expect(action.handler(ctx)).rejects.toThrow(/cloud/);
  expect(fs.readdirSync(workspacePath)).toEqual([]);
});

test("the portal's credentials stay out of goldpath's environment", () => {
  const kept = childEnvironment({
    PATH: '/usr/bin', HOME: '/home/backstage', UV_INDEX_URL: 'https://pypi.internal/simple',
    GITHUB_TOKEN: 'ghs_x', AZURE_CLIENT_SECRET: 's', BACKEND_SECRET: 'b', GIT_ASKPASS: '/x',
  });
  expect(Object.keys(kept).sort()).toEqual(['HOME', 'PATH', 'UV_INDEX_URL']);
});

test('the module is a backend feature for the scaffolder plugin', () => {
  const feature = require('./index').default;
  expect(feature.$$type).toBe('@backstage/BackendFeature');
});
