// The catalog backend's entity policies (envelope, namespace, field formats, no foreign
// root fields, the Entity schema), as both validators here apply them first.
"use strict";
const model = require("@backstage/catalog-model");

module.exports = model.EntityPolicies.allOf([
  new model.DefaultNamespaceEntityPolicy(),
  new model.NoForeignRootFieldsEntityPolicy(),
  new model.FieldFormatEntityPolicy(),
  new model.SchemaValidEntityPolicy(),
]);
