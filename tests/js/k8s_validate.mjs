// node k8s_validate.mjs DOCS.json: validates every manifest written by tests/ref/deploy_check.py
// against the OpenAPI schemas packaged in kubernetes-models (Kubernetes) and
// @kubernetes-models/knative (Cloud Run's serving.knative.dev/v1). They check types, required
// fields and enums, not unknown keys (the packaged schemas allow additional properties).
// Kustomization is a kustomize file, not an API object: no schema. Exit 1 on any error.
import { readFileSync } from "node:fs";

const docs = JSON.parse(readFileSync(process.argv[2], "utf8"));
let bad = 0, checked = 0;
for (const { file, doc } of docs) {
  if (doc.kind === "Kustomization") continue;
  const [group, version] = doc.apiVersion.includes("/") ? doc.apiVersion.split("/") : ["", doc.apiVersion];
  let mod;
  if (group.endsWith("knative.dev")) mod = `@kubernetes-models/knative/${group}/${version}/${doc.kind}`;
  else mod = `kubernetes-models/${group ? group + "/" : ""}${version}/${doc.kind}`;
  let Model;
  try {
    Model = (await import(mod))[doc.kind];
  } catch (e) {
    console.log(`FAIL: ${file}: no schema for ${doc.apiVersion} ${doc.kind} (${mod})`);
    bad++;
    continue;
  }
  try {
    new Model(doc).validate();
    checked++;
    console.log(`schema ok: ${file}: ${doc.apiVersion} ${doc.kind} ${doc.metadata.name}`);
  } catch (e) {
    console.log(`FAIL: ${file}: ${doc.kind} ${doc.metadata?.name}: ${e.message}`);
    bad++;
  }
}
console.log(`${checked} manifests valid, ${bad} invalid`);
process.exit(bad ? 1 : 0);
