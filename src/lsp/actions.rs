//! Hover text and code actions, computed from the latest analysis of a document.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use tower_lsp_server::ls_types::{
    CodeAction, CodeActionKind, Command, CreateFile, CreateFileOptions, Diagnostic, DocumentChangeOperation,
    DocumentChanges, OneOf, OptionalVersionedTextDocumentIdentifier, Position, Range, ResourceOp, TextDocumentEdit,
    TextEdit, Uri, WorkspaceEdit,
};

use crate::engine::{FileReport, FunctionReport};
use crate::judge::{FindingKind, Status};
use crate::syntax::Example;

/// The kind of the "this finding is right / a false alarm" actions: they fix nothing, so they are
/// not quick fixes; a client asking only for quick fixes does not get them.
pub(super) const LABEL_KIND: &str = "plumb.label";

/// Whether a client that asked for `only` these kinds wants `action` (LSP: a kind matches itself
/// and its sub-kinds, `quickfix` matches `quickfix.x`).
pub(super) fn wanted(action: &CodeAction, only: Option<&[CodeActionKind]>) -> bool {
    let Some(only) = only else { return true };
    let kind = action.kind.as_ref().map(CodeActionKind::as_str).unwrap_or("");
    only.iter().any(|k| {
        let k = k.as_str();
        kind == k || (kind.starts_with(k) && kind[k.len()..].starts_with('.'))
    })
}

/// Markdown for the function whose name (or definition) covers `offset`.
pub(super) fn hover(result: &FileReport, offset: usize) -> Option<String> {
    let f = function_at(result, offset)?;
    let v = &f.verdict;
    let status = match v.status {
        Status::Failing => "failing",
        Status::Suspect => "suspect (the model's evidence says it is wrong; no example or test fails)",
        Status::Passing => "passing",
        Status::Unverified => "unverified (not enough evidence)",
    };
    let confidence = match v.confidence {
        Some(c) => format!("{:.0}%", c * 100.0),
        None => "not calibrated yet".into(),
    };
    let e = &v.evidence;
    let parts = v
        .parts
        .as_ref()
        .map(|p| {
            let mut items = vec![format!("examples passed {}", p.examples_passed)];
            if p.verified_failure {
                items.push("verified failure".into());
            }
            if let Some(t) = p.tests_passed {
                items.push(format!("generated tests passed {:.0}%", t * 100.0));
            }
            if let Some(a) = p.agreement {
                items.push(format!("consensus {:.0}% of candidates", a * 100.0));
            }
            if p.counterexample {
                items.push("counterexample".into());
            }
            if let Some(t) = p.p_true {
                items.push(format!("P(True) {t:.2}"));
            }
            format!(" ({})", items.join(", "))
        })
        .unwrap_or_default();
    let confidence = format!("{confidence}{parts}");
    Some(format!(
        "**plumb** · `{}` is **{status}**\n\n| evidence | count |\n|---|---|\n| docstring examples | {} |\n| user tests | {} |\n| generated tests | {} |\n| candidate solutions | {} |\n\nconfidence: {confidence} · findings: {}{}",
        f.function.qualified_name,
        e.examples,
        e.user_tests,
        e.generated_tests,
        e.candidates,
        v.findings.len(),
        result.model.as_ref().map(|m| format!("\n\nmodel: {m}")).unwrap_or_default()
    ))
}

fn function_at(result: &FileReport, offset: usize) -> Option<&FunctionReport> {
    // The innermost function whose range contains the offset.
    result
        .functions
        .iter()
        .filter(|f| f.function.range.start <= offset && offset <= f.function.range.end)
        .min_by_key(|f| f.function.range.end - f.function.range.start)
}

/// "Add this example as a unit test" for each failing example among `diagnostics`.
pub(super) fn code_actions(
    uri: &Uri,
    result: &FileReport,
    diagnostics: &[Diagnostic],
    existing: &TestFile,
) -> Vec<CodeAction> {
    let Some(path) = uri.to_file_path().map(|p| p.into_owned()) else { return Vec::new() };
    let mut actions = Vec::new();
    let mut labels = Vec::new();
    for d in diagnostics {
        let Some(data) = &d.data else { continue };
        if let Some(execution) = data["execution"].as_str() {
            for (label, title) in
                [("right", "plumb: this finding is right"), ("false_alarm", "plumb: this is a false alarm")]
            {
                labels.push(CodeAction {
                    title: title.into(),
                    kind: Some(CodeActionKind::new(LABEL_KIND)),
                    diagnostics: Some(vec![d.clone()]),
                    command: Some(Command {
                        title: title.into(),
                        command: super::server::LABEL.into(),
                        arguments: Some(vec![
                            serde_json::json!({"execution": execution, "kind": data["kind"], "label": label}),
                        ]),
                    }),
                    ..CodeAction::default()
                });
            }
        }
        if data["kind"] != FindingKind::ExampleFailed.as_str() {
            continue;
        }
        let Some(start) = data["start"].as_u64().map(|s| s as usize) else { continue };
        let Some((func, index)) = example_at(result, start) else { continue };
        let Some(test) = unit_test(&path, func, index) else { continue };
        if let Some(action) = add_test_action(&path, &test, "this example", d, existing) {
            actions.push(action);
        }
    }
    actions.extend(labels);
    actions
}

