//! `--host`: commands on other machines.
//!
//! The D-Bus verbs (start, stop, status, run...) talk to the remote manager through
//! `ssh ... systemd-stdio-bridge` ([`crate::systemd::ssh`]) and need nothing else there. The
//! commands that read the remote kernel (`inspect`, `verify`, `suggest`, `learn`, and
//! `profile`, whose profiles `learn` keeps there) cannot do that
//! from here: they run `sandgen` on the remote machine with the same arguments, over the
//! same SSH, and pass its output and exit status through, so the report is the one a local
//! run prints there ([`run_there`]).
//!
//! Several `--host` make a fleet run ([`fleet`]): sandgen runs itself once per host, a few at a
//! time, and prints a line per host (its output indented below it) and a summary, or with
//! `--json` one document keyed by host. It exits 1 when any host failed.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io::Write as _;
use std::process::{Command, ExitCode, Output};

use anyhow::{bail, Result};

use super::output;
use crate::systemd::ssh::Ssh;

/// How many hosts a fleet run works on at once.
const FLEET_PARALLEL: usize = 8;

/// The remote sandgen ended with this status, having printed its own report and errors.
#[derive(Debug, thiserror::Error)]
#[error("the remote sandgen exited with status {0}")]
pub(crate) struct RemoteExit(pub(crate) u8);

/// The command line without its `-H/--host` options: what runs on each host.
pub(crate) fn strip_host_args(args: &[String]) -> Vec<String> {
    let mut out = Vec::with_capacity(args.len());
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        if arg == "--" {
            out.push(arg.clone());
            out.extend(iter.by_ref().cloned());
            break;
        }
        if arg == "-H" || arg == "--host" {
            iter.next();
            continue;
        }
        if arg.starts_with("--host=") || (arg.starts_with("-H") && arg.len() > 2) {
            continue;
        }
        out.push(arg.clone());
    }
    out
}

/// This process's arguments after the program name, as UTF-8 (they are sent over SSH as
/// words of a remote command line).
pub(crate) fn own_args() -> Result<Vec<String>> {
    std::env::args_os()
        .skip(1)
        .map(|a: OsString| {
            a.into_string().map_err(|a| {
                anyhow::anyhow!("--host: argument {a:?} is not UTF-8 and cannot be sent over SSH")
            })
        })
        .collect()
}

/// Run `sandgen ARGS` on the machine `ssh` reaches and pass its output and status through.
///
/// # Errors
///
/// When the host cannot be reached or has no sandgen; [`RemoteExit`] when it ran and
/// failed (its messages are already printed).
pub(crate) fn run_there(ssh: &Ssh, args: &[String]) -> Result<()> {
    let mut argv = vec!["sandgen"];
    argv.extend(args.iter().map(String::as_str));
    let out = ssh.run_output(&argv)?;
    if out.status.code() == Some(127) {
        bail!(
            "{}: sandgen is not installed there (`sandgen` is not in its PATH); it reads that \
             machine's kernel, so it must run there: install its Debian package, or copy \
             the binary to /usr/local/bin",
            ssh.destination
        );
    }
    output::stdout(&out.stdout)?;
    let _ = std::io::stderr().write_all(&out.stderr);
    match out.status.code() {
        Some(0) => Ok(()),
        Some(code) => Err(RemoteExit(u8::try_from(code).unwrap_or(1)).into()),
        None => bail!("{}: the remote sandgen was killed", ssh.destination),
    }
}

/// What one host of a fleet run gave.
struct HostRun {
    host: String,
    out: std::io::Result<Output>,
}

