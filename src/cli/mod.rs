//! The command line: parses arguments, gathers facts from the host, runs the pure pipeline
//! and applies its result (stdout, files). Exit codes: 0 success, 1 failure (an invalid
//! policy included), 2 usage error.

#[macro_use]
mod output;
mod inspect;
mod learn;
mod logging;
mod man;
mod new;
mod remote;
mod run;
mod score;
mod service;
mod suggest;
mod verify;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{anyhow, bail, Result};
use clap::{CommandFactory, Parser, Subcommand};
use clap_complete::Shell;

use crate::diagnostic::Diagnostics;
use crate::directive::{self, Kind};
use crate::host::Host;
use crate::policy::value::checked_against;
use crate::policy::Policy;
use crate::render::Templates;
use crate::systemd::bus::JobVerb;
use crate::systemd::Manager;
use crate::Loaded;

const EXAMPLES: &str = "\
Examples:
  sandgen render policies/heat.toml                 print the unit for a policy
  sandgen start heat                                 install policies/heat.toml and start it
  sandgen status heat                                its state, memory, tasks, cgroup
  sandgen run policies/heat.toml                     the same sandbox as a transient unit
  sandgen render policies/heat.toml -o heat.service  write it (atomically)
  sandgen render --out-dir units/ policies/*.toml    render several policies
  sandgen check policies/*.toml                      validate only
  sandgen completions bash > /etc/bash_completion.d/sandgen";

/// Turn a TOML sandbox policy into a hardened systemd service.
#[derive(Debug, Parser)]
#[command(name = "sandgen", version, about, after_help = EXAMPLES)]
pub struct Cli {
    /// More output (-v info, -vv debug).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
    /// Only errors.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    quiet: bool,
    #[command(flatten)]
    connection: service::Connection,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Render policies into unit files (stdout, -o FILE, or --out-dir DIR).
    #[command(after_help = EXAMPLES)]
    Render(RenderArgs),
    /// Validate policies without rendering anything.
    Check(CheckArgs),
    /// Start a policy from a built-in example (or a policy file), under a new name.
    New(new::NewArgs),
    /// Render a policy and write its unit file (atomically), then reload systemd.
    Install {
        #[command(flatten)]
        args: service::InstallArgs,
        /// Do not reload systemd.
        #[arg(long)]
        no_reload: bool,
    },
    /// Install a policy's unit if it changed, start it, and report whether it runs.
    Start {
        #[command(flatten)]
        args: service::InstallArgs,
        #[command(flatten)]
        wait: service::StartWait,
    },
    /// Stop a unit.
    Stop {
        /// The unit (NAME or NAME.service).
        name: String,
        #[command(flatten)]
        wait: service::StartWait,
    },
    /// Restart a unit and report whether it runs.
    Restart {
        /// The unit (NAME or NAME.service).
        name: String,
        #[command(flatten)]
        wait: service::StartWait,
    },
    /// Show a unit's state, main PID, memory, tasks, cgroup and unit file.
    Status {
        /// The unit (NAME or NAME.service).
        name: String,
        /// One JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Stop a unit and remove its unit file, if sandgen generated it.
    Uninstall {
        /// The unit (NAME or NAME.service).
        name: String,
        /// Directory of the unit file [default: /etc/systemd/system].
        #[arg(long, value_name = "DIR")]
        unit_dir: Option<PathBuf>,
    },
    /// Freeze all processes of a unit (cgroup freezer).
    Freeze {
        /// The unit (NAME or NAME.service).
        name: String,
    },
    /// Thaw a frozen unit.
    Thaw {
        /// The unit (NAME or NAME.service).
        name: String,
    },
    /// Run a policy as a transient unit: no file written, no reload.
    Run(run::RunArgs),
    /// Show a running unit's sandbox as the kernel sees it: mounts, capabilities, seccomp, cgroup, processes.
    Inspect(inspect::InspectArgs),
    /// Check a running unit against its policy, directive by directive, from the kernel's view.
    Verify(verify::VerifyArgs),
    /// Trace a command and suggest a system call allow-list for it.
    Suggest(suggest::SuggestArgs),
    /// Record a running unit's system calls in place (BPF) and merge them into its profile.
    Learn(learn::LearnArgs),
    /// Show or merge the profiles `learn` keeps.
    Profile {
        #[command(subcommand)]
        command: learn::ProfileCommand,
    },
    /// Score a policy's or unit's exposure with `systemd-analyze security`.
    Score(score::ScoreArgs),
    /// Print the policy reference (every table and key) as Markdown.
    Reference,
    /// Print a shell completion script.
    Completions {
        /// The shell.
        shell: Shell,
    },
    /// Write the manual pages (docs/man/: `sandgen man --out-dir docs/man`).
    #[command(hide = true)]
    Man(man::ManArgs),
}

#[derive(Debug, clap::Args)]
pub(crate) struct TargetArgs {
    /// The systemd version to render for, whose system call groups policies are checked
    /// against [default: the manager's over D-Bus where sandgen talks to one, else the host's,
    /// from `systemctl --version`].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(200..1000))]
    pub(crate) systemd_version: Option<u32>,
}

#[derive(Debug, clap::Args)]
struct RenderArgs {
    /// Policy files.
    #[arg(required = true, value_name = "POLICY.toml")]
    policies: Vec<PathBuf>,
    /// Write the unit to FILE (atomically) instead of stdout. One policy only.
    #[arg(short, long, value_name = "FILE", conflicts_with = "out_dir")]
    output: Option<PathBuf>,
    /// Write each unit to DIR/NAME.service.
    #[arg(long, value_name = "DIR")]
    out_dir: Option<PathBuf>,
    /// Use DIR/service.hbs instead of the built-in template.
    #[arg(long, value_name = "DIR")]
    templates: Option<PathBuf>,
    #[command(flatten)]
    target: TargetArgs,
}

#[derive(Debug, clap::Args)]
struct CheckArgs {
    /// Policy files.
    #[arg(required = true, value_name = "POLICY.toml")]
    policies: Vec<PathBuf>,
    #[command(flatten)]
    target: TargetArgs,
}

/// The longest span a duration option takes: a year, far beyond any useful wait, and far
/// from the overflow of a clock deadline.
const MAX_SECONDS: f64 = 365.0 * 86_400.0;

/// Parse a duration option given in seconds (`0.5`, `30`): a finite number from 0 to a year.
/// `inf`, `nan`, negative and huge values are usage errors, never a panic or a silent 0.
pub(crate) fn seconds(text: &str) -> Result<std::time::Duration, String> {
    let secs: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("`{text}` is not a number of seconds"))?;
    if !secs.is_finite() || !(0.0..=MAX_SECONDS).contains(&secs) {
        return Err(format!(
            "`{text}` is out of range: give seconds from 0 to {MAX_SECONDS:.0} (a year)"
        ));
    }
    Ok(std::time::Duration::from_secs_f64(secs))
}

/// [`seconds`], and more than zero (a time-out of 0 would fail every call).
pub(crate) fn positive_seconds(text: &str) -> Result<std::time::Duration, String> {
    let d = seconds(text)?;
    if d.is_zero() {
        return Err(format!("`{text}`: a time-out must be more than 0 seconds"));
    }
    Ok(d)
}

/// Run sandgen with the process's arguments.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    logging::init(cli.verbose, cli.quiet);
    QUIET.store(cli.quiet, Ordering::Relaxed);
    let result = if cli.connection.hosts.len() > 1 {
        remote::own_args().and_then(|args| {
            let json = args.iter().any(|a| a == "--json");
            remote::fleet(&cli.connection.hosts, &args, json)
        })
    } else {
        run(cli).map(|()| ExitCode::SUCCESS)
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            if let Some(output::StdoutError::Closed) = e.downcast_ref() {
                output::exit_on_closed_stdout();
            }
            if let Some(remote::RemoteExit(code)) = e.downcast_ref() {
                return ExitCode::from(*code);
            }
            report_error(&e);
            ExitCode::FAILURE
        }
    }
}

/// Print an error on stderr: a policy's diagnostics as they are, anything else with its
/// chain of causes.
fn report_error(e: &anyhow::Error) {
    if let Some(d) = e.downcast_ref::<Diagnostics>() {
        output::err_text(&d.to_string());
    } else {
        output::errln(format_args!("error: {e:#}"));
    }
}

static QUIET: AtomicBool = AtomicBool::new(false);

/// A short message to the user on stderr (what sandgen chose or did), unless `-q`.
pub(crate) fn note(message: &str) {
    if !QUIET.load(Ordering::Relaxed) {
        output::errln(format_args!("sandgen: {message}"));
    }
}

fn run(cli: Cli) -> Result<()> {
    let conn = &cli.connection.manager()?;
    if let Some(ssh) = conn.remote() {
        if matches!(
            cli.command,
            Command::Inspect(_)
                | Command::Verify(_)
                | Command::Suggest(_)
                | Command::Learn(_)
                | Command::Profile { .. }
        ) {
            // They read that machine's kernel (and learn's profiles are kept there): sandgen
            // runs there.
            return remote::run_there(ssh, &remote::strip_host_args(&remote::own_args()?));
        }
    }
    match cli.command {
        Command::Render(args) => render(conn, args),
        Command::Check(args) => check(conn, args),
        Command::New(args) => new::new(args),
        Command::Install { args, no_reload } => service::install(conn, args, no_reload),
        Command::Start { args, wait } => service::start(conn, args, wait),
        Command::Stop { name, wait } => service::job(conn, JobVerb::Stop, &name, wait),
        Command::Restart { name, wait } => service::job(conn, JobVerb::Restart, &name, wait),
        Command::Status { name, json } => service::status(conn, &name, json),
        Command::Uninstall { name, unit_dir } => {
            service::uninstall(conn, &name, unit_dir.as_deref())
        }
        Command::Freeze { name } => service::freeze(conn, &name, true),
        Command::Thaw { name } => service::freeze(conn, &name, false),
        Command::Run(args) => run::run(conn, args),
        Command::Inspect(args) => inspect::inspect(conn, args),
        Command::Verify(args) => verify::verify(conn, args),
        Command::Suggest(args) => suggest::suggest(conn, args),
        Command::Score(args) => score::score(conn, args),
        Command::Learn(args) => learn::learn(conn, args),
        Command::Profile { command } => learn::profile(command),
        Command::Reference => {
            output::stdout(directive::table::reference_markdown().as_bytes())?;
            Ok(())
        }
        Command::Man(args) => man::man(&args),
        Command::Completions { shell } => {
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "sandgen", &mut script);
            output::stdout(&script)?;
            Ok(())
        }
    }
}

/// Read one policy file and load it for `host`; its warnings go to stderr.
pub(crate) fn load(host: &Host, path: &Path) -> Result<Loaded> {
    let text = output::read_policy(path)?;
    let loaded = host.load(&path.display().to_string(), text)?;
    warn_about(&loaded);
    Ok(loaded)
}

/// Show a loaded policy's warnings (what its unit says differently for the target systemd)
/// on stderr, located like errors, unless `-q`.
pub(crate) fn warn_about(loaded: &Loaded) {
    if QUIET.load(Ordering::Relaxed) {
        return;
    }
    for w in &loaded.warnings {
        output::err_text(&format!("{w}\n"));
    }
}

/// A loaded policy and its unit file text.
pub(crate) struct Rendered {
    pub(crate) policy: Policy,
    pub(crate) text: String,
}

/// Load one policy file and render its unit.
pub(crate) fn render_file(host: &Host, path: &Path, templates: &Templates) -> Result<Rendered> {
    let loaded = load(host, path)?;
    let text = loaded.render(templates)?;
    Ok(Rendered {
        policy: loaded.policy,
        text,
    })
}

/// Load every policy, reporting all invalid ones before failing.
fn load_all(paths: &[PathBuf], host: &Host, consequence: &str) -> Result<Vec<Loaded>> {
    let mut loaded = Vec::new();
    let mut failed = 0;
    for path in paths {
        match load(host, path) {
            Ok(l) => loaded.push(l),
            Err(e) => {
                failed += 1;
                report_error(&e);
            }
        }
    }
    if failed > 0 {
        let what = if failed == 1 {
            "policy is"
        } else {
            "policies are"
        };
        return Err(anyhow!("{failed} {what} invalid{consequence}"));
    }
    Ok(loaded)
}

/// The facts of the systemd policies are rendered for: with `--host`, the remote one's (its
/// version over the bus, its groups from its systemd-analyze); else the version given or
/// this machine's.
fn target_host(conn: &Manager, version: Option<u32>) -> Result<Host> {
    if conn.remote().is_some() {
        let client = conn.connect()?;
        return Ok(Host::for_manager(version, &client, conn));
    }
    Ok(Host::new(version))
}

fn render(conn: &Manager, args: RenderArgs) -> Result<()> {
    if args.policies.len() > 1 && args.out_dir.is_none() {
        Cli::command()
            .error(
                clap::error::ErrorKind::ArgumentConflict,
                "several policies need --out-dir DIR (stdout and -o take one unit)",
            )
            .exit();
    }
    let host = target_host(conn, args.target.systemd_version)?;
    let templates = Templates::from_dir_or_built_in(args.templates.as_deref())?;
    let mut units: Vec<(Policy, String)> = Vec::new();
    for loaded in load_all(&args.policies, &host, "; nothing was written")? {
        let text = loaded.render(&templates)?;
        let policy = loaded.policy;
        if let Some((first, _)) = units
            .iter()
            .find(|(p, _)| p.unit_name() == policy.unit_name())
        {
            bail!(
                "{} and {} both render {}; nothing was written (give one of them another [service] name)",
                first.source.name,
                policy.source.name,
                policy.unit_name()
            );
        }
        units.push((policy, text));
    }
    if let Some(dir) = &args.out_dir {
        if !dir.is_dir() {
            bail!(
                "--out-dir {}: no such directory; nothing was written",
                dir.display()
            );
        }
        let files: Vec<(PathBuf, String)> = units
            .into_iter()
            .map(|(policy, text)| (dir.join(policy.unit_name()), text))
            .collect();
        output::write_all_atomically(&files).map_err(|e| anyhow!("{e:#}; nothing was written"))?;
        for (path, _) in &files {
            log::info!("wrote {}", path.display());
        }
    } else if let Some(path) = &args.output {
        // Exactly one policy here: clap requires one, and several need --out-dir.
        for (_, text) in &units {
            output::write_atomically(path, text.as_bytes())?;
            log::info!("wrote {}", path.display());
        }
    } else {
        let text: String = units.into_iter().map(|(_, text)| text).collect();
        output::stdout(text.as_bytes())?;
    }
    Ok(())
}

fn check(conn: &Manager, args: CheckArgs) -> Result<()> {
    let host = target_host(conn, args.target.systemd_version)?;
    let loaded = load_all(&args.policies, &host, "")?;
    for Loaded {
        policy, directives, ..
    } in loaded
    {
        let uses_syscalls = policy
            .settings
            .iter()
            .any(|s| s.spec.kind == Kind::Syscalls);
        let syscalls = match host.syscalls_if_loaded() {
            Some(table) if uses_syscalls => format!("; system calls {}", checked_against(table)),
            _ => String::new(),
        };
        outln!(
            "{}: ok ({}, {} directives for systemd {}{syscalls})",
            policy.source.name,
            policy.unit_name(),
            directives.len(),
            host.version()
        )?;
    }
    Ok(())
}
