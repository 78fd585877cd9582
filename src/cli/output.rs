//! Everything sandgen writes: to stdout and stderr without ever panicking, and to files so
//! that a reader (or a crash) never sees half of one and nothing but a regular file is
//! replaced; and the one bounded reader of policy files.
//!
//! `print!`/`println!` panic when stdout is closed or full; sandgen's user-facing output goes
//! through [`outln!`] instead, whose errors end the command like any other: a closed pipe
//! quietly, by SIGPIPE, as `cat` and `grep` end (see [`exit_on_closed_stdout`]); a full
//! device as an error that says so.

use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

/// stdout could not be written.
#[derive(Debug, thiserror::Error)]
pub(crate) enum StdoutError {
    /// The reader went away (`sandgen ... | head -1`).
    #[error("stdout is closed")]
    Closed,
    /// Any other failure (`sandgen ... > /dev/full`).
    #[error("cannot write to stdout: {0}")]
    Failed(io::Error),
}

impl From<io::Error> for StdoutError {
    fn from(e: io::Error) -> Self {
        if e.kind() == io::ErrorKind::BrokenPipe {
            StdoutError::Closed
        } else {
            StdoutError::Failed(e)
        }
    }
}

/// Write `text` to stdout and flush it, so that an error is seen here and not in a later
/// write or at exit.
pub(crate) fn stdout(text: &[u8]) -> Result<(), StdoutError> {
    let mut out = io::stdout().lock();
    out.write_all(text)?;
    out.flush()?;
    Ok(())
}

/// Format and write to stdout: [`stdout`] for `format_args!`.
pub(crate) fn stdout_fmt(args: fmt::Arguments<'_>) -> Result<(), StdoutError> {
    stdout(fmt::format(args).as_bytes())
}

/// `println!` that returns a [`StdoutError`] instead of panicking: use with `?`.
macro_rules! outln {
    () => { $crate::cli::output::stdout(b"\n") };
    ($($arg:tt)*) => {
        $crate::cli::output::stdout_fmt(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// How stdout's reports are written: in colour when stdout is a terminal and the
/// environment does not say otherwise ([`crate::paint::colour_wanted`]). JSON never asks.
pub(crate) fn paint() -> crate::paint::Paint {
    use std::io::IsTerminal;
    let var = |k: &str| std::env::var(k).ok();
    if crate::paint::colour_wanted(var, io::stdout().is_terminal()) {
        crate::paint::Paint::COLOUR
    } else {
        crate::paint::Paint::PLAIN
    }
}

/// Write one line to stderr; a stderr that cannot be written is ignored (there is nowhere
/// left to say so).
pub(crate) fn errln(args: fmt::Arguments<'_>) {
    let _ = writeln!(io::stderr().lock(), "{args}");
}

/// Write text to stderr as is, ignoring failures like [`errln`].
pub(crate) fn err_text(text: &str) {
    let _ = io::stderr().lock().write_all(text.as_bytes());
}

/// End the process the way `cat` ends when its reader has gone: killed by SIGPIPE, which
/// the shell reports as status 141. Rust ignores SIGPIPE so that writes return EPIPE; this
/// restores the default action and raises it. Falls back to exit status 141.
pub(crate) fn exit_on_closed_stdout() -> ! {
    use nix::sys::signal::{raise, signal, SigHandler, Signal};
    // SAFETY: installing the default action has no handler code to run; nothing else in
    // sandgen sets a SIGPIPE handler concurrently.
    let _ = unsafe { signal(Signal::SIGPIPE, SigHandler::SigDfl) };
    let _ = raise(Signal::SIGPIPE);
    std::process::exit(141)
}

/// The largest policy file sandgen reads: real policies are a few KiB.
pub(crate) const MAX_POLICY_BYTES: u64 = 1024 * 1024;

/// Read a policy file: a regular file (a symlink to one is followed) of at most
/// [`MAX_POLICY_BYTES`], as UTF-8. A FIFO, device or directory is refused without blocking
/// on it or reading it without bound.
pub(crate) fn read_policy(path: &Path) -> Result<String> {
    let shown = path.display();
    // O_NONBLOCK: opening a FIFO that has no writer would otherwise block forever. It has no
    // effect on reading a regular file.
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(nix::libc::O_NONBLOCK)
        .open(path)
        .with_context(|| format!("cannot read policy {shown}"))?;
    let meta = file
        .metadata()
        .with_context(|| format!("cannot read policy {shown}"))?;
    if !meta.is_file() {
        bail!(
            "cannot read policy {shown}: it is {}, not a regular file",
            file_kind(&meta.file_type())
        );
    }
    if meta.len() > MAX_POLICY_BYTES {
        bail!(
            "cannot read policy {shown}: it has {} bytes, more than a policy may have ({MAX_POLICY_BYTES})",
            meta.len()
        );
    }
    let mut bytes = Vec::new();
    // The file may grow after the size check: read one byte more than allowed to see it.
    file.take(MAX_POLICY_BYTES + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("cannot read policy {shown}"))?;
    if bytes.len() as u64 > MAX_POLICY_BYTES {
        bail!("cannot read policy {shown}: it is larger than a policy may be ({MAX_POLICY_BYTES} bytes)");
    }
    String::from_utf8(bytes)
        .map_err(|e| anyhow::anyhow!("cannot read policy {shown}: it is not UTF-8 text ({e})"))
}

/// "a directory", "a FIFO", ... for messages.
fn file_kind(t: &fs::FileType) -> &'static str {
    if t.is_dir() {
        "a directory"
    } else if t.is_fifo() {
        "a FIFO"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else if t.is_socket() {
        "a socket"
    } else if t.is_symlink() {
        "a symbolic link"
    } else {
        "not a regular file"
    }
}

/// Check that `path` may be replaced by a file sandgen writes: it does not exist, or it is a
/// regular file (or a symbolic link to one, which the write replaces), and its directory
/// exists. Never a device node, FIFO, socket or directory.
pub(crate) fn check_replaceable(path: &Path) -> Result<()> {
    let dir = parent_dir(path);
    match fs::metadata(&dir) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => bail!(
            "cannot write {}: {} is not a directory",
            path.display(),
            dir.display()
        ),
        Err(e) if e.kind() == io::ErrorKind::NotFound => bail!(
            "cannot write {}: directory {} does not exist",
            path.display(),
            dir.display()
        ),
        Err(e) => {
            return Err(e).with_context(|| format!("cannot write {}", path.display()));
        }
    }
    let link = match fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e).with_context(|| format!("cannot write {}", path.display())),
    };
    let target = if link.file_type().is_symlink() {
        match fs::metadata(path) {
            Ok(m) => m.file_type(),
            // A dangling link: the write replaces the link itself.
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e).with_context(|| format!("cannot write {}", path.display())),
        }
    } else {
        link.file_type()
    };
    if !target.is_file() {
        bail!(
            "refusing to replace {}: it is {}, and sandgen only replaces regular files",
            path.display(),
            file_kind(&target)
        );
    }
    Ok(())
}

