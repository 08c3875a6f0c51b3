//! The rules of ARCHITECTURE.md that a machine can check, read from the source: which module may
//! name which (`crate::x` paths), where LSP types may appear, where printing may happen. Test code
//! (`tests.rs` files and what follows `#[cfg(test)]`) is exempt: it may build what it needs.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Each top-level module and the modules it may name. A module not listed may not exist.
const MAY_USE: &[(&str, &[&str])] = &[
    ("base", &[]),
    ("syntax", &["base"]),
    ("evidence", &["base", "syntax"]),
    ("sandbox", &["base", "evidence"]),
    ("model", &["base", "syntax"]),
    ("project", &[]),
    ("judge", &["base", "evidence", "syntax"]),
    ("store", &["base", "evidence", "judge", "syntax"]),
    ("engine", &["base", "evidence", "judge", "model", "project", "sandbox", "store", "syntax"]),
    ("cli", &["base", "engine", "evidence", "judge", "model", "store", "syntax"]),
    ("lsp", &["base", "engine", "evidence", "judge", "store", "syntax"]),
];

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a file belongs to (`lib.rs` and `main.rs` belong to none).
fn module_of(path: &Path) -> Option<String> {
    let rel = path.strip_prefix(src()).ok()?;
    let first = rel.components().next()?.as_os_str().to_string_lossy().into_owned();
    let name = first.strip_suffix(".rs").unwrap_or(&first).to_string();
    (!matches!(name.as_str(), "lib" | "main")).then_some(name)
}

/// The code of a file that is not test code, comments stripped, one entry per line.
fn production_lines(path: &Path) -> Vec<(usize, String)> {
    if path.file_name().is_some_and(|n| n == "tests.rs") {
        return Vec::new();
    }
    let text = std::fs::read_to_string(path).unwrap();
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim_start().starts_with("#[cfg(test)]") {
            break;
        }
        let code = match line.find("//") {
            Some(at) => &line[..at],
            None => line,
        };
        out.push((n + 1, code.to_string()));
    }
    out
}

/// Every module a line names through a `crate::` path.
fn named_modules(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = line;
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        let name: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
        if !name.is_empty() {
            out.push(name);
        }
    }
    out
}

/// Violations found in the source tree, each a readable line.
fn violations() -> Vec<String> {
    let rules: BTreeMap<&str, BTreeSet<&str>> =
        MAY_USE.iter().map(|(m, allowed)| (*m, allowed.iter().copied().collect())).collect();
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    files.sort();
    let mut out = Vec::new();
    for file in &files {
        let shown = file.strip_prefix(src()).unwrap().display().to_string();
        let module = module_of(file);
        if let Some(m) = &module
            && !rules.contains_key(m.as_str())
        {
            out.push(format!("src/{shown}: module `{m}` is not in ARCHITECTURE.md's table"));
            continue;
        }
        for (n, line) in production_lines(file) {
            let at = format!("src/{shown}:{n}");
            if let Some(m) = &module {
                for used in named_modules(&line) {
                    if used != *m && !rules[m.as_str()].contains(used.as_str()) {
                        out.push(format!("{at}: `{m}` may not use `{used}`: {}", line.trim()));
                    }
                }
            }
            if module.as_deref() != Some("lsp") && (line.contains("tower_lsp_server") || line.contains("ls_types")) {
                out.push(format!("{at}: only `lsp` knows LSP types: {}", line.trim()));
            }
            let prints = ["println!", "eprintln!", "print!(", "eprint!(", "dbg!("].iter().any(|p| line.contains(p));
            if module.as_deref() != Some("cli") && prints {
                out.push(format!("{at}: only `cli` prints: {}", line.trim()));
            }
        }
    }
    out
}

#[test]
fn the_source_keeps_the_architecture() {
    let found = violations();
    assert!(found.is_empty(), "ARCHITECTURE.md's rules are broken:\n{}", found.join("\n"));
}

#[test]
fn the_checker_sees_what_it_checks() {
    // The reader finds module paths wherever they stand, and nothing in plain words.
    assert_eq!(named_modules("use crate::sandbox::{Cancel, Limits};"), ["sandbox"]);
    assert_eq!(named_modules("let x = crate::model::PROMPT_VERSION; crate::base::hex(b)"), ["model", "base"]);
    assert!(named_modules("the crate is small").is_empty());
    // Every module of the table exists, and the files of the tree were all read.
    for (m, _) in MAY_USE {
        assert!(src().join(m).join("mod.rs").is_file(), "no src/{m}/mod.rs");
    }
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    assert!(files.len() > 40, "{files:?}");
    assert!(files.iter().any(|f| module_of(f).as_deref() == Some("judge")));
}
