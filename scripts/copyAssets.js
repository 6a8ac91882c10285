// tsc emits only JavaScript; the report page's stylesheet is read at run time from next to its module
// (src/render/report/inlineAssets.ts), so every .css file under src is copied to the same place in dist.
import { cpSync, readdirSync } from "node:fs";
import { join } from "node:path";

for (const file of readdirSync("src", { recursive: true, encoding: "utf8" })) {
  if (file.endsWith(".css")) cpSync(join("src", file), join("dist", "src", file));
}
