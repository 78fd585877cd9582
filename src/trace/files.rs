//! The owners and modes of the files a trace touched.
//!
//! A trace taken as root shows what the workload did with every capability; it cannot show
//! which of its file accesses only root's `CAP_DAC_OVERRIDE` or `CAP_DAC_READ_SEARCH`
//! allowed (a directory of another user with mode 0700, a file of mode 0640 owned by
//! another user and group), or whether a user other than root could have done the same.
//! Those answers are in the files' owners and permission bits: [`FileFacts::gather`] reads
//! them, under the root of the system the command ran on, right after the trace, and the
//! decisions are taken from them in [`crate::suggest::whole`]. (ACLs and file capabilities
//! are not read: a path an ACL opens is reported as needing a capability, which errs on the
//! safe side.)

use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use super::facts::TraceFacts;

/// Owner, group and mode of a path, as stat(2) gives them (following symbolic links).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct FileStat {
    /// The owner's user id.
    pub uid: u32,
    /// The group id.
    pub gid: u32,
    /// The mode bits, file type included (`st_mode`).
    pub mode: u32,
}

impl FileStat {
    /// Whether it is a directory.
    pub fn is_dir(&self) -> bool {
        self.mode & 0o170_000 == 0o040_000
    }
}

/// The stat of every path a trace touched that still exists, and of each of its ancestors.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct FileFacts {
    /// By absolute path, as the traced command saw it.
    pub stats: BTreeMap<String, FileStat>,
}

impl FileFacts {
    /// Stat the paths of `facts` (opened, looked up, executed, `AF_UNIX` sockets, the
    /// directories of changed paths) and their ancestors, under `root` (the root of the
    /// system the command ran on, `/` for this one). `/proc` and `/sys` are skipped: their
    /// entries belong to processes that are gone or are the kernel's.
    pub fn gather(root: &Path, facts: &TraceFacts) -> Self {
        let mut stats = BTreeMap::new();
        let changed_dirs = facts.changed.iter().filter_map(|p| parent(p));
        let paths = facts
            .opened
            .keys()
            .map(String::as_str)
            .chain(facts.looked_up.iter().map(String::as_str))
            .chain(facts.executed.iter().map(String::as_str))
            .chain(facts.unix_socket_paths.iter().map(String::as_str))
            .chain(changed_dirs);
        for path in paths {
            let mut at = Some(path);
            while let Some(p) = at {
                if stats.contains_key(p) || is_kernel_view(p) {
                    break;
                }
                let here = root.join(p.trim_start_matches('/'));
                if let Ok(meta) = std::fs::metadata(&here) {
                    stats.insert(
                        p.to_owned(),
                        FileStat {
                            uid: meta.uid(),
                            gid: meta.gid(),
                            mode: meta.mode(),
                        },
                    );
                }
                at = parent(p);
            }
        }
        FileFacts { stats }
    }
}

/// `/proc/...` and `/sys/...` (the kernel's own views).
fn is_kernel_view(path: &str) -> bool {
    ["/proc", "/sys"]
        .iter()
        .any(|k| path == *k || path.strip_prefix(k).is_some_and(|r| r.starts_with('/')))
}

/// The parent of an absolute path (`/a/b` -> `/a`, `/a` -> `/`, `/` -> none).
pub fn parent(path: &str) -> Option<&str> {
    if path == "/" {
        return None;
    }
    match path.rfind('/') {
        Some(0) => Some("/"),
        Some(at) => Some(&path[..at]),
        None => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parents_walk_up_to_the_root() {
        assert_eq!(parent("/a/b"), Some("/a"));
        assert_eq!(parent("/a"), Some("/"));
        assert_eq!(parent("/"), None);
        assert!(is_kernel_view("/proc/1/status"));
        assert!(is_kernel_view("/sys"));
        assert!(!is_kernel_view("/system"));
    }

    #[test]
    fn stats_of_paths_and_ancestors_under_a_root() {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(root.path().join("srv/data")).unwrap();
        std::fs::write(root.path().join("srv/data/f"), "x").unwrap();
        let mut facts = TraceFacts::default();
        facts
            .opened
            .insert("/srv/data/f".to_owned(), Default::default());
        facts.changed.insert("/srv/data/new".to_owned());
        facts.looked_up.insert("/proc/1/status".to_owned());
        facts.looked_up.insert("/nonexistent/x".to_owned());
        let files = FileFacts::gather(root.path(), &facts);
        assert_eq!(
            files.stats.keys().collect::<Vec<_>>(),
            ["/", "/srv", "/srv/data", "/srv/data/f"]
        );
        assert!(files.stats["/srv/data"].is_dir());
        assert!(!files.stats["/srv/data/f"].is_dir());
    }
}
