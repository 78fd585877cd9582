//! A service manager on another machine, reached over SSH the way `systemctl -H` reaches it:
//! D-Bus through `ssh -xT HOST systemd-stdio-bridge` (the D-Bus `unixexec:` transport), and
//! every file or program of that machine through the same `ssh`, so nothing but SSH and
//! systemd is needed on the other side.
//!
//! SSH is the user's: `ssh` from `PATH` (or the program in `$SANDGEN_SSH`, as systemd reads
//! `$SYSTEMD_SSH`), with their `~/.ssh/config`, agent and known hosts. When standard input
//! is not a terminal, `BatchMode=yes`: a password prompt nobody can answer fails at once
//! instead of hanging. Remote commands are single-quoted for the remote shell
//! ([`shell_quote`]), so a path or argument never becomes more than one word there.

use std::ffi::OsString;
use std::io::{IsTerminal as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// Why something on the remote machine could not be done.
#[derive(Debug, thiserror::Error)]
pub enum SshError {
    /// `ssh` itself could not be run.
    #[error(
        "{host}: cannot run {program:?}: {error} (install openssh-client, or set SANDGEN_SSH)"
    )]
    NoSsh {
        /// The destination.
        host: String,
        /// The ssh program.
        program: OsString,
        /// Why.
        error: std::io::Error,
    },
    /// ssh could not reach or log in to the host (ssh exits 255).
    #[error("{host}: ssh failed: {message}")]
    Unreachable {
        /// The destination.
        host: String,
        /// What ssh said.
        message: String,
    },
    /// The remote command failed.
    #[error("{host}: `{command}` failed ({status}){}", if .stderr.is_empty() { String::new() } else { format!(": {}", .stderr) })]
    Remote {
        /// The destination.
        host: String,
        /// The remote command line.
        command: String,
        /// How it ended.
        status: String,
        /// What it printed on standard error.
        stderr: String,
    },
}

/// A machine reached with `ssh DESTINATION`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ssh {
    /// `[USER@]HOST`, or a `Host` alias of the user's ssh config.
    pub destination: String,
    program: OsString,
    batch: bool,
}

/// Exit status of a remote file read whose file does not exist.
const NOT_FOUND: i32 = 3;

impl Ssh {
    /// `destination` through `$SANDGEN_SSH` or `ssh`; batch mode unless standard input is a
    /// terminal.
    pub fn new(destination: &str) -> Self {
        Ssh {
            destination: destination.to_owned(),
            program: std::env::var_os("SANDGEN_SSH")
                .filter(|p| !p.is_empty())
                .unwrap_or_else(|| "ssh".into()),
            batch: !std::io::stdin().is_terminal(),
        }
    }

    /// The ssh arguments before the remote command: no X11 forwarding, no terminal, batch
    /// mode when nobody can answer a prompt, then `--` and the destination (a destination
    /// starting with `-` is then not read as an option).
    fn ssh_args(&self) -> Vec<OsString> {
        let mut args: Vec<OsString> = vec!["-xT".into()];
        if self.batch {
            args.extend(["-o".into(), "BatchMode=yes".into()]);
        }
        if let Some(dir) = control_dir() {
            // One login per host, shared by every ssh sandgen runs (the bus, files, the
            // journal) and by the sandgen commands of the next minute: a command makes two
            // to five connections, and each login costs a key exchange and authentication.
            // The master ends 60 s after its last use. A ControlPath in the user's own config
            // is overridden by this one; their ControlMaster=no is too, as Ansible does.
            let mut path = OsString::from("ControlPath=");
            path.push(dir.join("%C"));
            args.extend([
                "-o".into(),
                "ControlMaster=auto".into(),
                "-o".into(),
                path,
                "-o".into(),
                "ControlPersist=60".into(),
            ]);
        }
        args.push("--".into());
        args.push(self.destination.clone().into());
        args
    }

    /// The D-Bus address of the remote system bus: `ssh ... systemd-stdio-bridge`.
    pub fn bus_address(&self) -> zbus::Address {
        let mut args = self.ssh_args();
        args.push("systemd-stdio-bridge".into());
        zbus::Address::from(zbus::address::transport::Transport::Unixexec(
            zbus::address::transport::Unixexec::new(PathBuf::from(&self.program), None, args),
        ))
    }

