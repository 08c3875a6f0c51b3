//! pytest's configuration of a project, read from the files pytest reads, in pytest's order:
//! `pytest.ini` (or `.pytest.ini`), `pyproject.toml` `[tool.pytest.ini_options]`, `tox.ini`
//! `[pytest]`, `setup.cfg` `[tool:pytest]`. The first file that has the section is the
//! configuration; the others are not read (as in pytest).

use std::path::{Path, PathBuf};

/// The settings plumb uses. Defaults are pytest's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PytestConfig {
    /// The file the settings came from.
    pub file: Option<PathBuf>,
    /// doctest option flags for every example (pytest's default: `ELLIPSIS`).
    pub doctest_optionflags: Vec<String>,
    pub testpaths: Vec<String>,
    pub python_files: Vec<String>,
    pub python_classes: Vec<String>,
    pub python_functions: Vec<String>,
    /// Directories added to the import path (pytest 7+).
    pub pythonpath: Vec<String>,
}

impl Default for PytestConfig {
    fn default() -> Self {
        PytestConfig {
            file: None,
            doctest_optionflags: vec!["ELLIPSIS".into()],
            testpaths: Vec::new(),
            python_files: vec!["test_*.py".into(), "*_test.py".into()],
            python_classes: vec!["Test".into()],
            python_functions: vec!["test".into()],
            pythonpath: Vec::new(),
        }
    }
}

/// Settings files larger than this are not read.
const MAX_CONFIG_BYTES: u64 = 1 << 20;

fn read_small(path: &Path) -> Option<String> {
    let meta = std::fs::metadata(path).ok()?;
    if !meta.is_file() || meta.len() > MAX_CONFIG_BYTES {
        return None;
    }
    std::fs::read_to_string(path).ok()
}

impl PytestConfig {
    /// The configuration in `root`, or pytest's defaults. Unreadable or malformed files are
    /// skipped, as if absent.
    pub fn read(root: &Path) -> PytestConfig {
        for name in ["pytest.ini", ".pytest.ini"] {
            let path = root.join(name);
            if let Some(text) = read_small(&path) {
                let values = ini_section(&text, "pytest").unwrap_or_default();
                return PytestConfig::from_values(Some(path), &values);
            }
        }
        let pyproject = root.join("pyproject.toml");
        if let Some(text) = read_small(&pyproject)
            && let Some(values) = toml_section(&text)
        {
            return PytestConfig::from_values(Some(pyproject), &values);
        }
        for (name, section) in [("tox.ini", "pytest"), ("setup.cfg", "tool:pytest")] {
            let path = root.join(name);
            if let Some(text) = read_small(&path)
                && let Some(values) = ini_section(&text, section)
            {
                return PytestConfig::from_values(Some(path), &values);
            }
        }
        PytestConfig::default()
    }

    fn from_values(file: Option<PathBuf>, values: &[(String, Vec<String>)]) -> PytestConfig {
        let mut config = PytestConfig { file, ..PytestConfig::default() };
        for (key, value) in values {
            let slot = match key.as_str() {
                "doctest_optionflags" => &mut config.doctest_optionflags,
                "testpaths" => &mut config.testpaths,
                "python_files" => &mut config.python_files,
                "python_classes" => &mut config.python_classes,
                "python_functions" => &mut config.python_functions,
                "pythonpath" => &mut config.pythonpath,
                _ => continue,
            };
            *slot = value.clone();
        }
        config
    }
}

/// An ini file's section as (key, whitespace-separated words); continuation lines (indented)
/// extend the value before them. `None` when the section is absent.
fn ini_section(text: &str, section: &str) -> Option<Vec<(String, Vec<String>)>> {
    let mut inside = false;
    let mut found = false;
    let mut out: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('#') || trimmed.starts_with(';') {
            continue;
        }
        if trimmed.starts_with('[') && trimmed.ends_with(']') {
            inside = trimmed[1..trimmed.len() - 1].trim() == section;
            found |= inside;
            continue;
        }
        if !inside || trimmed.is_empty() {
            continue;
        }
        if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = out.last_mut() {
                value.push(' ');
                value.push_str(trimmed);
            }
            continue;
        }
        let at = trimmed.find(['=', ':']);
        let Some(at) = at else { continue };
        out.push((trimmed[..at].trim().to_string(), trimmed[at + 1..].trim().to_string()));
    }
    found.then(|| out.into_iter().map(|(k, v)| (k, words(&v))).collect())
}

