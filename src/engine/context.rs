//! The project around a document, as its runs see it: the module the file is (its dotted name and
//! `__file__`), the project's modules served on import (open buffers first), the project directory
//! readable, and the project's doctest option flags.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::Document;
use crate::project::{Found, Project};
use crate::sandbox::{Conftest, Host, Import, Module, Modules, TestRun};

/// What the runs of one document run in.
pub(super) struct Context {
    pub(super) module_name: String,
    /// The module's `__file__`.
    pub(super) origin: String,
    pub(super) host: Host,
    /// doctest option flags every example gets (the project's pytest setting, else pytest's default).
    pub(super) flags: Vec<String>,
    /// The file is a test file of its project: pytest runs it.
    pub(super) tests: Option<TestRun>,
    /// The project's conftest files that fill pytest's `doctest_namespace` for this file.
    pub(super) conftests: Vec<Conftest>,
    modules: Option<Arc<ProjectModules>>,
}

impl Context {
    pub(super) fn of(doc: &Document) -> Context {
        let Some(file) = doc.file.as_deref() else {
            return Context {
                module_name: stem_name(&doc.path),
                origin: doc.path.clone(),
                host: Host::default(),
                flags: crate::project::PytestConfig::default().doctest_optionflags,
                tests: None,
                conftests: Vec::new(),
                modules: None,
            };
        };
        let project = Arc::new(Project::discover(file));
        let (module_name, base) = match Project::module_of(file) {
            Some((name, base)) => (name, Some(base)),
            None => (stem_name(&doc.path), None),
        };
        let modules = Arc::new(ProjectModules {
            project: Arc::clone(&project),
            base,
            buffers: Arc::clone(&doc.buffers),
            // The document itself, as it is now, when another module imports it.
            own: (file.to_path_buf(), doc.text.clone()),
            cwd: std::env::current_dir().ok(),
        });
        let read_only = project.readable();
        // Only those that mention the fixture: the others cannot change an example's names.
        let conftests = project
            .conftests_for(file)
            .into_iter()
            .filter_map(|path| {
                let source = doc.buffers.get(&path).cloned().or_else(|| std::fs::read_to_string(&path).ok())?;
                source.contains("doctest_namespace").then(|| Conftest { path: path.display().to_string(), source })
            })
            .collect();
        Context {
            module_name,
            origin: file.display().to_string(),
            host: Host { modules: Some(Arc::clone(&modules) as Arc<dyn Modules>), read_only },
            flags: project.pytest.doctest_optionflags.clone(),
            tests: project.is_test_file(file).then(|| TestRun {
                rootdir: project.root.display().to_string(),
                file: file.display().to_string(),
                select: Vec::new(),
            }),
            conftests,
            modules: Some(modules),
        }
    }

    /// What a cached verdict of this document depends on besides the function's text.
    pub(super) fn fingerprint(&self) -> String {
        let mut out = format!("{}:{}", self.module_name, self.flags.join(","));
        for c in &self.conftests {
            out.push(':');
            out.push_str(&crate::base::hex(&crate::syntax::FunctionKey::of_text(&c.source).0));
        }
        out
    }

    /// Whether imports recorded by an earlier run would still find what they found then.
    pub(super) fn still_valid(&self, imports: &[Import], memo: &mut HashMap<String, String>) -> bool {
        imports.iter().all(|i| {
            let now = memo.entry(i.name.clone()).or_insert_with(|| match &self.modules {
                Some(m) => m.find(&i.name).digest(),
                None => Module::Missing.digest(),
            });
            *now == i.digest
        })
    }

    /// A file as the sandbox named it (relative to the working directory, or absolute).
    pub(super) fn absolute(&self, shown: &str) -> PathBuf {
        match self.modules.as_ref().and_then(|m| m.cwd.as_deref()) {
            Some(cwd) => cwd.join(shown),
            None => PathBuf::from(shown),
        }
    }

    /// The keys of a project file's functions, by qualified name, as its runs see the file now
    /// (the document itself, an open buffer, else the disk).
    pub(super) fn function_keys(&self, path: &Path) -> HashMap<String, crate::syntax::FunctionKey> {
        let text = match &self.modules {
            Some(m) if path == m.own.0 => Some(m.own.1.clone()),
            Some(m) => m.buffers.get(path).cloned().or_else(|| std::fs::read_to_string(path).ok()),
            None => None,
        };
        let Some(text) = text else { return HashMap::new() };
        crate::syntax::parse(&text).functions.into_iter().map(|f| (f.qualified_name, f.key)).collect()
    }

    /// The files (absolute paths) an import recorded by a run came from.
    pub(super) fn files_of(&self, imports: &[Import]) -> Vec<PathBuf> {
        let Some(m) = &self.modules else { return Vec::new() };
        imports
            .iter()
            .filter_map(|i| match m.found(&i.name) {
                Found::Source { path, .. } => Some(path),
                _ => None,
            })
            .collect()
    }
}

/// The module's `__name__` without a project: the file stem when it is an identifier.
fn stem_name(path: &str) -> String {
    let stem = Path::new(path).file_stem().and_then(|s| s.to_str()).unwrap_or("");
    if crate::project::is_identifier(stem) { stem.to_string() } else { "__plumb__".to_string() }
}

/// The project's modules as the sandbox imports them.
struct ProjectModules {
    project: Arc<Project>,
    /// The directory above the file's outermost package: importable first, as pytest makes it.
    base: Option<PathBuf>,
    buffers: Arc<HashMap<PathBuf, String>>,
    own: (PathBuf, String),
    cwd: Option<PathBuf>,
}

impl ProjectModules {
    fn found(&self, name: &str) -> Found {
        let read = |p: &Path| if p == self.own.0 { Some(self.own.1.clone()) } else { self.buffers.get(p).cloned() };
        self.project.find(name, self.base.as_deref(), &read)
    }

    /// A path as tracebacks show it: relative to the working directory when under it.
    fn shown(&self, path: &Path) -> String {
        self.cwd.as_deref().and_then(|cwd| path.strip_prefix(cwd).ok()).unwrap_or(path).display().to_string()
    }
}

impl Modules for ProjectModules {
    fn find(&self, name: &str) -> Module {
        match self.found(name) {
            Found::Source { path, text, package } => Module::Source {
                filename: self.shown(&path),
                origin: path.display().to_string(),
                source: text,
                package,
            },
            Found::Namespace { path } => Module::Source {
                filename: self.shown(&path),
                origin: path.display().to_string(),
                source: String::new(),
                package: true,
            },
            Found::Extension { path } => Module::Extension { filename: self.shown(&path) },
            Found::Missing => Module::Missing,
        }
    }
}
