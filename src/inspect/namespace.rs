//! Look at files the way a unit sees them: from inside its mount namespace.
//!
//! `/proc/PID/root/PATH` reaches a unit's files from outside, but absolute symlinks there
//! resolve in the *reader's* namespace, so `/proc/PID/root/etc/resolv.conf -> /run/...` shows
//! the host's file. The truth is inside: `setns(2)` into the unit's mount namespace, then look.
//!
//! `setns(fd, CLONE_NEWNS)` fails with `EINVAL` in a multithreaded process (sandgen's D-Bus
//! client may have started threads), and sandgen must never stay in a unit's namespace. So a
//! single-threaded helper does it: [`std::process::Command`] forks, the child (which has one
//! thread) enters the namespace and the unit's root directory in a `pre_exec` hook, then execs
//! a standard tool (`find` to list, `cat` to read) whose output the parent parses. This is
//! `nsenter --target PID --mount --root`.
//!
//! The tool is looked up *inside* the unit's namespace (the exec happens after `setns`), so
//! a unit whose root lacks `/usr/bin/find` or `/bin/cat` (`RootDirectory=` on a minimal tree)
//! cannot be listed this way; the error says so.

use std::fs::File;
use std::io::{self, Read};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use nix::libc;
use serde::Serialize;

use super::process::ProcessHandle;
use super::ReadError;

/// The program that lists a directory inside the namespace (GNU findutils, for `-printf`).
const FIND: &str = "/usr/bin/find";
/// The program that reads a file inside the namespace.
const CAT: &str = "/bin/cat";

/// Why a path could not be looked at inside a unit's mount namespace.
#[derive(Debug, thiserror::Error)]
pub enum NamespaceError {
    /// The namespace could not be opened.
    #[error(transparent)]
    Read(#[from] ReadError),
    /// Only absolute paths are accepted.
    #[error("`{}` is not an absolute path: give the path from the unit's root, e.g. /tmp", path.display())]
    RelativePath {
        /// The path given.
        path: PathBuf,
    },
    /// The helper could not enter the namespace or run its tool.
    #[error("cannot run {tool} inside the mount namespace of process {pid}: {error}{hint}")]
    Helper {
        /// The unit's process.
        pid: u32,
        /// The program the helper runs.
        tool: &'static str,
        /// What failed (part of the message, so not a `source()`).
        error: io::Error,
        /// What to do about it.
        hint: &'static str,
    },
    /// The tool ran and failed (no such file, permission denied inside, ...).
    #[error("cannot {action} {} inside the mount namespace of process {pid}: {message}", path.display())]
    Failed {
        /// The unit's process.
        pid: u32,
        /// What was done: `list` or `read`.
        action: &'static str,
        /// The path.
        path: PathBuf,
        /// The tool's error message.
        message: String,
    },
    /// The file is longer than the caller allowed.
    #[error("{} inside the mount namespace of process {pid} is larger than {limit} bytes: not read", path.display())]
    TooLarge {
        /// The unit's process.
        pid: u32,
        /// The path.
        path: PathBuf,
        /// The limit.
        limit: usize,
    },
    /// The tool's output could not be parsed.
    #[error("unexpected output from {tool} listing {} in process {pid}'s mount namespace: {detail}", path.display())]
    Output {
        /// The unit's process.
        pid: u32,
        /// The tool.
        tool: &'static str,
        /// The path.
        path: PathBuf,
        /// What was wrong.
        detail: String,
    },
}

/// The type of a directory entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FileKind {
    /// A regular file.
    File,
    /// A directory.
    Directory,
    /// A symbolic link.
    Symlink,
    /// A character device.
    CharDevice,
    /// A block device.
    BlockDevice,
    /// A named pipe.
    Fifo,
    /// A socket.
    Socket,
    /// Anything else.
    Unknown,
}

impl FileKind {
    fn from_find(c: &str) -> Self {
        match c {
            "f" => Self::File,
            "d" => Self::Directory,
            "l" => Self::Symlink,
            "c" => Self::CharDevice,
            "b" => Self::BlockDevice,
            "p" => Self::Fifo,
            "s" => Self::Socket,
            _ => Self::Unknown,
        }
    }

    fn letter(self) -> char {
        match self {
            Self::File => '-',
            Self::Directory => 'd',
            Self::Symlink => 'l',
            Self::CharDevice => 'c',
            Self::BlockDevice => 'b',
            Self::Fifo => 'p',
            Self::Socket => 's',
            Self::Unknown => '?',
        }
    }
}