/// Words of an ini value as pytest splits `args`/`linelist` values: on whitespace, quotes removed.
fn words(value: &str) -> Vec<String> {
    value.split_whitespace().map(|w| w.trim_matches(['"', '\'']).to_string()).filter(|w| !w.is_empty()).collect()
}

/// `[tool.pytest.ini_options]` of a pyproject.toml: strings are split into words, arrays of
/// strings taken as they are.
fn toml_section(text: &str) -> Option<Vec<(String, Vec<String>)>> {
    let table: toml::Table = text.parse().ok()?;
    let options = table.get("tool")?.get("pytest")?.get("ini_options")?.as_table()?;
    let mut out = Vec::new();
    for (key, value) in options {
        let value = match value {
            toml::Value::String(s) => words(s),
            toml::Value::Array(items) => items.iter().filter_map(|v| v.as_str().map(str::to_string)).collect(),
            _ => continue,
        };
        out.push((key.clone(), value));
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_each_kind_of_file_in_pytests_order() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        assert_eq!(PytestConfig::read(root), PytestConfig::default());
        std::fs::write(
            root.join("setup.cfg"),
            "[metadata]\nname = x\n[tool:pytest]\ndoctest_optionflags = NUMBER\n    ELLIPSIS\ntestpaths = tests\n",
        )
        .unwrap();
        let c = PytestConfig::read(root);
        assert_eq!(c.doctest_optionflags, ["NUMBER", "ELLIPSIS"]);
        assert_eq!(c.testpaths, ["tests"]);
        assert_eq!(c.python_files, ["test_*.py", "*_test.py"], "unset keys keep pytest's defaults");
        std::fs::write(root.join("tox.ini"), "[tox]\nenvlist = py3\n[pytest]\ndoctest_optionflags: ALLOW_UNICODE\n")
            .unwrap();
        assert_eq!(PytestConfig::read(root).doctest_optionflags, ["ALLOW_UNICODE"]);
        // A pyproject without the section is passed over; with it, it wins over tox.ini.
        std::fs::write(root.join("pyproject.toml"), "[project]\nname = 'x'\n").unwrap();
        assert_eq!(PytestConfig::read(root).doctest_optionflags, ["ALLOW_UNICODE"]);
        std::fs::write(
            root.join("pyproject.toml"),
            "[tool.pytest.ini_options]\ndoctest_optionflags = [\"ELLIPSIS\",\n \"NORMALIZE_WHITESPACE\"]\npython_files = \"check_*.py\"\n",
        )
        .unwrap();
        let c = PytestConfig::read(root);
        assert_eq!(c.doctest_optionflags, ["ELLIPSIS", "NORMALIZE_WHITESPACE"]);
        assert_eq!(c.python_files, ["check_*.py"]);
        assert_eq!(c.file.as_deref(), Some(root.join("pyproject.toml").as_path()));
        // pytest.ini wins even without a [pytest] section; a malformed pyproject is skipped.
        std::fs::write(root.join("pytest.ini"), "# empty\n").unwrap();
        assert_eq!(PytestConfig::read(root).doctest_optionflags, ["ELLIPSIS"]);
        std::fs::remove_file(root.join("pytest.ini")).unwrap();
        std::fs::write(root.join("pyproject.toml"), "[tool.pytest.ini_options\nx = ").unwrap();
        assert_eq!(PytestConfig::read(root).doctest_optionflags, ["ALLOW_UNICODE"]);
    }
}