/// The directory a file path is in (`.` for a bare name).
fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// A file written to a temporary name beside its destination, not yet in place.
pub(crate) struct Staged {
    tmp: PathBuf,
    path: PathBuf,
}

impl Staged {
    /// Write `bytes` to a temporary file in `path`'s directory and fsync it, after checking
    /// with [`check_replaceable`] that `path` may be replaced.
    pub(crate) fn write(path: &Path, bytes: &[u8]) -> Result<Staged> {
        check_replaceable(path)?;
        let file_name = path
            .file_name()
            .with_context(|| format!("{} is not a file path", path.display()))?;
        let tmp = parent_dir(path).join(format!(
            ".{}.sandgen-{}.tmp",
            file_name.to_string_lossy(),
            std::process::id()
        ));
        let staged = Staged {
            tmp,
            path: path.to_owned(),
        };
        let mut f: File = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&staged.tmp)
            .with_context(|| format!("cannot write {}", path.display()))?;
        f.write_all(bytes)
            .and_then(|()| f.sync_all())
            .with_context(|| format!("cannot write {}", path.display()))?;
        Ok(staged)
    }

    /// Rename the file into place, then fsync the directory.
    pub(crate) fn commit(self) -> Result<()> {
        let dir = parent_dir(&self.path);
        fs::rename(&self.tmp, &self.path).with_context(|| {
            format!(
                "cannot rename {} to {}",
                self.tmp.display(),
                self.path.display()
            )
        })?;
        File::open(&dir)
            .and_then(|d| d.sync_all())
            .with_context(|| format!("cannot sync directory {}", dir.display()))?;
        Ok(())
    }
}

impl Staged {
    /// Put the file in place only if nothing is at `path` yet: a hard link, which fails
    /// with EEXIST instead of replacing, then the directory fsynced. The temporary name
    /// is removed when `self` drops.
    pub(crate) fn commit_new(self) -> Result<()> {
        let dir = parent_dir(&self.path);
        match fs::hard_link(&self.tmp, &self.path) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                return Err(Exists(self.path.clone()).into());
            }
            Err(e) => {
                return Err(e).with_context(|| format!("cannot write {}", self.path.display()))
            }
        }
        File::open(&dir)
            .and_then(|d| d.sync_all())
            .with_context(|| format!("cannot sync directory {}", dir.display()))?;
        Ok(())
    }
}