/// "Add counterexample as a test" and "Apply suggested fix" for the model's findings.
pub(super) fn model_actions(
    uri: &Uri,
    result: &FileReport,
    diagnostics: &[Diagnostic],
    existing: &TestFile,
    encoding: crate::syntax::PositionEncoding,
) -> Vec<CodeAction> {
    let Some(path) = uri.to_file_path().map(|p| p.into_owned()) else { return Vec::new() };
    let mut actions = Vec::new();
    for d in diagnostics {
        let Some(data) = &d.data else { continue };
        let kind = data["kind"].as_str().unwrap_or("");
        if kind != FindingKind::Counterexample.as_str() && kind != FindingKind::TestFailed.as_str() {
            continue;
        }
        let Some(start) = data["start"].as_u64().map(|s| s as usize) else { continue };
        let Some(func) = result.functions.iter().find(|f| f.function.name_range.start == start) else { continue };
        if kind == FindingKind::Counterexample.as_str()
            && let Some(assertion) = &func.verdict.counterexample_test
        {
            let module = path.file_stem().and_then(|s| s.to_str()).unwrap_or("module");
            let test = UnitTest {
                import: format!("from {module} import {}", func.function.name),
                body: format!(
                    "def test_{}_counterexample():\n    {assertion}\n",
                    func.function.name.trim_start_matches('_')
                ),
            };
            if let Some(action) = add_test_action(&path, &test, "the counterexample", d, existing) {
                actions.push(action);
            }
        }
        if let Some(fix) = &func.verdict.fix
            && !actions.iter().any(|a: &CodeAction| a.title.starts_with("Apply suggested fix"))
            && let Some(new_text) = fixed_function(&result.text, &func.function, &fix.source)
        {
            let f = &func.function;
            let range = super::to_proto::range(&result.text, &result.line_index, f.range, encoding);
            actions.push(CodeAction {
                title: format!("Apply suggested fix (passes {} of {} generated tests)", fix.passes, fix.of),
                kind: Some(CodeActionKind::QUICKFIX),
                diagnostics: Some(vec![d.clone()]),
                edit: Some(WorkspaceEdit {
                    changes: Some(HashMap::from([(uri.clone(), vec![TextEdit { range, new_text }])])),
                    document_changes: None,
                    change_annotations: None,
                }),
                ..CodeAction::default()
            });
        }
    }
    actions
}

/// The user's header and docstring with the candidate's body.
fn fixed_function(text: &str, f: &crate::syntax::Function, candidate: &str) -> Option<String> {
    let parsed = crate::syntax::parse(candidate);
    let c = parsed.functions.iter().find(|c| c.name == f.name)?;
    let body_start = match &c.docstring {
        Some(d) => candidate[d.range.end..].find('\n').map(|i| d.range.end + i + 1)?,
        None => candidate[c.range.start..].find(":\n").map(|i| c.range.start + i + 2)?,
    };
    let body = &candidate[body_start..c.range.end];
    let own = &text[f.range.start..f.range.end];
    let head_end = match &f.docstring {
        Some(d) => text[d.range.end..].find('\n').map(|i| d.range.end + i + 1).unwrap_or(d.range.end),
        None => text[f.range.start..].find(":\n").map(|i| f.range.start + i + 2)?,
    };
    let head = &text[f.range.start..head_end.min(f.range.end)];
    let fixed = format!("{head}{}", body.trim_end_matches('\n'));
    (fixed != own).then_some(fixed)
}

/// A code action that appends `test` to the module's test file (creating it if needed).
fn add_test_action(
    path: &Path,
    test: &UnitTest,
    what: &str,
    d: &Diagnostic,
    existing: &TestFile,
) -> Option<CodeAction> {
    let test_path = test_file_for(path);
    let test_uri = Uri::from_file_path(&test_path)?;
    let current = match existing {
        TestFile::Text(text) => Some(text.clone()),
        TestFile::Absent => None,
        // Neither open nor readable as a plain file: better no action than a wrong edit.
        TestFile::Unknown => return None,
    };
    let (insert_at, text) = match &current {
        Some(content) => {
            let lines = content.split('\n').count() as u32;
            let sep = if content.ends_with('\n') { "\n\n" } else { "\n\n\n" };
            (Position::new(lines.saturating_sub(1), u32::MAX), format!("{sep}{}", test.body))
        }
        None => (Position::new(0, 0), format!("{}\n\n\n{}", test.import, test.body)),
    };
    let mut ops = Vec::new();
    if current.is_none() {
        ops.push(DocumentChangeOperation::Op(ResourceOp::Create(CreateFile {
            uri: test_uri.clone(),
            options: Some(CreateFileOptions { overwrite: Some(false), ignore_if_exists: Some(true) }),
            annotation_id: None,
        })));
    }
    let text = if current.as_deref().is_some_and(|c| !c.contains(&test.import)) {
        format!("\n{}{}", test.import, text)
    } else {
        text
    };
    ops.push(DocumentChangeOperation::Edit(TextDocumentEdit {
        text_document: OptionalVersionedTextDocumentIdentifier { uri: test_uri, version: None },
        edits: vec![OneOf::Left(TextEdit { range: Range::new(insert_at, insert_at), new_text: text })],
    }));
    let name = test_path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    Some(CodeAction {
        title: format!("Add {what} as a unit test in {name}"),
        kind: Some(CodeActionKind::QUICKFIX),
        diagnostics: Some(vec![d.clone()]),
        edit: Some(WorkspaceEdit {
            changes: None::<HashMap<Uri, Vec<TextEdit>>>,
            document_changes: Some(DocumentChanges::Operations(ops)),
            change_annotations: None,
        }),
        ..CodeAction::default()
    })
}