    /// `ssh DESTINATION 'ARGV...'`, each word quoted for the remote shell.
    fn command(&self, argv: &[&str]) -> (Command, String) {
        let line = argv
            .iter()
            .map(|a| shell_quote(a))
            .collect::<Vec<_>>()
            .join(" ");
        let mut cmd = Command::new(&self.program);
        cmd.args(self.ssh_args()).arg(&line);
        (cmd, line)
    }

    /// Run `argv` on the remote machine with `input` on its standard input; its output,
    /// whatever its status, or why ssh could not run it.
    fn output(&self, argv: &[&str], input: Option<&[u8]>) -> Result<(Output, String), SshError> {
        let (mut cmd, line) = self.command(argv);
        cmd.stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
        log::debug!("{}: {line}", self.destination);
        let no_ssh = |error| SshError::NoSsh {
            host: self.destination.clone(),
            program: self.program.clone(),
            error,
        };
        let mut child = cmd.spawn().map_err(no_ssh)?;
        if let (Some(bytes), Some(mut stdin)) = (input, child.stdin.take()) {
            // A remote command that exits early closes the pipe: its status says why.
            let _ = stdin.write_all(bytes);
        }
        let out = child.wait_with_output().map_err(no_ssh)?;
        if out.status.code() == Some(255) {
            return Err(SshError::Unreachable {
                host: self.destination.clone(),
                message: last_line(&out.stderr),
            });
        }
        Ok((out, line))
    }

