//! Commands that act on a running systemd: install, start, stop, restart, status,
//! uninstall, freeze, thaw. They gather facts (files, D-Bus), decide with the pure
//! core, and apply the result.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _, Result};

use super::output::{check_replaceable, write_atomically};
use super::{note, Rendered, TargetArgs};
use crate::host::Host;
use crate::inspect::pin::{wait_for_main_exec, MainExec};
use crate::render::Templates;
use crate::systemd::bus::{Bus, JobOutcome, JobVerb, Systemd};
use crate::systemd::settle::{self, Watched, WatchedFrom};
use crate::systemd::ssh::Ssh;
use crate::systemd::status::StatusReport;
use crate::systemd::Manager;
use crate::unit;

/// Where systemd is and how to reach it: the global options of these commands.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct Connection {
    /// Talk to the system manager of [USER@]HOST over SSH, as `systemctl -H` does (D-Bus through
    /// `ssh -xT HOST systemd-stdio-bridge`; inspect and verify run sandgen there). Several
    /// --host run the command on each, in parallel.
    #[arg(short = 'H', long = "host", global = true, value_name = "[USER@]HOST",
          conflicts_with_all = ["bus", "root", "user"], value_parser = parse_host)]
    pub(crate) hosts: Vec<String>,
    /// Talk to the user's service manager (session bus, ~/.config/systemd/user).
    #[arg(long, global = true, conflicts_with = "bus")]
    user: bool,
    /// D-Bus address of the systemd to talk to [default: the system bus].
    #[arg(long, global = true, value_name = "ADDRESS", env = "SANDGEN_BUS")]
    bus: Option<String>,
    /// Root directory of that systemd's file system (unit files, journal), e.g. /proc/PID/root of a container.
    #[arg(long, global = true, value_name = "DIR", env = "SANDGEN_ROOT")]
    root: Option<PathBuf>,
    /// Seconds to wait for each answer or job from systemd (per D-Bus call: connecting, then each call).
    #[arg(long, global = true, value_name = "SECS", default_value = "30", value_parser = super::positive_seconds)]
    timeout: Duration,
}

impl Connection {
    /// The service manager these options name. Refuses a `--root` that is not a directory,
    /// before anything is done with it.
    pub(crate) fn manager(&self) -> Result<Manager> {
        if let Some(root) = self.root.as_ref().filter(|root| !root.is_dir()) {
            bail!(
                "--root {}: no such directory (it is the root of the system whose systemd sandgen talks to)",
                root.display()
            );
        }
        let bus = match (&self.bus, self.user, self.hosts.as_slice()) {
            (_, _, [host]) => Bus::Remote(Ssh::new(host)),
            (_, _, [_, _, ..]) => {
                bail!("several --host: the fleet runner runs one sandgen per host")
            }
            (Some(a), _, []) => Bus::Address(a.clone()),
            (None, true, []) => Bus::Session,
            (None, false, []) => Bus::System,
        };
        Ok(Manager {
            bus,
            timeout: self.timeout,
            root: self.root.clone(),
        })
    }
}

/// A `--host` value: `[USER@]HOST`, not empty, not an option, no whitespace or control
/// characters (it is one argument of ssh).
fn parse_host(value: &str) -> std::result::Result<String, String> {
    if value.is_empty() || value.starts_with('-') {
        return Err("expected [USER@]HOST".to_owned());
    }
    if value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("a host has no spaces or control characters".to_owned());
    }
    Ok(value.to_owned())
}

/// The directory unit files are installed in: `explicit`, else the user's
/// (`~/.config/systemd/user`) or the system's (`/etc/systemd/system` under the root).
pub(crate) fn unit_dir(conn: &Manager, explicit: Option<&Path>) -> Result<PathBuf> {
    if let Some(dir) = explicit {
        return Ok(dir.to_path_buf());
    }
    if conn.remote().is_some() {
        return Ok(PathBuf::from("/etc/systemd/system"));
    }
    if conn.bus == Bus::Session {
        let home = std::env::var_os("HOME")
            .context("--user needs $HOME to find ~/.config/systemd/user")?;
        return Ok(PathBuf::from(home).join(".config/systemd/user"));
    }
    let dir = conn.host_path(Path::new("/etc/systemd/system"));
    if let Some(root) = conn.root() {
        if !dir.is_dir() {
            bail!(
                "--root {}: it has no systemd unit directory ({} does not exist): is it the root of a system with systemd?",
                root.display(),
                dir.display()
            );
        }
    }
    Ok(dir)
}