/// One directory entry as the unit sees it (`lstat` of it, inside its namespace).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DirEntry {
    /// The file name (lossily converted to UTF-8).
    pub name: String,
    /// The type.
    pub kind: FileKind,
    /// Permission bits, including setuid, setgid and sticky (`0o1777`).
    pub mode: u32,
    /// Owner (numeric: names depend on the unit's /etc/passwd).
    pub uid: u32,
    /// Group (numeric).
    pub gid: u32,
    /// Size in bytes.
    pub size: u64,
    /// A symlink's target, as stored.
    pub link_target: Option<String>,
}

impl DirEntry {
    /// `ls -l`-style mode string, e.g. `drwxrwxrwt`.
    pub fn mode_string(&self) -> String {
        let mut s = String::with_capacity(10);
        s.push(self.kind.letter());
        let bit = |b: u32| self.mode & b != 0;
        let special = [(0o4000, 's', 'S'), (0o2000, 's', 'S'), (0o1000, 't', 'T')];
        for (shift, (special_bit, on, off)) in [6, 3, 0].into_iter().zip(special) {
            s.push(if bit(0o4 << shift) { 'r' } else { '-' });
            s.push(if bit(0o2 << shift) { 'w' } else { '-' });
            s.push(match (bit(0o1 << shift), bit(special_bit)) {
                (true, true) => on,
                (false, true) => off,
                (true, false) => 'x',
                (false, false) => '-',
            });
        }
        s
    }
}

/// What a path is inside a unit's namespace: the entry itself and, for a directory, its
/// entries sorted by name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Listing {
    /// The path asked for (its `name` is the path's last component, or `/`).
    pub path: DirEntry,
    /// The directory's entries (empty for anything but a directory).
    pub entries: Vec<DirEntry>,
}

impl Listing {
    /// `ls -la`-like text: one entry a line, `.` first.
    pub fn render(&self) -> String {
        let rows: Vec<(&DirEntry, String)> = std::iter::once((&self.path, ".".to_owned()))
            .filter(|_| self.path.kind == FileKind::Directory)
            .chain(self.entries.iter().map(|e| (e, e.name.clone())))
            .collect();
        let rows = if rows.is_empty() {
            vec![(&self.path, self.path.name.clone())]
        } else {
            rows
        };
        let w = |f: &dyn Fn(&DirEntry) -> String| rows.iter().map(|(e, _)| f(e).len()).max();
        let w_uid = w(&|e| e.uid.to_string()).unwrap_or(0);
        let w_gid = w(&|e| e.gid.to_string()).unwrap_or(0);
        let w_size = w(&|e| e.size.to_string()).unwrap_or(0);
        let mut out = String::new();
        for (e, name) in rows {
            let link = e
                .link_target
                .as_ref()
                .map(|t| format!(" -> {t}"))
                .unwrap_or_default();
            out.push_str(&format!(
                "{} {:>w_uid$} {:>w_gid$} {:>w_size$} {name}{link}\n",
                e.mode_string(),
                e.uid,
                e.gid,
                e.size
            ));
        }
        out
    }
}

/// An open mount namespace (and root directory) of a process: look at paths the way the
/// process sees them. Holding it keeps the namespace alive; it does not enter it.
#[derive(Debug)]
pub struct MountNamespace {
    pid: u32,
    namespace: File,
    root: File,
}

impl MountNamespace {
    /// Open the mount namespace and root directory of `process`, and confirm afterwards that
    /// the PID still names that process (so the namespace is its, not a successor's).
    pub fn of(process: &ProcessHandle) -> Result<Self, NamespaceError> {
        let pid = process.pid();
        let open = |name: &str| {
            let path = PathBuf::from(format!("/proc/{pid}/{name}"));
            File::open(&path).map_err(|e| super::io_error(&path, Some(pid), e))
        };
        let namespace = open("ns/mnt")?;
        let root = open("root")?;
        process.ensure_same()?;
        Ok(Self {
            pid,
            namespace,
            root,
        })
    }

