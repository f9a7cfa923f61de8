'use strict';
// The backend module a Backstage portal adds (backend.add(import(...))) to offer goldpath:new.
// app-config: goldpath.command (default `goldpath` on PATH), goldpath.template (the platform's
// template repository; default: the command's own checkout).
const { coreServices, createBackendModule } = require('@backstage/backend-plugin-api');
const { scaffolderActionsExtensionPoint } = require('@backstage/plugin-scaffolder-node');
const { createGoldpathNewAction } = require('./action');

module.exports = {
  default: createBackendModule({
    pluginId: 'scaffolder',
    moduleId: 'goldpath',
    register(env) {
      env.registerInit({
        deps: { scaffolder: scaffolderActionsExtensionPoint, config: coreServices.rootConfig },
        async init({ scaffolder, config }) {
          scaffolder.addActions(
            createGoldpathNewAction({
              command: config.getOptionalString('goldpath.command'),
              template: config.getOptionalString('goldpath.template'),
            }),
          );
        },
      });
    },
  }),
  createGoldpathNewAction,
};
