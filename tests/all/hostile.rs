//! Hostile programs (shared/design/hostile-matrix.md): each one's outcome class, canaries that must
//! never leak (a secret file outside the sandbox, a loopback listener that counts connections, the
//! host's environment), and a fresh run after each that is unaffected.

use std::io::Write;
use std::net::TcpListener;
use std::time::Duration;

use plumb::sandbox::{Class, Limits, Outcome};

use crate::support::{example, program, quick_limits, run};

use Class::*;

/// (name, program defining `f`, classes the call `f()` may end in).
fn matrix(canary_file: &str, port: u16) -> Vec<(&'static str, String, Vec<Class>)> {
    let p = |s: &str| s.to_string();
    vec![
        // Time.
        ("infinite loop", p("def f():\n    while True:\n        pass\n"), vec![Timeout]),
        ("sleep an hour", p("import time\ndef f():\n    time.sleep(3600)\n"), vec![Timeout]),
        ("cpu-heavy finite work", p("def f():\n    return sum(i * i for i in range(10**10))\n"), vec![Timeout]),
        ("loop via exec", p("def f():\n    exec(compile('while 1: pass', 'x', 'exec'))\n"), vec![Timeout]),
        (
            "sleep via select",
            p("import select\ndef f():\n    select.select([], [], [], 3600)\n"),
            vec![Timeout, Exception],
        ),
        // Memory.
        ("list of 10**9", p("def f():\n    return [0] * 10**9\n"), vec![MemoryLimit]),
        // wasm32: a 2**31 repetition does not fit an index at all.
        ("string of 2**31", p("def f():\n    return 'a' * 2**31\n"), vec![MemoryLimit, Exception]),
        ("string of 2**30", p("def f():\n    return 'a' * 2**30\n"), vec![MemoryLimit]),
        (
            "growth in a loop",
            p("def f():\n    x = []\n    while True:\n        x.append('a' * 10**6)\n"),
            vec![MemoryLimit],
        ),
        ("huge bytearray", p("def f():\n    return bytearray(10**9)\n"), vec![MemoryLimit]),
        ("bytearray copies", p("def f():\n    b = bytearray(100 * 2**20)\n    return b + b + b\n"), vec![MemoryLimit]),
        // Recursion and stack.
        ("unbounded recursion", p("def f():\n    return f()\n"), vec![RecursionLimit]),
        (
            "raised recursion limit",
            p(
                "import sys\ndef f():\n    sys.setrecursionlimit(10**6)\n    def r(n):\n        return r(n + 1) + 1\n    return r(0)\n",
            ),
            vec![RecursionLimit, MemoryLimit, Timeout],
        ),
        (
            "deeply nested json",
            p("import json\ndef f():\n    return json.loads('[' * 200000 + ']' * 200000)\n"),
            vec![RecursionLimit],
        ),
        (
            "deeply nested literal",
            p("def f():\n    return eval('[' * 100000 + ']' * 100000)\n"),
            vec![RecursionLimit, MemoryLimit, Exception],
        ),
        (
            "deep repr",
            p("def f():\n    x = []\n    for _ in range(200000):\n        x = [x]\n    return repr(x)\n"),
            // Exhausting the 4 MiB wasm stack through repr takes 400-500 ms here, about the test's
            // case deadline: either way it is stopped and classified.
            vec![RecursionLimit, Timeout],
        ),
        // Output.
        ("print flood", p("def f():\n    while True:\n        print('x' * 1000)\n"), vec![OutputLimit]),
        ("one 1 MiB line", p("def f():\n    print('x' * 2**20)\n"), vec![OutputLimit]),
        ("NUL and lone surrogates", p("def f():\n    print('a\\x00b\\udcff')\n"), vec![Completed]),
        ("terminal escapes", p("def f():\n    print('\\x1b]0;pwned\\x07\\x1b[31mred\\x1b[0m')\n"), vec![Completed]),
        (
            "raw fd flood",
            p("import os\ndef f():\n    for _ in range(100):\n        os.write(1, b'x' * 10**6)\n"),
            vec![Exception, Completed],
        ),
        ("stdout replaced", p("import sys\ndef f():\n    sys.stdout = None\n    print(1)\n"), vec![Completed]),
        // Processes.
        ("os.fork", p("import os\ndef f():\n    return os.fork()\n"), vec![Exception]),
        ("subprocess.run", p("import subprocess\ndef f():\n    return subprocess.run(['ls'])\n"), vec![Exception]),
        ("os.system", p("import os\ndef f():\n    return os.system('ls')\n"), vec![Exception]),
        (
            "multiprocessing",
            p("def f():\n    import multiprocessing\n    multiprocessing.Process(target=print).start()\n"),
            vec![Exception],
        ),
        ("os.kill", p("import os\ndef f():\n    os.kill(1, 9)\n"), vec![Exception]),
        ("threads", p("import threading\ndef f():\n    threading.Thread(target=print).start()\n"), vec![Exception]),
        // Files.
        ("read /etc/passwd", p("def f():\n    return open('/etc/passwd').read()\n"), vec![Exception]),
        ("read the canary", format!("def f():\n    return open({canary_file:?}).read()\n"), vec![Exception]),
        ("relative escape", p("def f():\n    return open('../../../../etc/passwd').read()\n"), vec![Exception]),
        (
            "ssh key",
            p("import os\ndef f():\n    return open(os.path.expanduser('~/.ssh/id_rsa')).read()\n"),
            vec![Exception],
        ),
        ("/proc/self/mem", p("def f():\n    return open('/proc/self/mem', 'rb').read(10)\n"), vec![Exception]),
        // /tmp in the guest is the run's own scratch directory: the write lands there, never on the
        // host (checked after the matrix).
        ("write a host file", p("def f():\n    open('/tmp/plumb-escape-canary', 'w').write('x')\n"), vec![Completed]),
        (
            "fill the scratch directory",
            p(
                "def f():\n    with open('big', 'wb') as fh:\n        while True:\n            fh.write(b'x' * (1 << 20))\n",
            ),
            vec![MemoryLimit, Timeout],
        ),
        ("rename and link", p("import os\ndef f():\n    os.symlink('/etc/passwd', 'p')\n"), vec![Exception]),
        ("list the root", p("import os\ndef f():\n    return os.listdir('/')\n"), vec![Exception]),
        // Network.
        (
            "connect to loopback",
            format!("import socket\ndef f():\n    socket.create_connection(('127.0.0.1', {port}), timeout=1)\n"),
            vec![Exception],
        ),
        (
            "connect out",
            p("import socket\ndef f():\n    socket.create_connection(('8.8.8.8', 53), timeout=1)\n"),
            vec![Exception],
        ),
        (
            "urllib",
            format!("import urllib.request\ndef f():\n    urllib.request.urlopen('http://127.0.0.1:{port}/')\n"),
            vec![Exception],
        ),
        (
            "getaddrinfo",
            p("import socket\ndef f():\n    return socket.getaddrinfo('localhost', 80)\n"),
            vec![Exception],
        ),
        // Environment and obfuscation.
        ("environment", p("import os\ndef f():\n    return dict(os.environ)\n"), vec![Completed]),
        (
            "base64 exec",
            p("import base64\ndef f():\n    exec(base64.b64decode(b'aW1wb3J0IG9zOyBvcy5mb3JrKCk=').decode())\n"),
            vec![Exception],
        ),
        ("dynamic import", p("def f():\n    return __import__('o' + 's').fork()\n"), vec![Exception]),
        ("ctypes", p("def f():\n    import ctypes\n    return ctypes.CDLL(None)\n"), vec![Exception]),
        // Exits and odd exceptions.
        ("SystemExit(3)", p("def f():\n    raise SystemExit(3)\n"), vec![Exception]),
        ("sys.exit()", p("import sys\ndef f():\n    sys.exit()\n"), vec![Exception]),
        ("os._exit", p("import os\ndef f():\n    os._exit(3)\n"), vec![Exited]),
        ("KeyboardInterrupt", p("def f():\n    raise KeyboardInterrupt\n"), vec![Exception]),
        (
            "exception in __del__",
            p(
                "class D:\n    def __del__(self):\n        raise ValueError('x')\ndef f():\n    d = D()\n    del d\n    return 1\n",
            ),
            vec![Completed],
        ),
        (
            "tamper with builtins",
            p("import builtins\ndef f():\n    builtins.print = None\n    builtins.repr = None\n"),
            vec![Completed],
        ),
    ]
}