/// Options shared by the commands that write a unit file.
#[derive(Debug, clap::Args)]
pub(crate) struct InstallArgs {
    /// A policy file, or a NAME looked up as ./NAME.toml, ./policies/NAME.toml, /etc/sandgen/policies/NAME.toml.
    #[arg(value_name = "POLICY.toml|NAME")]
    policy: String,
    /// Overwrite a unit file that sandgen did not generate.
    #[arg(long)]
    force: bool,
    /// Directory for the unit file [default: /etc/systemd/system, or ~/.config/systemd/user with --user].
    #[arg(long, value_name = "DIR")]
    unit_dir: Option<PathBuf>,
    /// Use DIR/service.hbs instead of the built-in template.
    #[arg(long, value_name = "DIR")]
    templates: Option<PathBuf>,
    #[command(flatten)]
    target: TargetArgs,
}

/// How long to wait after a start for a service that fails at once.
#[derive(Debug, clap::Args)]
pub(crate) struct StartWait {
    /// Return once the job is queued, without waiting for it.
    #[arg(long)]
    pub(crate) no_block: bool,
    /// Seconds to watch a started service at least, from the exec of its command, so that one
    /// that fails at once is reported; longer on a machine slow to set up its sandbox (three
    /// times that set-up, up to 10 s); 0: do not watch.
    #[arg(long, value_name = "SECS", default_value = "0.1", value_parser = super::seconds)]
    pub(crate) settle: Duration,
}

/// What the user named: a policy file, or a unit that is only installed.
enum Named {
    Policy(PathBuf),
    Unit(String),
}

/// Resolve `POLICY.toml|NAME`. A name is looked for as a policy in the usual places, in
/// order; when none exists it names an installed unit.
fn resolve(arg: &str) -> Result<Named> {
    if arg.ends_with(".toml") {
        let path = PathBuf::from(arg);
        if !path.exists() {
            bail!("policy {arg} does not exist");
        }
        return Ok(Named::Policy(path));
    }
    if Path::new(arg).is_dir() {
        bail!("{arg} is a directory, not a policy file (POLICY.toml) or a unit name");
    }
    if arg.contains('/') {
        bail!(
            "{arg} is neither a policy file (their names end in .toml) nor a unit name \
             (NAME or NAME.service)"
        );
    }
    let stem = arg.strip_suffix(".service").unwrap_or(arg);
    // A name here is one sandgen starts from a policy: never a template instance.
    check_unit_stem(arg, stem, false)?;
    for dir in [".", "./policies", "/etc/sandgen/policies"] {
        let candidate = Path::new(dir).join(format!("{stem}.toml"));
        if candidate.is_file() {
            note(&format!("using policy {}", candidate.display()));
            return Ok(Named::Policy(candidate));
        }
    }
    Ok(Named::Unit(format!("{stem}.service")))
}

/// The unit name for commands that take `NAME` (or `NAME.service`).
pub(crate) fn unit_name(arg: &str) -> Result<String> {
    let stem = arg.strip_suffix(".service").unwrap_or(arg);
    check_unit_stem(arg, stem, true)?;
    Ok(format!("{stem}.service"))
}

/// Refuse what cannot be the name of a service, saying why. `instance`: whether a template
/// instance (`NAME@INSTANCE`) is allowed, as for units sandgen only stops or reads.
fn check_unit_stem(arg: &str, stem: &str, instance: bool) -> Result<()> {
    crate::policy::value::unit_stem(stem, instance)
        .map_err(|m| anyhow::anyhow!("\"{arg}\" is not a unit name: {m}"))
}

/// What installing a unit file did.
#[derive(Debug, PartialEq, Eq)]
enum FileChange {
    Created,
    Updated,
    Unchanged,
}

/// [`install_file`] on the machine `ssh` reaches: the same rules, the file read and written
/// over SSH (written atomically there: temporary file, sync, rename).
fn install_remote_file(ssh: &Ssh, path: &Path, text: &str, force: bool) -> Result<FileChange> {
    let where_ = || format!("{}:{}", ssh.destination, path.display());
    let change = match ssh.read_file(path)? {
        Some(old) if old == text => return Ok(FileChange::Unchanged),
        Some(old) if !unit::is_generated(&old) && !force => bail!(
            "refusing to overwrite {}: it was not generated by sandgen (--force replaces it)",
            where_()
        ),
        Some(_) => FileChange::Updated,
        None => FileChange::Created,
    };
    ssh.write_file_atomically(path, text.as_bytes())
        .with_context(|| format!("cannot write {}", where_()))?;
    Ok(change)
}

