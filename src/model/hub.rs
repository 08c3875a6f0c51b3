//! Models where users keep them: `--local-model owner/name:file` names a file of a Hugging Face
//! model repository. It is read from the local Hugging Face cache (the layout `huggingface_hub`
//! and `hf-hub` share: `models--owner--name/{refs/main, snapshots/<commit>/<file>,
//! blobs/<etag>}`, under `$HF_HUB_CACHE`, else `$HF_HOME/hub`, else `~/.cache/huggingface/hub`),
//! and downloaded into it when missing (`$HF_ENDPOINT`, default `https://huggingface.co`; bearer
//! `$HF_TOKEN`; never with `HF_HUB_OFFLINE=1`).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};

/// A file of a model repository.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HubFile {
    pub repo: String,
    pub file: String,
}

impl HubFile {
    /// `owner/name:file` (the file may be in a folder of the repository).
    pub fn parse(s: &str) -> Option<HubFile> {
        let (repo, file) = s.split_once(':')?;
        let (owner, name) = repo.split_once('/')?;
        let part = |p: &str| !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
        let safe_file = !file.is_empty() && !file.starts_with('/') && file.split('/').all(|p| part(p) && p != "..");
        (part(owner) && part(name) && safe_file).then(|| HubFile { repo: repo.to_string(), file: file.to_string() })
    }

    fn folder(&self, cache: &Path) -> PathBuf {
        cache.join(format!("models--{}", self.repo.replace('/', "--")))
    }
}

impl std::fmt::Display for HubFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.repo, self.file)
    }
}

/// The Hugging Face cache folder.
pub fn hub_cache() -> PathBuf {
    let var = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty()).map(PathBuf::from);
    if let Some(dir) = var("HF_HUB_CACHE") {
        return dir;
    }
    if let Some(home) = var("HF_HOME") {
        return home.join("hub");
    }
    var("XDG_CACHE_HOME")
        .or_else(|| var("HOME").map(|h| h.join(".cache")))
        .unwrap_or_else(std::env::temp_dir)
        .join("huggingface")
        .join("hub")
}

/// The file in the cache: the snapshot `refs/main` names, else any snapshot that has it.
pub(super) fn cached(f: &HubFile) -> Option<PathBuf> {
    let folder = f.folder(&hub_cache());
    if let Ok(rev) = std::fs::read_to_string(folder.join("refs").join("main")) {
        let path = folder.join("snapshots").join(rev.trim()).join(&f.file);
        if path.is_file() {
            return Some(path);
        }
    }
    let mut snapshots: Vec<PathBuf> =
        std::fs::read_dir(folder.join("snapshots")).ok()?.filter_map(|e| e.ok().map(|e| e.path())).collect();
    snapshots.sort();
    snapshots.into_iter().map(|s| s.join(&f.file)).find(|p| p.is_file())
}

/// The file's path, downloading it into the cache first when it is not there.
pub fn resolve(f: &HubFile, status: &mut dyn FnMut(&str)) -> anyhow::Result<PathBuf> {
    if let Some(path) = cached(f) {
        return Ok(path);
    }
    let cache = hub_cache();
    if std::env::var("HF_HUB_OFFLINE").is_ok_and(|v| v == "1" || v.eq_ignore_ascii_case("true")) {
        bail!("{f} is not in the Hugging Face cache ({}) and HF_HUB_OFFLINE is set", cache.display());
    }
    let endpoint = std::env::var("HF_ENDPOINT").ok().filter(|e| !e.is_empty());
    let endpoint = endpoint.as_deref().unwrap_or("https://huggingface.co").trim_end_matches('/');
    let mut url = format!("{endpoint}/{}/resolve/main/{}", f.repo, f.file);
    status(&format!("downloading {f} from {endpoint} into {}", cache.display()));
    // Redirects are followed by hand: the commit and the file's etag are on the first answer.
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_connect(Some(Duration::from_secs(30)))
        .max_redirects(0)
        .http_status_as_error(false)
        .build()
        .into();
    let token = std::env::var("HF_TOKEN").ok().filter(|t| !t.is_empty());
    let (mut commit, mut etag) = (None, None);
    let mut response = None;
    for _ in 0..10 {
        let mut request = agent.get(&url);
        if let Some(t) = &token {
            request = request.header("Authorization", format!("Bearer {t}"));
        }
        let r = request.call().with_context(|| format!("fetching {url}"))?;
        let header = |k: &str| r.headers().get(k).and_then(|v| v.to_str().ok()).map(str::to_string);
        commit = commit.or_else(|| header("x-repo-commit"));
        etag = etag.or_else(|| header("x-linked-etag")).or_else(|| header("etag"));
        let code = r.status().as_u16();
        if (300..400).contains(&code) {
            let Some(location) = header("location") else { bail!("{url} answered {code} without a location") };
            url = if location.starts_with('/') { format!("{endpoint}{location}") } else { location };
            continue;
        }
        if code != 200 {
            bail!("{url} answered HTTP {code} (a private or gated repository needs HF_TOKEN)");
        }
        response = Some(r);
        break;
    }
    let Some(mut response) = response else { bail!("too many redirects from {endpoint}") };
    let commit = commit.unwrap_or_else(|| "main".into());
    let blob = etag.map(|e| e.trim_start_matches("W/").trim_matches('"').to_string()).unwrap_or_else(|| commit.clone());
    let plain = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "-_".contains(c));
    if !plain(&blob) || !plain(&commit) {
        bail!("{endpoint} answered an unusable commit or etag for {f}");
    }
    let folder = f.folder(&cache);
    let blobs = folder.join("blobs");
    std::fs::create_dir_all(&blobs).with_context(|| format!("creating {}", blobs.display()))?;
    let partial = blobs.join(format!("{blob}.incomplete"));
    let mut out = std::fs::File::create(&partial).with_context(|| format!("creating {}", partial.display()))?;
    std::io::copy(&mut response.body_mut().as_reader(), &mut out).with_context(|| format!("downloading {f}"))?;
    out.flush()?;
    drop(out);
    std::fs::rename(&partial, blobs.join(&blob))?;
    let snapshot = folder.join("snapshots").join(&commit).join(&f.file);
    std::fs::create_dir_all(snapshot.parent().unwrap_or(&folder))?;
    // As the Hugging Face libraries do: the snapshot's file is a relative link to its blob.
    let depth = f.file.matches('/').count() + 2;
    let target = PathBuf::from("../".repeat(depth)).join("blobs").join(&blob);
    let _ = std::fs::remove_file(&snapshot);
    std::os::unix::fs::symlink(&target, &snapshot)
        .or_else(|_| std::fs::copy(blobs.join(&blob), &snapshot).map(|_| ()))?;
    std::fs::create_dir_all(folder.join("refs"))?;
    std::fs::write(folder.join("refs").join("main"), &commit)?;
    Ok(snapshot)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_and_paths_cannot_escape() {
        let f = HubFile::parse("Qwen/Qwen2.5-Coder-1.5B-Instruct-GGUF:qwen2.5-coder-1.5b-instruct-q8_0.gguf").unwrap();
        assert_eq!(f.repo, "Qwen/Qwen2.5-Coder-1.5B-Instruct-GGUF");
        assert_eq!(f.file, "qwen2.5-coder-1.5b-instruct-q8_0.gguf");
        assert!(HubFile::parse("org/name:sub/model.gguf").is_some());
        for bad in ["model.gguf", "/abs/path.gguf", "org/name:../x", "org/name:/x", "org:x", "o/n:", "C:/models/x.gguf"]
        {
            assert_eq!(HubFile::parse(bad), None, "{bad}");
        }
    }
}