#[test]
fn hostile_programs_are_contained_and_classified() {
    let dir = tempfile::tempdir().unwrap();
    let canary_path = dir.path().join("canary-secret.txt");
    let secret = "plumb-canary-7f3a9c-do-not-leak";
    std::fs::File::create(&canary_path).unwrap().write_all(secret.as_bytes()).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let home = std::env::var("HOME").unwrap_or_default();

    let limits = quick_limits();
    let programs = matrix(canary_path.to_str().unwrap(), port);
    assert!(programs.len() >= 40, "the matrix has {} programs", programs.len());
    let mut failures = Vec::new();
    for (name, source, allowed) in &programs {
        let hostile = program(source, vec![vec![example("f()", "")]]);
        // A program that must end on another limit (memory, output, ...) gets time to reach it
        // on a loaded machine: the short deadline would classify a slow run as a timeout.
        let patient =
            Limits { case_deadline: Duration::from_secs(10), run_deadline: Duration::from_secs(20), ..limits };
        let report = run(&hostile, if allowed.contains(&Timeout) { &limits } else { &patient });
        let outcome = &report.outcomes[0][0];
        if !allowed.contains(&outcome.class()) {
            failures.push(format!("{name}: {:?} not in {allowed:?}: {outcome:?}", outcome.class()));
        }
        let text = serde_json::to_string(&report).unwrap();
        assert!(!text.contains(secret), "{name}: the canary file's secret leaked: {text}");
        if home.len() > 4 {
            assert!(!text.contains(&format!("'{home}'")), "{name}: the host's HOME leaked: {text}");
        }
        // The next run, in a fresh instance, is unaffected.
        let after = run(&program("def ok():\n    return 42\n", vec![vec![example("ok()", "42\n")]]), &limits);
        match &after.outcomes[0][0] {
            Outcome::Ran(r) if r.text_match == Some(true) => {}
            other => failures.push(format!("{name}: the run after it was affected: {other:?}")),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} hostile programs misclassified:\n{}",
        failures.len(),
        programs.len(),
        failures.join("\n")
    );
    assert!(listener.accept().is_err(), "a guest reached the loopback listener");
    assert!(!std::path::Path::new("/tmp/plumb-escape-canary").exists(), "a guest wrote a host file");
    assert_eq!(std::fs::read_to_string(&canary_path).unwrap(), secret, "the canary file is unchanged");
}