fn example_at(result: &FileReport, start: usize) -> Option<(&FunctionReport, usize)> {
    result
        .functions
        .iter()
        .find_map(|f| f.function.examples.iter().position(|e| e.range.start == start).map(|i| (f, i)))
}

struct UnitTest {
    import: String,
    body: String,
}

/// A pytest-style test for example `index` of `func`: the docstring's earlier statements as setup,
/// then an assertion of the expected value (or of the raised exception). None where the example
/// cannot be said as an assertion (printed output that is not a literal, several statements).
fn unit_test(path: &Path, func: &FunctionReport, index: usize) -> Option<UnitTest> {
    let examples = &func.function.examples;
    let ex: &Example = examples.get(index)?;
    let module = path.file_stem()?.to_str()?;
    let top = func.function.qualified_name.split('.').next()?;
    let mut lines: Vec<String> = Vec::new();
    for earlier in &examples[..index] {
        if earlier.want.is_empty() && !earlier.skip {
            lines.extend(earlier.source.lines().map(str::to_string));
        }
    }
    let source = ex.source.trim_end();
    if source.contains('\n') {
        return None;
    }
    let want = ex.want.trim_end();
    let mut needs_pytest = false;
    if want.is_empty() {
        lines.push(format!("assert {source}"));
    } else if let Some(last) = want.strip_prefix("Traceback (most recent call last):").and_then(|t| t.lines().last()) {
        let exc = last.split(':').next()?.trim();
        needs_pytest = true;
        lines.push(format!("with pytest.raises({exc}):"));
        lines.push(format!("    {source}"));
    } else if is_literal_like(want) {
        lines.push(format!("assert {source} == {want}"));
    } else {
        return None;
    }
    let name = format!("test_{}_example_line_{}", func.function.name.trim_start_matches('_'), ex.line + 1);
    let body = format!("def {name}():\n{}\n", lines.iter().map(|l| format!("    {l}")).collect::<Vec<_>>().join("\n"));
    let mut import = format!("from {module} import {top}");
    if needs_pytest {
        import = format!("import pytest\n\n{import}");
    }
    Some(UnitTest { import, body })
}

/// One line that reads as a Python literal (the judge compared it by value).
fn is_literal_like(want: &str) -> bool {
    !want.contains('\n')
        && (want.starts_with(['\'', '"', '[', '(', '{', '-'])
            || want.chars().next().is_some_and(|c| c.is_ascii_digit())
            || matches!(want, "True" | "False" | "None"))
}

/// What is known of the test file an action would append to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum TestFile {
    /// Its text (the editor's, when it is open).
    Text(String),
    /// It does not exist yet.
    Absent,
    /// It could not be read in time, or is not a plain file.
    Unknown,
}

/// Test files larger than this are not read for an action.
const MAX_TEST_FILE: u64 = 4 << 20;

/// Reads a test file from disk: only a plain file of sane size. Blocking: call it off the
/// server's runtime thread (a FIFO or a slow network file system must not freeze the server).
pub(super) fn read_test_file(path: &Path) -> TestFile {
    match std::fs::metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => TestFile::Absent,
        Ok(m) if m.is_file() && m.len() <= MAX_TEST_FILE => {
            std::fs::read_to_string(path).map_or(TestFile::Unknown, TestFile::Text)
        }
        _ => TestFile::Unknown,
    }
}

/// `tests/test_<module>.py` under the nearest project root that has a `tests/` folder, else
/// `test_<module>.py` beside the file.
pub(super) fn test_file_for(path: &Path) -> PathBuf {
    let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "module".into());
    let file = format!("test_{stem}.py");
    let mut dir = path.parent();
    while let Some(d) = dir {
        if d.join("tests").is_dir() {
            return d.join("tests").join(file);
        }
        if d.join(".git").exists() || d.join("pyproject.toml").exists() {
            break;
        }
        dir = d.parent();
    }
    path.with_file_name(file)
}
