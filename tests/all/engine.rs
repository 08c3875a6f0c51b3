//! The engine as a library user drives it: one `Engine`, a fake coder on loopback standing in for
//! the model, the real sandbox. What the faces add (rendering, LSP) is tested in `cli` and `lsp`.

use plumb::base::Cancel;
use plumb::engine::{Document, Engine, Options, StoreChoice};
use plumb::judge::{FindingKind, Severity, Status};
use plumb::store::{ProgramSource, TestKind};

use crate::support::{FAKE_TESTS_ANSWER, fake_coder_server};

/// Three correct ways to write `add`, one wrong.
const ADD_CANDIDATES: &[&str] =
    &["    return a + b\n", "    return b + a\n", "    return sum((a, b))\n", "    return a - b\n"];

const SUBTLE: &str =
    "def add(a, b):\n    \"\"\"\n    >>> add(1, 1)\n    2\n    \"\"\"\n    return 0 if a == 2 else a + b\n";

fn engine(requests: usize) -> Engine {
    let url = fake_coder_server(FAKE_TESTS_ANSWER, ADD_CANDIDATES, requests);
    let options = Options {
        model_url: Some(url),
        model_name: Some("coder".into()),
        store: StoreChoice::Off,
        ..Options::default()
    };
    Engine::new(options.settings())
}

fn doc(text: &str) -> Document {
    Document::from_bytes("m.py", text.as_bytes()).unwrap()
}

#[test]
fn one_check_judges_the_matrix_and_records_every_row() {
    // Two requests: the tests and the candidates, once.
    let engine = engine(2);
    let r = engine.check(&doc(SUBTLE), true, &Cancel::new(), &mut |_| {}).unwrap();
    let v = &r.functions[0].verdict;
    assert_eq!(r.model_error, None);
    // Its example passes; a strong consensus, supported by the tests, says it is wrong.
    assert_eq!(v.status, Status::Suspect, "{v:#?}");
    let cx = v.findings.iter().find(|f| f.kind == FindingKind::Counterexample).expect("a counterexample");
    assert_eq!(cx.severity, Severity::Warning);
    assert_eq!(v.counterexample_test.as_deref(), Some("assert add(2, 0) == 2"));
    assert_eq!(v.fix.as_ref().map(|f| (f.passes, f.of)), Some((3, 3)));
    assert_eq!(v.evidence.candidates, 4);
    assert_eq!(v.evidence.model.as_deref(), Some("coder"));
    // The user's function on its example, and the three candidates that loaded and agree or not.
    let user: Vec<_> = r.records.iter().filter(|x| x.source == ProgramSource::User).collect();
    assert_eq!(user.len(), 1);
    assert_eq!(user[0].tests[0].kind, TestKind::Example);
    let candidates: Vec<_> = r.records.iter().filter(|x| x.source == ProgramSource::Candidate).collect();
    assert_eq!(candidates.len(), 4, "{:#?}", r.records);
    assert!(candidates.iter().all(|c| c.tests.iter().any(|t| t.kind == TestKind::Generated)));

    // Moved by an edit above it: the same text hits the cache (the coder would not answer again)
    // and its findings move with it.
    let moved = format!("X = 1\n\n{SUBTLE}");
    let again = engine.check(&doc(&moved), true, &Cancel::new(), &mut |_| {}).unwrap();
    assert_eq!(again.model_error, None, "a cache hit asks no model");
    assert!(again.records.is_empty(), "a cached verdict records nothing again");
    let shifted = &again.functions[0].verdict.findings;
    assert_eq!(shifted.len(), v.findings.len());
    assert_eq!(shifted[0].range.start, v.findings[0].range.start + "X = 1\n\n".len());
}

#[test]
fn a_check_that_does_not_ask_the_model_is_not_kept() {
    // Only the second check asks; the first is judged on its example alone and not cached.
    let engine = engine(2);
    let quiet = engine.check(&doc(SUBTLE), false, &Cancel::new(), &mut |_| {}).unwrap();
    let v = &quiet.functions[0].verdict;
    assert_eq!(v.status, Status::Passing);
    assert!(v.findings.is_empty());
    assert_eq!(v.evidence.model, None);
    let asked = engine.check(&doc(SUBTLE), true, &Cancel::new(), &mut |_| {}).unwrap();
    assert!(asked.functions[0].verdict.findings.iter().any(|f| f.kind == FindingKind::Counterexample));
}

#[test]
fn a_cancelled_check_is_not_cached() {
    let options = Options { no_model: true, timeout_ms: 200, store: StoreChoice::Off, ..Options::default() };
    let engine = Engine::new(options.settings());
    let looping = "def f():\n    \"\"\"\n    >>> f()\n    1\n    \"\"\"\n    while True:\n        pass\n";
    let cancel = Cancel::new();
    cancel.cancel();
    let r = engine.check(&doc(looping), true, &cancel, &mut |_| {}).unwrap();
    assert_ne!(r.functions[0].verdict.status, Status::Failing, "{:#?}", r.functions[0].verdict);
    // Not cancelled this time: the same engine runs it again (nothing was cached), and the loop
    // is the function's own fault.
    let r = engine.check(&doc(looping), true, &Cancel::new(), &mut |_| {}).unwrap();
    assert_eq!(r.functions[0].verdict.findings[0].kind, FindingKind::Timeout);
}