/// A file sandgen was asked to create is already there.
#[derive(Debug, thiserror::Error)]
#[error("{} already exists", .0.display())]
pub(crate) struct Exists(pub(crate) PathBuf);

/// Create `path` with `bytes`, all at once (see [`write_atomically`]), and never over an
/// existing file: [`Exists`] if anything is there, even if it appears during the write.
pub(crate) fn write_new(path: &Path, bytes: &[u8]) -> Result<()> {
    if fs::symlink_metadata(path).is_ok() {
        return Err(Exists(path.to_owned()).into());
    }
    Staged::write(path, bytes)?.commit_new()
}

impl Drop for Staged {
    /// A staged file that was not committed is removed (after a rename there is nothing to
    /// remove, and the error is ignored).
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.tmp);
    }
}

/// Write `bytes` to `path` atomically: a temporary file in the same directory, written and
/// fsynced, then renamed over `path`, then the directory fsynced. A crash at any point
/// leaves either the old file or the new one, never a truncated one. Only a regular file
/// (or nothing) at `path` is replaced.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    Staged::write(path, bytes)?.commit()
}

/// Write several files all or nothing, as far as a file system allows: every destination is
/// checked and every file staged before the first is renamed into place, so any error in
/// checking or writing leaves every destination as it was.
pub(crate) fn write_all_atomically(files: &[(PathBuf, String)]) -> Result<()> {
    let mut staged = Vec::with_capacity(files.len());
    for (path, text) in files {
        staged.push(Staged::write(path, text.as_bytes())?);
    }
    for s in staged {
        s.commit()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_regular_files_and_links_to_them_only() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("a.service");
        fs::write(&file, "old").expect("write");
        write_atomically(&file, b"new").expect("regular file");
        assert_eq!(fs::read_to_string(&file).expect("read"), "new");

        let fifo = dir.path().join("fifo");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::S_IRWXU).expect("mkfifo");
        let err = write_atomically(&fifo, b"x").expect_err("fifo");
        assert_eq!(
            err.to_string(),
            format!(
                "refusing to replace {}: it is a FIFO, and sandgen only replaces regular files",
                fifo.display()
            )
        );
        let link = dir.path().join("null.service");
        std::os::unix::fs::symlink("/dev/null", &link).expect("symlink");
        let err = write_atomically(&link, b"x").expect_err("link to a device");
        assert!(
            err.to_string().contains("it is a character device"),
            "{err}"
        );
        assert!(fs::symlink_metadata(&link)
            .expect("still a link")
            .file_type()
            .is_symlink());

        let missing = dir.path().join("nodir/x.service");
        let err = write_atomically(&missing, b"x").expect_err("no dir");
        assert_eq!(
            err.to_string(),
            format!(
                "cannot write {}: directory {} does not exist",
                missing.display(),
                dir.path().join("nodir").display()
            )
        );
    }

    #[test]
    fn staged_files_that_are_not_committed_leave_nothing_behind() {
        let dir = tempfile::tempdir().expect("tempdir");
        let files = vec![
            (dir.path().join("a.service"), "a".to_owned()),
            (dir.path().join("sub"), "b".to_owned()),
        ];
        fs::create_dir(dir.path().join("sub")).expect("mkdir");
        let err = write_all_atomically(&files).expect_err("a directory in the way");
        assert!(err.to_string().contains("it is a directory"), "{err}");
        let left: Vec<_> = fs::read_dir(dir.path())
            .expect("list")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(left, vec![std::ffi::OsString::from("sub")]);
    }

    #[test]
    fn policy_reads_refuse_what_is_not_a_small_regular_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let fifo = dir.path().join("p.toml");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::S_IRWXU).expect("mkfifo");
        let err = read_policy(&fifo).expect_err("fifo");
        assert_eq!(
            err.to_string(),
            format!(
                "cannot read policy {}: it is a FIFO, not a regular file",
                fifo.display()
            )
        );
        let err = read_policy(Path::new("/dev/zero")).expect_err("device");
        assert_eq!(
            err.to_string(),
            "cannot read policy /dev/zero: it is a character device, not a regular file"
        );
        let big = dir.path().join("big.toml");
        fs::write(&big, vec![b'#'; MAX_POLICY_BYTES as usize + 1]).expect("write");
        let err = read_policy(&big).expect_err("too big");
        assert!(
            err.to_string().contains("more than a policy may have"),
            "{err}"
        );
        let ok = dir.path().join("ok.toml");
        fs::write(&ok, "[service]\n").expect("write");
        assert_eq!(read_policy(&ok).expect("regular"), "[service]\n");
    }
}