    /// The process whose namespace this is.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// List `path` (absolute, from the unit's root) as the unit sees it, like `ls -la PATH`:
    /// symlinks in `path` resolve inside the namespace, entries are not followed.
    pub fn list(&self, path: &Path) -> Result<Listing, NamespaceError> {
        absolute(path)?;
        let output = self
            .command(FIND)
            // -H: follow a symlink given as PATH (`ls /bin` lists /usr/bin), not below it.
            // Fields: depth, type, mode, uid, gid, size, link target, name; NUL-terminated,
            // since names may contain newlines.
            .args(["-H"])
            .arg(path)
            .args([
                "-maxdepth",
                "1",
                "-printf",
                r"%d\0%y\0%m\0%U\0%G\0%s\0%l\0%f\0",
            ])
            .output()
            .map_err(|e| self.helper_error(FIND, e))?;
        if !output.status.success() {
            return Err(self.failed("list", path, &output.stderr));
        }
        let bad = |detail: String| NamespaceError::Output {
            pid: self.pid,
            tool: FIND,
            path: path.to_owned(),
            detail,
        };
        let fields: Vec<&[u8]> = output.stdout.split(|b| *b == 0).collect();
        // The output ends with a NUL, so the split leaves one empty piece at the end.
        let records = fields.len().saturating_sub(1);
        if !records.is_multiple_of(8) {
            return Err(bad(format!("{records} fields, not a multiple of 8")));
        }
        let mut top = None;
        let mut entries = Vec::new();
        for chunk in fields[..records].chunks(8) {
            let text = |i: usize| String::from_utf8_lossy(chunk[i]).into_owned();
            let number = |i: usize, radix: u32| {
                u64::from_str_radix(&text(i), radix)
                    .map_err(|_| bad(format!("field {i} is not a number: {:?}", text(i))))
            };
            let kind = FileKind::from_find(&text(1));
            let link = text(6);
            let entry = DirEntry {
                name: text(7),
                kind,
                mode: u32::try_from(number(2, 8)?).map_err(|_| bad("mode too large".into()))?,
                uid: u32::try_from(number(3, 10)?).map_err(|_| bad("uid too large".into()))?,
                gid: u32::try_from(number(4, 10)?).map_err(|_| bad("gid too large".into()))?,
                size: number(5, 10)?,
                link_target: (kind == FileKind::Symlink).then_some(link),
            };
            if text(0) == "0" {
                top = Some(entry);
            } else {
                entries.push(entry);
            }
        }
        let path_entry = top.ok_or_else(|| bad("no entry for the path itself".to_owned()))?;
        entries.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(Listing {
            path: path_entry,
            entries,
        })
    }

    /// Read the file at `path` (absolute) as the unit sees it; symlinks resolve inside the
    /// namespace. Fails with [`NamespaceError::TooLarge`] when it has more than `limit` bytes
    /// (`/dev/zero` never ends).
    pub fn read_file(&self, path: &Path, limit: usize) -> Result<Vec<u8>, NamespaceError> {
        absolute(path)?;
        let mut child = self
            .command(CAT)
            .arg("--")
            .arg(path)
            .spawn()
            .map_err(|e| self.helper_error(CAT, e))?;
        let mut content = Vec::new();
        let read = match child.stdout.take() {
            Some(stdout) => stdout
                .take(u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1))
                .read_to_end(&mut content)
                .map(|_| ()),
            None => Ok(()),
        };
        if read.is_err() || content.len() > limit {
            // Stop a reader of an endless file; it may have finished already.
            let _ = child.kill();
        }
        let mut stderr = Vec::new();
        if let Some(mut err) = child.stderr.take() {
            let _ = err.read_to_end(&mut stderr);
        }
        let status = child.wait().map_err(|e| self.helper_error(CAT, e))?;
        read.map_err(|e| self.helper_error(CAT, e))?;
        if content.len() > limit {
            return Err(NamespaceError::TooLarge {
                pid: self.pid,
                path: path.to_owned(),
                limit,
            });
        }
        if !status.success() {
            return Err(self.failed("read", path, &stderr));
        }
        Ok(content)
    }

    /// A command that runs `program` inside the namespace and the process's root directory.
    fn command(&self, program: &str) -> Command {
        let mut cmd = Command::new(program);
        cmd.env_clear()
            .env("LC_ALL", "C")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let namespace = self.namespace.as_raw_fd();
        let root = self.root.as_raw_fd();
        // SAFETY: the hook runs in the forked child, which has a single thread; it only makes
        // raw system calls (setns, fchdir, chroot, chdir), which are async-signal-safe, and
        // builds errors with `io::Error::last_os_error`, which does not allocate. The two
        // descriptors stay open in the child until exec: they belong to `self`, which outlives
        // the spawn, and the child has copies of them.
        unsafe {
            cmd.pre_exec(move || enter(namespace, root));
        }
        cmd
    }

    fn helper_error(&self, tool: &'static str, source: io::Error) -> NamespaceError {
        let hint = match source.raw_os_error() {
            Some(libc::EPERM) => ": entering another process's namespace needs root",
            Some(libc::ENOENT) => {
                ": the program is missing inside the unit's root (RootDirectory=/RootImage=?)"
            }
            _ => "",
        };
        NamespaceError::Helper {
            pid: self.pid,
            tool,
            error: source,
            hint,
        }
    }

    fn failed(&self, action: &'static str, path: &Path, stderr: &[u8]) -> NamespaceError {
        let message = String::from_utf8_lossy(stderr).trim().to_owned();
        NamespaceError::Failed {
            pid: self.pid,
            action,
            path: path.to_owned(),
            message: if message.is_empty() {
                "the helper failed without a message".to_owned()
            } else {
                message
            },
        }
    }
}

