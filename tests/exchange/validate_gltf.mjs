// Validate a glTF 2.0 file (.glb, or self-contained .gltf) with the Khronos glTF-Validator
// and print its JSON report on stdout.
//
// Usage: node validate_gltf.mjs FILE PACKAGE_DIR
// PACKAGE_DIR is the folder whose node_modules holds gltf-validator (the QA viewer's:
// server/arinspect_server/viewer). Exit code 0 when a report was printed (whatever it
// says), 2 when the file or the package cannot be read.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

const [file, packageDir] = process.argv.slice(2);
if (!file || !packageDir) {
  console.error("usage: node validate_gltf.mjs FILE PACKAGE_DIR");
  process.exit(2);
}
let validator;
let bytes;
try {
  validator = createRequire(path.resolve(packageDir, "package.json"))("gltf-validator");
  bytes = new Uint8Array(readFileSync(file));
} catch (error) {
  console.error(String(error));
  process.exit(2);
}
const report = await validator.validateBytes(bytes, {
  uri: path.basename(file),
  maxIssues: 1000,
  writeTimestamp: false,
});
process.stdout.write(JSON.stringify(report, null, 1) + "\n");
