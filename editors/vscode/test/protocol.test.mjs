// Drives the real `plumb lsp` binary through vscode-languageserver-protocol, the library
// vscode-languageclient is built on: initialize → didOpen a buggy file → diagnostics →
// code action → didChange fixing it → diagnostics clear → shutdown/exit with code 0.
// PLUMB_BIN names the binary (default: the workspace's release build).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve, dirname } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import pkg from "vscode-languageserver-protocol/node";

const { createProtocolConnection, StreamMessageReader, StreamMessageWriter } = pkg;
const here = dirname(fileURLToPath(import.meta.url));
const bin = process.env.PLUMB_BIN ?? resolve(here, "../../../target/release/plumb");

const BUGGY = [
  "def median(values):",
  '    """',
  "    >>> median([3, 1, 2])",
  "    2",
  "    >>> median([4, 1, 3, 2])",
  "    2.5",
  '    """',
  "    s = sorted(values)",
  "    m = len(s) // 2",
  "    if len(s) % 2:",
  "        return s[m]",
  "    return (s[m] + s[m + 1]) / 2",
  "",
].join("\n");

function waitFor(list, pred, what, ms = 30000) {
  return new Promise((resolvePromise, reject) => {
    const started = Date.now();
    const timer = setInterval(() => {
      const hit = list.find(pred);
      if (hit) {
        clearInterval(timer);
        resolvePromise(hit);
      } else if (Date.now() - started > ms) {
        clearInterval(timer);
        reject(new Error(`timed out waiting for ${what}`));
      }
    }, 10);
    timer.unref();
  });
}

test("plumb lsp through vscode-languageserver-protocol", async () => {
  const dir = mkdtempSync(join(tmpdir(), "plumb-vscode-"));
  mkdirSync(join(dir, "tests"));
  const file = join(dir, "stats.py");
  writeFileSync(file, BUGGY);
  const uri = pathToFileURL(file).toString();

  const server = spawn(bin, ["lsp"], {
    stdio: ["pipe", "pipe", "ignore"],
    env: { ...process.env, PLUMB_STORE: process.env.PLUMB_STORE ?? "off", PLUMB_MODEL: process.env.PLUMB_MODEL ?? "off" },
  });
  try {
  const exited = new Promise((r) => server.on("exit", (code) => r(code)));
  const connection = createProtocolConnection(
    new StreamMessageReader(server.stdout),
    new StreamMessageWriter(server.stdin),
  );
  const published = [];
  connection.onNotification("textDocument/publishDiagnostics", (p) => published.push(p));
  connection.onRequest("workspace/configuration", () => [{ debounceMs: 20 }]);
  connection.onRequest("window/workDoneProgress/create", () => null);
  connection.listen();

  const init = await connection.sendRequest("initialize", {
    processId: process.pid,
    rootUri: pathToFileURL(dir).toString(),
    capabilities: { workspace: { configuration: true }, window: { workDoneProgress: true } },
    initializationOptions: { debounceMs: 20, timeoutMs: 1000 },
  });
  assert.equal(init.capabilities.positionEncoding, "utf-16");
  await connection.sendNotification("initialized", {});

  await connection.sendNotification("textDocument/didOpen", {
    textDocument: { uri, languageId: "python", version: 1, text: BUGGY },
  });
  const first = await waitFor(published, (p) => p.uri === uri && p.diagnostics.length > 0, "diagnostics");
  const d = first.diagnostics[0];
  assert.equal(d.source, "plumb");
  assert.equal(d.code, "example_failed");
  assert.match(d.message, /returned 3\.5, expected 2\.5/);
  assert.match(d.message, /Expected:\n {4}2\.5\nGot:\n {4}3\.5/);
  assert.deepEqual(d.range, { start: { line: 4, character: 4 }, end: { line: 4, character: 28 } });

  const actions = await connection.sendRequest("textDocument/codeAction", {
    textDocument: { uri },
    range: d.range,
    context: { diagnostics: first.diagnostics },
  });
  const addTest = actions.find((a) => a.title === "Add this example as a unit test in test_stats.py");
  assert.ok(addTest, JSON.stringify(actions.map((a) => a.title)));
  const edit = addTest.edit.documentChanges.find((c) => c.edits);
  assert.match(edit.edits[0].newText, /assert median\(\[4, 1, 3, 2\]\) == 2\.5/);

  await connection.sendNotification("textDocument/didChange", {
    textDocument: { uri, version: 2 },
    contentChanges: [{ range: { start: { line: 11, character: 23 }, end: { line: 11, character: 24 } }, text: "-" }],
  });
  const fixed = await waitFor(published, (p) => p.uri === uri && p.version === 2, "diagnostics for version 2");
  assert.deepEqual(fixed.diagnostics, []);

  await connection.sendRequest("shutdown");
  await connection.sendNotification("exit");
  assert.equal(await exited, 0);
  connection.dispose();
  } finally {
    server.kill();
  }
});