/// Run this command on every host in `hosts`, a few at a time: sandgen runs itself with
/// one `--host` each. Prints each host's result in the order given, then a summary.
pub(crate) fn fleet(hosts: &[String], args: &[String], json: bool) -> Result<ExitCode> {
    let me = std::env::current_exe()?;
    let rest = strip_host_args(args);
    let mut runs: Vec<HostRun> = Vec::with_capacity(hosts.len());
    for chunk in hosts.chunks(FLEET_PARALLEL) {
        let handles: Vec<_> = chunk
            .iter()
            .map(|host| {
                let mut cmd = Command::new(&me);
                cmd.arg("--host").arg(host).args(&rest);
                let host = host.clone();
                std::thread::spawn(move || HostRun {
                    out: cmd.stdin(std::process::Stdio::null()).output(),
                    host,
                })
            })
            .collect();
        for h in handles {
            match h.join() {
                Ok(run) => runs.push(run),
                Err(_) => bail!("a fleet worker thread panicked"),
            }
        }
    }
    let failed = runs
        .iter()
        .filter(|r| !r.out.as_ref().is_ok_and(|o| o.status.success()))
        .count();
    if json {
        output::stdout(fleet_json(&runs).as_bytes())?;
    } else {
        output::stdout(fleet_text(&runs, failed).as_bytes())?;
    }
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Why a host's run failed, in one line: the last `error:` line it printed, else its last
/// line, else its status.
fn why(out: &std::io::Result<Output>) -> String {
    match out {
        Err(e) => format!("cannot run sandgen: {e}"),
        Ok(o) => {
            let stderr = String::from_utf8_lossy(&o.stderr);
            let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
            lines
                .iter()
                .rev()
                .find(|l| l.starts_with("error:"))
                .or(lines.last())
                .map_or_else(
                    || format!("exit status {}", o.status.code().unwrap_or(-1)),
                    |l| l.trim_start_matches("error: ").to_owned(),
                )
        }
    }
}

fn fleet_text(runs: &[HostRun], failed: usize) -> String {
    let mut text = String::new();
    for run in runs {
        let ok = run.out.as_ref().is_ok_and(|o| o.status.success());
        if ok {
            text.push_str(&format!("{}: ok\n", run.host));
        } else {
            text.push_str(&format!("{}: FAILED: {}\n", run.host, why(&run.out)));
        }
        if let Ok(o) = &run.out {
            for line in String::from_utf8_lossy(&o.stdout).lines() {
                text.push_str(&format!("  {line}\n"));
            }
        }
    }
    text.push_str(&format!(
        "{} host{}: {} ok, {failed} failed\n",
        runs.len(),
        if runs.len() == 1 { "" } else { "s" },
        runs.len() - failed
    ));
    text
}

fn fleet_json(runs: &[HostRun]) -> String {
    let mut doc = BTreeMap::new();
    for run in runs {
        let mut entry = serde_json::Map::new();
        match &run.out {
            Ok(o) => {
                entry.insert("exit_status".into(), o.status.code().unwrap_or(-1).into());
                let report = serde_json::from_slice::<serde_json::Value>(&o.stdout)
                    .unwrap_or(serde_json::Value::Null);
                entry.insert("report".into(), report);
                if !o.status.success() {
                    entry.insert("error".into(), why(&run.out).into());
                }
            }
            Err(_) => {
                entry.insert("exit_status".into(), serde_json::Value::Null);
                entry.insert("report".into(), serde_json::Value::Null);
                entry.insert("error".into(), why(&run.out).into());
            }
        }
        doc.insert(run.host.clone(), serde_json::Value::Object(entry));
    }
    let mut text = serde_json::to_string_pretty(&doc).unwrap_or_default();
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strip(args: &[&str]) -> Vec<String> {
        strip_host_args(&args.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>())
    }

    #[test]
    fn every_spelling_of_host_is_removed_and_nothing_else() {
        assert_eq!(
            strip(&["-H", "a", "verify", "--host", "b", "heat", "--host=c", "-Hd", "--json"]),
            ["verify", "heat", "--json"]
        );
        // After `--`, words belong to the command being run.
        assert_eq!(
            strip(&["-H", "a", "suggest", "--", "ssh", "-H", "x"]),
            ["suggest", "--", "ssh", "-H", "x"]
        );
    }
}
