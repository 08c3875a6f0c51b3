// plumb for VS Code: starts `plumb lsp` and shows its findings inline.
import * as vscode from "vscode";
import { LanguageClient, LanguageClientOptions, ServerOptions, State } from "vscode-languageclient/node";

let client: LanguageClient | undefined;
let status: vscode.StatusBarItem;
let output: vscode.LogOutputChannel;
/// Why the server could not be started, when it could not.
let startError: string | undefined;
/// Python documents edited since their last diagnostics: plumb is checking them.
const checking = new Set<string>();

function settings(): Record<string, unknown> {
  const c = vscode.workspace.getConfiguration("plumb");
  return {
    enable: c.get<boolean>("enable", true),
    debounceMs: c.get<number>("debounceMs", 300),
    timeoutMs: c.get<number>("timeoutMs", 2000),
    memoryMb: c.get<number>("memoryMb", 256),
    memoryBudgetMb: c.get<number>("memoryBudgetMb", 1024),
    modelUrl: c.get<string>("modelUrl", "") || null,
    model: c.get<string>("model", "") || null,
    modelChat: c.get<boolean>("modelChat", false),
    modelSamples: c.get<number>("modelSamples", 4),
    modelMode: c.get<string>("modelMode", "save"),
    idleMs: c.get<number>("idleMs", 1500),
    localModel: c.get<string>("localModel", "default"),
    modelThreads: c.get<number>("modelThreads", 0),
  };
}

function serverPath(): string {
  const configured = vscode.workspace.getConfiguration("plumb").get<string>("path", "");
  return configured && configured.length > 0 ? configured : "plumb";
}

function updateStatus(): void {
  if (startError !== undefined || client?.state === State.StartFailed) {
    status.text = "$(error) plumb: not running";
    status.tooltip = `plumb: the server did not start (${startError ?? "see the output"}); check the plumb.path setting`;
    return;
  }
  if (!client || client.state === State.Starting) {
    status.text = "$(sync~spin) plumb";
    status.tooltip = "plumb: starting";
    return;
  }
  if (client.state === State.Stopped) {
    status.text = "$(circle-slash) plumb";
    status.tooltip = "plumb: stopped";
    return;
  }
  if (checking.size > 0) {
    status.text = "$(sync~spin) plumb: checking";
    status.tooltip = `plumb: checking ${checking.size} file(s)`;
    return;
  }
  let failing = 0;
  let suspect = 0;
  for (const [, diagnostics] of vscode.languages.getDiagnostics()) {
    for (const d of diagnostics) {
      if (d.source !== "plumb") continue;
      if (d.severity === vscode.DiagnosticSeverity.Error) failing++;
      // The model's evidence against a function no example or test proves wrong.
      else if (
        d.severity === vscode.DiagnosticSeverity.Warning &&
        (d.code === "counterexample" || d.code === "test_failed")
      )
        suspect++;
    }
  }
  if (failing > 0) {
    status.text = `$(error) plumb: ${failing} failing` + (suspect > 0 ? `, ${suspect} suspect` : "");
    status.tooltip = `plumb: ${failing} failing example(s) or test(s)`;
  } else if (suspect > 0) {
    status.text = `$(warning) plumb: ${suspect} suspect`;
    status.tooltip = "plumb: the model's evidence says some code is wrong; no example or test fails";
  } else {
    status.text = "$(check) plumb";
    status.tooltip = "plumb: idle, nothing failing";
  }
}

async function start(context: vscode.ExtensionContext): Promise<void> {
  const serverOptions: ServerOptions = { command: serverPath(), args: ["lsp"] };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [{ scheme: "file", language: "python" }],
    initializationOptions: settings(),
    synchronize: { configurationSection: "plumb" },
    outputChannel: output,
    middleware: {
      handleDiagnostics: (uri, diagnostics, next) => {
        checking.delete(uri.toString());
        next(uri, diagnostics);
        updateStatus();
      },
    },
  };
  client = new LanguageClient("plumb", "plumb", serverOptions, clientOptions);
  context.subscriptions.push(client.onDidChangeState(() => updateStatus()));
  startError = undefined;
  updateStatus();
  try {
    await client.start();
  } catch (e) {
    startError = e instanceof Error ? e.message : String(e);
    output.error(`plumb: could not start ${serverPath()}: ${startError}`);
    void vscode.window.showErrorMessage(
      `plumb: could not start the server (${serverPath()}): ${startError}. Set plumb.path to the plumb binary.`,
    );
  }
  updateStatus();
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  output = vscode.window.createOutputChannel("plumb", { log: true });
  status = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Left, 0);
  status.command = "plumb.showOutput";
  status.show();
  context.subscriptions.push(output, status);
  context.subscriptions.push(vscode.languages.onDidChangeDiagnostics(() => updateStatus()));
  const touched = (doc: vscode.TextDocument) => {
    if (doc.languageId === "python" && doc.uri.scheme === "file") {
      checking.add(doc.uri.toString());
      updateStatus();
    }
  };
  // The document whose opening activated the extension was opened before it listened: it is being
  // checked too, not "nothing failing".
  vscode.workspace.textDocuments.forEach(touched);
  context.subscriptions.push(
    vscode.workspace.onDidOpenTextDocument(touched),
    vscode.workspace.onDidChangeTextDocument((e) => touched(e.document)),
    vscode.workspace.onDidCloseTextDocument((doc) => {
      checking.delete(doc.uri.toString());
      updateStatus();
    }),
  );
  context.subscriptions.push(
    vscode.commands.registerCommand("plumb.showOutput", () => output.show(true)),
    vscode.commands.registerCommand("plumb.restartServer", async () => {
      if (client) {
        startError = undefined;
        await client.restart();
        updateStatus();
      } else {
        await start(context);
      }
    }),
    vscode.workspace.onDidChangeConfiguration(async (e) => {
      if (e.affectsConfiguration("plumb.path") && client) {
        await client.stop();
        await start(context);
      }
    }),
  );
  // `plumb.recheck` is the server's own command: the language client registers it.
  await start(context);
}

export async function deactivate(): Promise<void> {
  if (client) {
    await client.stop();
  }
}
