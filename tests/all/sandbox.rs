//! The sandbox's observations through the real runtime: doctest semantics, value comparison,
//! normalised tracebacks, assert values, linking.

use plumb::sandbox::{Case, CaseKind, Class, Outcome, Ran};

use crate::support::{assert_case, example, program, quick_limits, run, sandbox};

fn ran(o: &Outcome) -> &Ran {
    o.ran().unwrap_or_else(|| panic!("expected the case to run: {o:?}"))
}

#[test]
fn imports_are_wasi_and_the_host_only() {
    let imports = sandbox().imports();
    assert!(!imports.is_empty());
    for name in &imports {
        assert!(name.starts_with("wasi:") || name == "plumb:runner/host@0.1.0", "unexpected import {name}");
    }
}

#[test]
fn doctest_semantics_and_value_comparison() {
    let source = "def f(x):\n    return str(x)\ndef g():\n    print('a   b')\n    return None\n";
    let cases = vec![
        example("f(21)", "\"21\"\n"),                              // value equal, text differs
        example("f(21)", "'21'\n"),                                // text equal
        example("f(21)", "'22'\n"),                                // neither
        example("f(21) == '21'", ""),                              // asserts True
        example("g()", "a   b\n"),                                 // printed output
        example("[f(i) for i in range(30)]", "['0', '1', ...]\n"), // no ELLIPSIS: fails
        Case {
            kind: CaseKind::Example { want: "['0', '1', ...]\n".into(), options: vec!["ELLIPSIS".into()] },
            source: "[f(i) for i in range(30)]\n".into(),
            line: 0,
        },
        example("x = 5", ""),
        example("x + 1", "6\n"), // state shared within a group
        example("_", "6\n"),     // doctest's `_`
        example(
            "int('z')",
            "Traceback (most recent call last):\n  ...\nValueError: invalid literal for int() with base 10: 'z'\n",
        ),
    ];
    let report = run(&program(source, vec![cases, vec![example("x", "5\n")]]), &quick_limits());
    let o = &report.outcomes[0];
    assert_eq!((ran(&o[0]).text_match, ran(&o[0]).value_equal), (Some(false), Some(true)));
    assert_eq!(ran(&o[1]).text_match, Some(true));
    assert_eq!((ran(&o[2]).text_match, ran(&o[2]).value_equal), (Some(false), Some(false)));
    assert_eq!(ran(&o[3]).value.as_ref().map(|v| v.kind.as_str()), Some("true"));
    assert_eq!(ran(&o[4]).text_match, Some(true));
    assert_eq!(ran(&o[5]).text_match, Some(false));
    assert_eq!(ran(&o[6]).text_match, Some(true));
    assert_eq!(ran(&o[8]).text_match, Some(true));
    assert_eq!(ran(&o[9]).text_match, Some(true));
    assert_eq!(ran(&o[10]).text_match, Some(true), "{:?}", o[10]);
    // Another docstring does not see the first one's names.
    let other = ran(&report.outcomes[1][0]);
    assert_eq!(other.exception.as_ref().map(|e| e.exc_type.as_str()), Some("NameError"));
    assert_eq!(other.exception.as_ref().and_then(|e| e.missing_name.as_deref()), Some("x"));
}

#[test]
fn tracebacks_are_normalised_to_the_users_file() {
    let source = "import json\n\ndef parse(text):\n    return json.loads(text)['key']\n";
    let mut case = example("parse('[1]')", "1\n");
    case.line = 7;
    let report = run(&program(source, vec![vec![case]]), &quick_limits());
    let exc = ran(&report.outcomes[0][0]).exception.clone().expect("it raised");
    assert_eq!(exc.exc_type, "TypeError");
    assert_eq!(exc.line, Some(3), "innermost frame in the user's file: line 4 (0-based 3)");
    assert!(exc.traceback.starts_with("Traceback (most recent call last):\n"));
    assert!(exc.traceback.contains("File \"hostile.py\", line 8, in <module>"), "{}", exc.traceback);
    assert!(exc.traceback.contains("File \"hostile.py\", line 4, in parse"), "{}", exc.traceback);
    assert!(!exc.traceback.contains("json/"), "frames outside the user's file are dropped: {}", exc.traceback);
    assert!(!exc.traceback.contains("app.py"), "the runner's frames never show: {}", exc.traceback);
}

