// App-level setup for the Functions host. Every function file imports this first, because package.json "main"
// names only the function files.
import { app } from "@azure/functions";

app.setup({ enableHttpStream: false });