fn absolute(path: &Path) -> Result<(), NamespaceError> {
    if path.is_absolute() {
        Ok(())
    } else {
        Err(NamespaceError::RelativePath {
            path: path.to_owned(),
        })
    }
}

/// In the helper child, before exec: enter the mount namespace, then the process's root
/// (`nsenter --mount --root`). Only raw system calls: see [`MountNamespace::command`].
fn enter(namespace: RawFd, root: RawFd) -> io::Result<()> {
    // SAFETY: plain system calls on descriptors owned by the caller and on static
    // NUL-terminated strings.
    unsafe {
        if libc::setns(namespace, libc::CLONE_NEWNS) != 0
            || libc::fchdir(root) != 0
            || libc::chroot(c".".as_ptr()) != 0
            || libc::chdir(c"/".as_ptr()) != 0
        {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(kind: FileKind, mode: u32) -> DirEntry {
        DirEntry {
            name: "x".into(),
            kind,
            mode,
            uid: 0,
            gid: 0,
            size: 0,
            link_target: None,
        }
    }

    #[test]
    fn mode_strings_match_ls() {
        assert_eq!(
            entry(FileKind::Directory, 0o1777).mode_string(),
            "drwxrwxrwt"
        );
        assert_eq!(entry(FileKind::File, 0o4755).mode_string(), "-rwsr-xr-x");
        assert_eq!(entry(FileKind::File, 0o2644).mode_string(), "-rw-r-Sr--");
        assert_eq!(entry(FileKind::Directory, 0).mode_string(), "d---------");
        assert_eq!(entry(FileKind::Symlink, 0o777).mode_string(), "lrwxrwxrwx");
    }

    #[test]
    fn lists_our_own_namespace_like_ls() {
        let me = ProcessHandle::open(std::process::id()).unwrap();
        let ns = MountNamespace::of(&me).unwrap();
        let listing = ns.list(Path::new("/")).unwrap();
        assert_eq!(listing.path.kind, FileKind::Directory);
        let names: Vec<&str> = listing.entries.iter().map(|e| e.name.as_str()).collect();
        for expected in ["proc", "usr", "tmp"] {
            assert!(names.contains(&expected), "{names:?}");
        }
        let tmp = listing.entries.iter().find(|e| e.name == "tmp").unwrap();
        assert_eq!(tmp.mode, 0o1777);
        let text = listing.render();
        assert!(text.starts_with("drwx"), "{text}");
        assert!(text
            .lines()
            .any(|l| l.starts_with("drwxrwxrwt") && l.ends_with(" tmp")));

        // A file is listed as itself; a symlink as a symlink with its target.
        let hostname = ns.list(Path::new("/etc/hostname")).unwrap();
        assert_eq!(hostname.path.kind, FileKind::File);
        assert!(hostname.entries.is_empty());
    }

    #[test]
    fn reports_relative_missing_and_oversized_paths() {
        let me = ProcessHandle::open(std::process::id()).unwrap();
        let ns = MountNamespace::of(&me).unwrap();
        let err = ns.list(Path::new("tmp")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "`tmp` is not an absolute path: give the path from the unit's root, e.g. /tmp"
        );
        let err = ns.list(Path::new("/no/such/dir")).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "cannot list /no/such/dir inside the mount namespace of process {}: \
                 /usr/bin/find: '/no/such/dir': No such file or directory",
                std::process::id()
            )
        );
        let err = ns.read_file(Path::new("/dev/zero"), 4096).unwrap_err();
        assert!(
            matches!(err, NamespaceError::TooLarge { limit: 4096, .. }),
            "{err}"
        );
        assert_eq!(
            ns.read_file(Path::new("/proc/self/comm"), 100).unwrap(),
            b"cat\n"
        );
    }
}