#[test]
fn syntax_errors_in_examples_lose_their_column() {
    let report = run(&program("def f():\n    return 1\n", vec![vec![example("f(", "1\n")]]), &quick_limits());
    let exc = ran(&report.outcomes[0][0]).exception.clone().unwrap();
    assert_eq!(exc.exc_type, "SyntaxError");
    assert!(!exc.traceback.contains('^'), "no column marker: {}", exc.traceback);
}

#[test]
fn assert_cases_report_both_sides() {
    let source = "def clamp(x, lo, hi):\n    return max(lo, x)\n";
    let cases = vec![
        assert_case("assert clamp(3, 0, 5) == 3"),
        assert_case("assert clamp(9, 0, 5) == 5"),
        assert_case("assert clamp(1, 0, 5)"),
    ];
    let report = run(&program(source, vec![cases]), &quick_limits());
    let o = &report.outcomes[0];
    assert_eq!(o[0].class(), Class::Completed);
    let failed = ran(&o[1]);
    assert_eq!(failed.exception.as_ref().unwrap().exc_type, "AssertionError");
    assert_eq!((failed.actual.as_deref(), failed.expected.as_deref()), (Some("9"), Some("5")));
    assert_eq!(o[2].class(), Class::Completed);
}

#[test]
fn broken_top_level_statements_are_reported_and_skipped() {
    let source = "import numpy as np\nimport math\ndef f():\n    return math.floor(2.5)\n";
    let report = run(&program(source, vec![vec![example("f()", "2\n"), example("np.zeros(1)", "")]]), &quick_limits());
    assert_eq!(report.setup.len(), 1);
    assert_eq!(report.setup[0].chunk, 0);
    assert_eq!(report.setup[0].outcome.exception().unwrap().exc_type, "ModuleNotFoundError");
    assert_eq!(ran(&report.outcomes[0][0]).text_match, Some(true));
    assert_eq!(ran(&report.outcomes[0][1]).exception.as_ref().unwrap().missing_name.as_deref(), Some("np"));
}

#[test]
fn concurrent_runs_are_isolated() {
    let handles: Vec<_> = (0..8)
        .map(|i| {
            std::thread::spawn(move || {
                let source = format!("N = {i}\ndef f():\n    return N\n");
                let r = run(&program(&source, vec![vec![example("f()", &format!("{i}\n"))]]), &quick_limits());
                ran(&r.outcomes[0][0]).text_match
            })
        })
        .collect();
    for h in handles {
        assert_eq!(h.join().unwrap(), Some(true));
    }
}

#[test]
fn cached_compiled_code_gives_the_same_outcomes() {
    let source = "def clamp(x, lo, hi):\n    return max(lo, x)\n";
    let cases =
        vec![assert_case("assert clamp(9, 0, 5) == 5"), example("clamp(1, 0, 5)", "1\n"), example("clamp(", "1\n")];
    let p = program(source, vec![cases]);
    sandbox().forget_compiled();
    let first = run(&p, &quick_limits());
    let second = run(&p, &quick_limits());
    let strip = |r: &plumb::sandbox::Report| -> Vec<String> {
        r.outcomes[0]
            .iter()
            .map(|o| match o.ran() {
                Some(r) => format!("{:?} {:?} {:?} {:?}", r.exception, r.actual, r.expected, r.text_match),
                None => format!("{o:?}"),
            })
            .collect()
    };
    assert_eq!(strip(&first), strip(&second));
    assert_eq!(ran(&second.outcomes[0][0]).actual.as_deref(), Some("9"));
}

