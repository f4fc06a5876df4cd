#!/usr/bin/env node
// Thin entry: everything lives in the compiled CLI so `fleet --version` stays cheap.
import { main } from "../dist/src/cli/main.js";

process.exitCode = await main(process.argv.slice(2));