    /// Run `argv` remotely; its standard output, or an error when it fails.
    ///
    /// # Errors
    ///
    /// When ssh cannot reach the host, or the command exits non-zero.
    pub fn run(&self, argv: &[&str]) -> Result<String, SshError> {
        let (out, line) = self.output(argv, None)?;
        if !out.status.success() {
            return Err(self.failed(line, &out));
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// Run `argv` remotely; its whole output, whatever its status (for a command whose
    /// report is its output, such as `sandgen verify`).
    ///
    /// # Errors
    ///
    /// When ssh cannot reach the host.
    pub fn run_output(&self, argv: &[&str]) -> Result<Output, SshError> {
        self.output(argv, None).map(|(out, _)| out)
    }

    fn failed(&self, command: String, out: &Output) -> SshError {
        SshError::Remote {
            host: self.destination.clone(),
            command,
            status: match out.status.code() {
                Some(code) => format!("exit status {code}"),
                None => "killed".to_owned(),
            },
            stderr: String::from_utf8_lossy(&out.stderr).trim_end().to_owned(),
        }
    }

    /// The remote file `path`; `None` when it does not exist.
    ///
    /// # Errors
    ///
    /// When ssh fails, or the file exists but cannot be read.
    pub fn read_file(&self, path: &Path) -> Result<Option<String>, SshError> {
        let path = path.to_string_lossy();
        let script =
            format!("[ -e \"$1\" ] || [ -L \"$1\" ] || exit {NOT_FOUND}; exec cat -- \"$1\"");
        let argv = ["sh", "-c", &script, "sh", &path];
        let (out, line) = self.output(&argv, None)?;
        match out.status.code() {
            Some(0) => Ok(Some(String::from_utf8_lossy(&out.stdout).into_owned())),
            Some(NOT_FOUND) => Ok(None),
            _ => Err(self.failed(line, &out)),
        }
    }

    /// Replace the remote file `path` with `bytes` atomically: a temporary file beside it,
    /// written from standard input, flushed to disk, then renamed over it; on any failure the
    /// temporary file is removed and `path` is as it was.
    ///
    /// # Errors
    ///
    /// When ssh fails or the remote file cannot be written.
    pub fn write_file_atomically(&self, path: &Path, bytes: &[u8]) -> Result<(), SshError> {
        let path = path.to_string_lossy();
        let script = "set -e; \
             tmp=$(mktemp \"$(dirname -- \"$1\")/.sandgen-XXXXXX\"); \
             trap 'rm -f -- \"$tmp\"' EXIT; \
             cat > \"$tmp\"; chmod 644 \"$tmp\"; sync -- \"$tmp\"; \
             mv -f -- \"$tmp\" \"$1\"; trap - EXIT; sync -- \"$(dirname -- \"$1\")\"";
        let argv = ["sh", "-c", script, "sh", &path];
        let (out, line) = self.output(&argv, Some(bytes))?;
        if !out.status.success() {
            return Err(self.failed(line, &out));
        }
        Ok(())
    }

    /// Remove the remote file `path`; `false` when there was none.
    ///
    /// # Errors
    ///
    /// When ssh fails or the file cannot be removed.
    pub fn remove_file(&self, path: &Path) -> Result<bool, SshError> {
        let path = path.to_string_lossy();
        let script = format!("[ -e \"$1\" ] || [ -L \"$1\" ] || exit {NOT_FOUND}; rm -f -- \"$1\"");
        let argv = ["sh", "-c", &script, "sh", &path];
        let (out, line) = self.output(&argv, None)?;
        match out.status.code() {
            Some(0) => Ok(true),
            Some(NOT_FOUND) => Ok(false),
            _ => Err(self.failed(line, &out)),
        }
    }
}

/// The directory of sandgen's ssh control sockets: `$XDG_RUNTIME_DIR/sandgen-ssh`, else
/// `/tmp/sandgen-ssh-UID`, made private to the user (mode 0700, owned by them); `None`
/// (no connection sharing) when it cannot be made so.
fn control_dir() -> Option<PathBuf> {
    use std::os::unix::fs::{DirBuilderExt as _, MetadataExt as _, PermissionsExt as _};
    let uid = nix::unistd::getuid().as_raw();
    let dir = match std::env::var_os("XDG_RUNTIME_DIR").filter(|d| !d.is_empty()) {
        Some(d) => PathBuf::from(d).join("sandgen-ssh"),
        None => PathBuf::from(format!("/tmp/sandgen-ssh-{uid}")),
    };
    match std::fs::DirBuilder::new().mode(0o700).create(&dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => {
            log::debug!(
                "no ssh connection sharing: cannot create {}: {e}",
                dir.display()
            );
            return None;
        }
    }
    // Not a symlink, ours, and private: another user must not place or read our sockets.
    let meta = std::fs::symlink_metadata(&dir).ok()?;
    let private = meta.is_dir() && meta.uid() == uid && meta.permissions().mode() & 0o077 == 0;
    if !private {
        log::debug!(
            "no ssh connection sharing: {} is not private to uid {uid}",
            dir.display()
        );
        return None;
    }
    Some(dir)
}

/// `word` quoted for a POSIX shell: inside single quotes, where nothing is special but the
/// single quote itself, written as `'\''`.
pub fn shell_quote(word: &str) -> String {
    if !word.is_empty()
        && word
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./=:@,+%".contains(&b))
    {
        return word.to_owned();
    }
    format!("'{}'", word.replace('\'', r"'\''"))
}

fn last_line(stderr: &[u8]) -> String {
    let text = String::from_utf8_lossy(stderr);
    text.lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("no message (exit status 255)")
        .trim()
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_keeps_every_word_one_word_for_sh() {
        for word in [
            "plain",
            "",
            "a b",
            "it's",
            "$(reboot)",
            "`id`",
            "a\nb",
            "--",
            "*",
            "x;y|z&",
            "\\",
        ] {
            let out = Command::new("sh")
                .args(["-c", &format!("printf '%s' {}", shell_quote(word))])
                .output()
                .expect("sh runs");
            assert_eq!(String::from_utf8_lossy(&out.stdout), word, "{word:?}");
        }
    }

    #[test]
    fn the_bus_is_ssh_to_the_stdio_bridge() {
        let ssh = Ssh {
            destination: "admin@web1".to_owned(),
            program: "ssh".into(),
            batch: true,
        };
        let address = ssh.bus_address().to_string();
        assert!(
            address.starts_with("unixexec:path=ssh,argv1=-xT,argv2=-o,argv3=BatchMode%3dyes,"),
            "{address}"
        );
        assert!(
            address.ends_with(",argv5=--,argv6=admin%40web1,argv7=systemd-stdio-bridge")
                || address.ends_with(",argv10=--,argv11=admin%40web1,argv12=systemd-stdio-bridge"),
            "{address}"
        );
    }
}