#[test]
fn each_run_has_a_private_capped_scratch_directory() {
    let source = "import os, tempfile\n\ndef write():\n    with open('a.txt', 'w') as f:\n        f.write('hi')\n    return sorted(os.listdir('.')), os.getcwd(), tempfile.gettempdir()\n\ndef fill():\n    with open('big', 'wb') as f:\n        while True:\n            f.write(b'x' * (1 << 20))\n";
    let limits = plumb::sandbox::Limits {
        case_deadline: std::time::Duration::from_secs(20),
        run_deadline: std::time::Duration::from_secs(40),
        ..plumb::sandbox::Limits::default()
    };
    let report = run(
        &program(
            source,
            vec![
                vec![example("write()", "(['a.txt'], '/tmp', '/tmp')\n"), example("open('a.txt').read()", "'hi'\n")],
                vec![example("fill()", "")],
            ],
        ),
        &limits,
    );
    assert_eq!(ran(&report.outcomes[0][0]).text_match, Some(true), "{:?}", report.outcomes[0][0]);
    assert_eq!(ran(&report.outcomes[0][1]).text_match, Some(true), "{:?}", report.outcomes[0][1]);
    match &report.outcomes[1][0] {
        Outcome::MemoryLimit { detail } => assert!(detail.contains("scratch directory"), "{detail}"),
        other => panic!("writing without end must stop at the scratch cap: {other:?}"),
    }
    // The next run starts from an empty directory.
    let again = run(&program(source, vec![vec![example("sorted(os.listdir('.'))", "[]\n")]]), &quick_limits());
    assert_eq!(ran(&again.outcomes[0][0]).text_match, Some(true), "{:?}", again.outcomes[0][0]);
}

#[test]
fn what_the_sandbox_lacks_is_marked_not_blamed() {
    // Threads, processes and the network are missing in WASI: such failures say so (the judge
    // leaves them unjudged); permission bits are those of a user's own files.
    let source = "import os, stat, threading, subprocess, socket\n";
    let cases = vec![
        example("threading.Thread(target=print).start()", ""),
        example("subprocess.run(['ls'])", ""),
        example("socket.create_connection(('127.0.0.1', 9))", ""),
        example("os.getppid()", ""),
        example("oct(stat.S_IMODE(os.stat('.').st_mode))", "'0o755'\n"),
    ];
    let report = run(&program(source, vec![cases]), &quick_limits());
    let lacks = |k: usize| ran(&report.outcomes[0][k]).exception.as_ref().and_then(|e| e.unsupported.clone());
    assert_eq!(lacks(0).as_deref(), Some("threads"));
    assert_eq!(lacks(1).as_deref(), Some("processes"));
    assert_eq!(lacks(2).as_deref(), Some("the network"));
    assert_eq!(lacks(3).as_deref(), Some("POSIX process functions"));
    assert_eq!(ran(&report.outcomes[0][4]).text_match, Some(true), "{:?}", report.outcomes[0][4]);
}

#[test]
fn a_group_that_stops_on_timeout_costs_one_deadline() {
    // A candidate that loops on every call: after the first timeout its other cases are not
    // run; they report that timeout. Without the flag each case runs to its own deadline.
    let source = "def f(x):\n    while True:\n        pass\n";
    let cases: Vec<_> = (0..5).map(|i| assert_case(&format!("f({i})"))).collect();
    let timed = |stop: bool| {
        let mut p = program(source, vec![cases.clone(), vec![assert_case("1 + 1")]]);
        p.groups[0].stop_on_timeout = stop;
        let started = std::time::Instant::now();
        let report = run(&p, &quick_limits());
        assert!(report.outcomes[0].iter().all(|o| matches!(o, Outcome::Timeout { .. })), "{:?}", report.outcomes[0]);
        assert!(matches!(&report.outcomes[1][0], Outcome::Ran(r) if r.exception.is_none()), "{:?}", report.outcomes[1]);
        started.elapsed()
    };
    let (stopping, each) = (timed(true), timed(false));
    // One deadline against five (with instance restarts in both).
    assert!(stopping * 2 < each, "{stopping:?} vs {each:?}");
}