/// The text of unit file `path` of the managed system (here, or over SSH); `None` when
/// it does not exist.
fn read_unit_file(conn: &Manager, path: &Path) -> Result<Option<String>> {
    match conn.remote() {
        Some(ssh) => Ok(ssh.read_file(path)?),
        None => match std::fs::read_to_string(path) {
            Ok(text) => Ok(Some(text)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
        },
    }
}

/// `path` as the user reads it in a message: `HOST:PATH` for a remote machine.
fn shown(conn: &Manager, path: &Path) -> String {
    match conn.remote() {
        Some(ssh) => format!("{}:{}", ssh.destination, path.display()),
        None => path.display().to_string(),
    }
}

/// Write `text` to `path` unless it is already there. Refuses to replace a file sandgen
/// did not generate unless `force`.
fn install_file(path: &Path, text: &str, force: bool) -> Result<FileChange> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    // Before reading it: a FIFO or device there would block the read or never end it.
    check_replaceable(path)?;
    let change = match std::fs::read_to_string(path) {
        Ok(old) if old == text => return Ok(FileChange::Unchanged),
        Ok(old) if !unit::is_generated(&old) && !force => bail!(
            "refusing to overwrite {}: it was not generated by sandgen (--force replaces it)",
            path.display()
        ),
        Ok(_) => FileChange::Updated,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => FileChange::Created,
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    write_atomically(path, text.as_bytes())?;
    Ok(change)
}

fn render(host: &Host, args: &InstallArgs, path: &Path) -> Result<Rendered> {
    let templates = Templates::from_dir_or_built_in(args.templates.as_deref())?;
    super::render_file(host, path, &templates)
}

/// Write a rendered unit into the unit directory; returns whether the file changed.
fn install_rendered(conn: &Manager, args: &InstallArgs, rendered: &Rendered) -> Result<bool> {
    let file = unit_dir(conn, args.unit_dir.as_deref())?.join(rendered.policy.unit_name());
    let change = match conn.remote() {
        Some(ssh) => install_remote_file(ssh, &file, &rendered.text, args.force)?,
        None => install_file(&file, &rendered.text, args.force)?,
    };
    let file = shown(conn, &file);
    match change {
        FileChange::Unchanged => note(&format!("{file} is up to date")),
        FileChange::Created => note(&format!("installed {file}")),
        FileChange::Updated => note(&format!("updated {file}")),
    }
    Ok(change != FileChange::Unchanged)
}

/// `sandgen install`.
pub(crate) fn install(conn: &Manager, args: InstallArgs, no_reload: bool) -> Result<()> {
    let Named::Policy(path) = resolve(&args.policy)? else {
        bail!(
            "no policy named {} (looked in ., ./policies and /etc/sandgen/policies)",
            args.policy
        );
    };
    if no_reload {
        let rendered = render(&Host::new(args.target.systemd_version), &args, &path)?;
        install_rendered(conn, &args, &rendered)?;
        return Ok(());
    }
    let client = conn.connect()?;
    let rendered = render(
        &Host::for_manager(args.target.systemd_version, &client, conn),
        &args,
        &path,
    )?;
    if install_rendered(conn, &args, &rendered)? {
        client.reload()?;
    }
    Ok(())
}

/// `sandgen start`.
pub(crate) fn start(conn: &Manager, args: InstallArgs, wait: StartWait) -> Result<()> {
    let named = resolve(&args.policy)?;
    let client = conn.connect()?;
    let (unit, rendered) = match named {
        Named::Policy(path) => {
            let r = render(
                &Host::for_manager(args.target.systemd_version, &client, conn),
                &args,
                &path,
            )?;
            (r.policy.unit_name(), Some(r))
        }
        Named::Unit(u) => (u, None),
    };
    // Asked before the file is written: a unit systemd does not hold in memory is read from
    // disk by the start itself, so a new or changed unit file then needs no daemon-reload.
    let loaded = client.is_loaded(&unit)?;
    let changed = match &rendered {
        Some(r) => install_rendered(conn, &args, r)?,
        None => false,
    };
    if loaded && (changed || client.status(&unit)?.need_daemon_reload) {
        client.reload()?;
        let before = client.status(&unit)?;
        if changed && before.active_state == "active" {
            note(&format!(
                "{unit} is already running with its previous settings; `sandgen restart {}` applies the new ones",
                unit.trim_end_matches(".service")
            ));
        }
    } else {
        log::info!("{unit}: no reload needed");
    }
    let outcome = client
        .job(JobVerb::Start, &unit, !wait.no_block)
        .map_err(|e| with_journal(conn, &unit, e.into()))?;
    report_start(conn, &client, &unit, outcome, &wait)
}

/// An error about `unit` with the unit's last journal lines appended: when systemd refuses a
/// unit (a setting it cannot parse, a string that is not UTF-8 clean), the D-Bus error says
/// only "Invalid argument" and the reason is in systemd's log.
pub(crate) fn with_journal(conn: &Manager, unit: &str, error: anyhow::Error) -> anyhow::Error {
    anyhow::anyhow!("{error:#}{}", conn.journal_lines(unit))
}

/// Wait for a started unit to settle and report it; an error when it did not start.
///
/// The unit is watched from the moment its main process has exec'd its command, for a window
/// scaled by how long systemd took to set that process up ([`settle::window`]; the rule is in
/// [`crate::systemd::settle`]); without a main process to wait for, from the end of the start
/// job for `--settle` seconds. `--settle 0` reports the state at the end of the job.
pub(crate) fn report_start(
    conn: &Manager,
    client: &dyn Systemd,
    unit: &str,
    outcome: JobOutcome,
    wait: &StartWait,
) -> Result<()> {
    let job_result = match outcome {
        JobOutcome::Queued => {
            outln!("{unit}: start queued")?;
            return Ok(());
        }
        JobOutcome::Finished(r) => r,
    };
    let job_end = Instant::now();
    let (status, watched) = if wait.settle.is_zero() {
        (client.state(unit)?, None)
    } else {
        let main = if conn.remote().is_some() {
            MainExec::Unseen("its processes are on another machine")
        } else {
            wait_for_main_exec(client, conn.namespace_holder(), unit, conn.timeout)
                .map_err(|e| with_journal(conn, unit, e.into()))?
        };
        let (from, since, setup) = match main {
            MainExec::Seen { at, setup } => (WatchedFrom::Exec, at, Some(setup)),
            MainExec::Unseen(why) => (WatchedFrom::StartJob(why), job_end, None),
        };
        let window = settle::window(wait.settle, setup);
        if let Some(setup) = setup {
            log::info!(
                "{unit}: exec'd {:.2} s after its fork; watching it for {:.2} s",
                setup.as_secs_f64(),
                window.as_secs_f64()
            );
        }
        let status = settle::watch(client, unit, since + window)?;
        let duration = since.elapsed();
        (status, Some(Watched { from, duration }))
    };
    match status.start_outcome(&job_result) {
        Ok(line) => {
            // Only a unit still up was watched for the whole window.
            match watched.filter(|_| status.is_ok() && status.active_state != "inactive") {
                Some(watched) => outln!("{unit}: {line}; {watched}")?,
                None => outln!("{unit}: {line}")?,
            }
            Ok(())
        }
        Err(why) => Err(with_journal(
            conn,
            unit,
            anyhow::anyhow!("{unit} failed to start: {why}"),
        )),
    }
}

/// `sandgen stop` / `sandgen restart`.
pub(crate) fn job(conn: &Manager, verb: JobVerb, name: &str, wait: StartWait) -> Result<()> {
    let unit = unit_name(name)?;
    let client = conn.connect()?;
    let outcome = client
        .job(verb, &unit, !wait.no_block)
        .map_err(|e| with_journal(conn, &unit, e.into()))?;
    match verb {
        JobVerb::Stop => {
            match outcome {
                JobOutcome::Queued => outln!("{unit}: stop queued")?,
                JobOutcome::Finished(r) if r == "done" => outln!("{unit}: stopped")?,
                JobOutcome::Finished(r) => bail!("stopping {unit} ended with job result \"{r}\""),
            }
            Ok(())
        }
        _ => report_start(conn, &client, &unit, outcome, &wait),
    }
}

/// `sandgen status`.
pub(crate) fn status(conn: &Manager, name: &str, json: bool) -> Result<()> {
    let unit = unit_name(name)?;
    let status = conn.connect()?.status(&unit)?;
    if status.load_state == "not-found" {
        bail!("{unit}: no such unit (sandgen start POLICY installs and starts one)");
    }
    let generated = !status.fragment_path.is_empty()
        && read_unit_file(conn, &conn.host_path(Path::new(&status.fragment_path)))
            .ok()
            .flatten()
            .is_some_and(|t| unit::is_generated(&t));
    let report = StatusReport::new(status, generated);
    if json {
        outln!("{}", serde_json::to_string_pretty(&report)?)?;
    } else {
        outln!("{}", report.to_text_in(super::output::paint()))?;
    }
    Ok(())
}

/// `sandgen uninstall`: stop, remove the file if sandgen generated it, reload.
pub(crate) fn uninstall(conn: &Manager, name: &str, dir: Option<&Path>) -> Result<()> {
    let unit = unit_name(name)?;
    let file = unit_dir(conn, dir)?.join(&unit);
    let text = read_unit_file(conn, &file)?
        .with_context(|| format!("cannot read {}: no such file", shown(conn, &file)))?;
    if !unit::is_generated(&text) {
        bail!(
            "refusing to remove {}: it was not generated by sandgen",
            shown(conn, &file)
        );
    }
    let client = conn.connect()?;
    if client.status(&unit)?.active_state != "inactive" {
        client.job(JobVerb::Stop, &unit, true)?;
    }
    match conn.remote() {
        Some(ssh) => {
            ssh.remove_file(&file)?;
        }
        None => std::fs::remove_file(&file)
            .with_context(|| format!("cannot remove {}", file.display()))?,
    }
    client.reload()?;
    client.reset_failed(&unit)?;
    outln!("{unit}: stopped and removed {}", shown(conn, &file))?;
    Ok(())
}

/// `sandgen freeze` / `sandgen thaw`.
pub(crate) fn freeze(conn: &Manager, name: &str, freeze: bool) -> Result<()> {
    let unit = unit_name(name)?;
    let client = conn.connect()?;
    client.freeze(&unit, freeze)?;
    let status = client.status(&unit)?;
    outln!(
        "{unit}: {}",
        if status.freezer_state.is_empty() {
            if freeze { "frozen" } else { "running" }.to_owned()
        } else {
            status.freezer_state
        }
    )?;
    Ok(())
}

/// The path (as the managed system sees it) and text of an installed unit's file.
pub(crate) fn installed_unit_file(conn: &Manager, unit: &str) -> Result<(String, String)> {
    let status = conn
        .connect()
        .and_then(|c| c.status(unit))
        .map_err(anyhow::Error::from);
    let inside = match status {
        Ok(s) if s.load_state == "not-found" => {
            bail!("{unit}: no such unit (sandgen install POLICY installs one)")
        }
        Ok(s) if s.fragment_path.is_empty() => {
            bail!("{unit} has no unit file (a transient or generated unit)")
        }
        Ok(s) => PathBuf::from(s.fragment_path),
        Err(e) => {
            // Without a reachable systemd, the file where sandgen installs units.
            let file = unit_dir(conn, None)?.join(unit);
            let text = read_unit_file(conn, &file).ok().flatten().ok_or_else(|| {
                anyhow::anyhow!(
                    "{e:#}; and there is no {} to read instead",
                    shown(conn, &file)
                )
            })?;
            return Ok((file.display().to_string(), text));
        }
    };
    let here = conn.host_path(&inside);
    let text = read_unit_file(conn, &here)?.with_context(|| {
        format!(
            "cannot read {unit}'s unit file {}: no such file",
            shown(conn, &here)
        )
    })?;
    Ok((inside.display().to_string(), text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn install_refuses_foreign_files_and_skips_identical_ones() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("x.service");
        let text = format!(
            "{}\n[Service]\nExecStart=/bin/true\n",
            unit::header("x.toml")
        );
        assert_eq!(
            install_file(&path, &text, false).expect("create"),
            FileChange::Created
        );
        assert_eq!(
            install_file(&path, &text, false).expect("same"),
            FileChange::Unchanged
        );
        std::fs::write(&path, "[Service]\nExecStart=/bin/false\n").expect("write");
        let err = install_file(&path, &text, false).expect_err("foreign");
        assert!(
            err.to_string().starts_with("refusing to overwrite"),
            "{err}"
        );
        assert_eq!(
            std::fs::read_to_string(&path).expect("read"),
            "[Service]\nExecStart=/bin/false\n"
        );
        assert_eq!(
            install_file(&path, &text, true).expect("force"),
            FileChange::Updated
        );
    }
}