#[test]
fn environment_is_empty_inside() {
    // Nothing of the host's environment: only the scratch directory, as TMPDIR and HOME.
    let report = run(
        &program(
            "import os\ndef f():\n    return sorted(os.environ.items())\n",
            vec![vec![example("f()", "[('HOME', '/tmp'), ('TMPDIR', '/tmp')]\n")]],
        ),
        &quick_limits(),
    );
    match &report.outcomes[0][0] {
        Outcome::Ran(r) => assert_eq!(r.text_match, Some(true), "{r:?}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_trap_costs_only_its_own_case() {
    // The second case exits the interpreter; the others still run, in order, with state rebuilt.
    let source = "import os\ndef f(x):\n    if x == 2:\n        os._exit(1)\n    return x\n";
    let cases = vec![
        example("y = f(1)", ""),
        example("f(2)", "2\n"),
        example("y + f(3)", "4\n"),
        example("while True: pass", ""),
        example("y", "1\n"),
    ];
    let report = run(&program(source, vec![cases]), &quick_limits());
    let classes: Vec<Class> = report.outcomes[0].iter().map(Outcome::class).collect();
    assert_eq!(classes, vec![Completed, Exited, Completed, Timeout, Completed]);
    assert_eq!(report.outcomes[0][2].ran().unwrap().text_match, Some(true));
    assert_eq!(report.outcomes[0][4].ran().unwrap().text_match, Some(true));
    assert_eq!(report.instances, 3);
}

#[test]
fn a_hostile_top_level_statement_does_not_block_the_functions() {
    let source = "while True:\n    pass\ndef f():\n    return 1\n";
    let report = run(&program(source, vec![vec![example("f()", "1\n")]]), &quick_limits());
    assert_eq!(report.setup.len(), 1);
    assert_eq!(report.setup[0].outcome.class(), Timeout);
    assert_eq!(report.outcomes[0][0].ran().unwrap().text_match, Some(true));
}

#[test]
fn cancel_stops_a_run() {
    let sandbox = crate::support::sandbox();
    let cancel = plumb::sandbox::Cancel::new();
    let limits = plumb::sandbox::Limits { case_deadline: std::time::Duration::from_secs(30), ..quick_limits() };
    let p =
        program("import time\ndef f():\n    while True:\n        time.sleep(0.001)\n", vec![vec![example("f()", "")]]);
    let c2 = cancel.clone();
    let t = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(200));
        c2.cancel();
    });
    let started = std::time::Instant::now();
    let report = sandbox.run(&p, &limits, &cancel);
    t.join().unwrap();
    assert_eq!(report.outcomes[0][0].class(), Cancelled);
    assert!(started.elapsed() < std::time::Duration::from_secs(5), "cancel took {:?}", started.elapsed());
}

#[test]
fn a_run_after_a_cancelled_one_is_clean() {
    let sandbox = crate::support::sandbox();
    let limits = plumb::sandbox::Limits { case_deadline: std::time::Duration::from_secs(30), ..quick_limits() };
    let slow = "import time\n\ndef f():\n    time.sleep(15)\n    return 1\n";
    let cancel = plumb::sandbox::Cancel::new();
    let c2 = cancel.clone();
    let t = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(300));
        c2.cancel();
    });
    let report = sandbox.run(&program(slow, vec![vec![example("f()", "1\n")]]), &limits, &cancel);
    t.join().unwrap();
    assert_eq!(report.outcomes[0][0].class(), Cancelled);
    let fast = "import time\n\ndef f():\n    return 1\n";
    let report =
        sandbox.run(&program(fast, vec![vec![example("f()", "1\n")]]), &limits, &plumb::sandbox::Cancel::new());
    assert!(report.setup.is_empty(), "{:?}", report.setup);
    assert_eq!(report.outcomes[0][0].ran().map(|r| r.text_match), Some(Some(true)), "{:?}", report.outcomes[0][0]);
}
