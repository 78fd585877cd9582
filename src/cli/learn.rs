//! `sandgen learn` and `sandgen profile`: a running unit's system calls, recorded in place
//! with the in-kernel recorder ([`crate::learn::record`]) and accumulated in a profile
//! ([`crate::learn::profile`]) under `/var/lib/sandgen/profiles/`.
//!
//! `learn` gathers the recording, merges it into the unit's profile (written atomically),
//! says whether the profile has converged and, with `--suggest`, maps the profile onto the
//! target systemd's groups exactly as `suggest` does ([`crate::suggest::suggest`]); `--write`
//! puts that list into the unit's policy with the comment-keeping write-back of
//! [`crate::suggest::write`].

use std::fmt::Write as _;
use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context as _, Result};

use super::output::{read_policy, write_atomically};
use super::service::{installed_unit_file, unit_name};
use super::{note, TargetArgs};
use crate::host::Host;
use crate::learn::profile::{human_ms, plural, utc, Abi, Ending, Profile};
use crate::learn::record::{self, LearnRequest, Progress};
use crate::suggest as core;
use crate::systemd::Manager;
use crate::trace::bpf;
use crate::trace::unit::catch_interrupts;
use crate::unit::GENERATED_MARKER;

/// Where profiles are kept unless `--profile-dir` says otherwise.
const PROFILE_DIR: &str = "/var/lib/sandgen/profiles";

const LEARN_EXAMPLES: &str = "\
Examples:
  sandgen learn heat --for 1h              record the running heat.service for an hour
  sandgen learn heat                       until Ctrl-C or the unit stops
  sandgen learn backup --start             arm, then start a oneshot unit and record its life
  sandgen learn heat --for 10min --suggest print the profile's [seccomp] allow-list
  sandgen learn heat --for 10min --write   and write it into heat's policy";

/// The tracer of `learn`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum LearnTracer {
    /// The BPF recorder; learn has no other (strace would slow a loaded service by 100x
    /// or more), so `auto` fails, saying why, where it cannot run.
    Auto,
    /// The in-kernel BPF recorder (root, a kernel with BTF).
    Bpf,
}

/// Arguments of `sandgen learn`.
#[derive(Debug, clap::Args)]
#[command(after_help = LEARN_EXAMPLES)]
pub(crate) struct LearnArgs {
    /// The installed unit (NAME or NAME.service).
    name: String,
    /// Record this long (systemd's time syntax: 90, 90s, 5min, 2h, 1d); else until Ctrl-C
    /// or the unit stops.
    #[arg(long = "for", value_name = "DURATION", value_parser = duration)]
    duration: Option<Duration>,
    /// The tracer.
    #[arg(long, value_enum, value_name = "TRACER", default_value = "auto")]
    tracer: LearnTracer,
    /// Arm the recorder, then start the (inactive) unit: a oneshot unit's whole life is
    /// recorded, from its command's exec on.
    #[arg(long)]
    start: bool,
    /// Print the [seccomp] allow-list of the whole profile, mapped onto systemd's groups as
    /// `sandgen suggest` does.
    #[arg(long)]
    suggest: bool,
    /// Write that list into the unit's policy (--policy FILE, else the file the unit was
    /// rendered from), keeping everything else.
    #[arg(long)]
    write: bool,
    /// The policy file --write rewrites.
    #[arg(long, value_name = "FILE", requires = "write")]
    policy: Option<PathBuf>,
    /// How many recordings in a row without a new system call mean the profile converged.
    #[arg(long, value_name = "N", default_value = "3", value_parser = clap::value_parser!(u32).range(1..))]
    converged_after: u32,
    #[command(flatten)]
    dir: ProfileDir,
    #[command(flatten)]
    target: TargetArgs,
}

/// Where profiles are kept.
#[derive(Debug, clap::Args)]
pub(crate) struct ProfileDir {
    /// The directory of the profiles.
    #[arg(long, value_name = "DIR", env = "SANDGEN_PROFILE_DIR", default_value = PROFILE_DIR)]
    profile_dir: PathBuf,
}

impl ProfileDir {
    /// The profile file of `unit` (`NAME.service`): `DIR/NAME.json`.
    pub(crate) fn file(&self, unit: &str) -> PathBuf {
        let stem = unit.strip_suffix(".service").unwrap_or(unit);
        self.profile_dir.join(format!("{stem}.json"))
    }
}

/// `sandgen profile`.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum ProfileCommand {
    /// Show a profile: its system calls, recordings and whether it converged.
    Show {
        /// A unit (its profile in the profile directory) or a profile file (a path with a
        /// `/`, or ending in `.json`).
        profile: String,
        /// Print the profile's JSON.
        #[arg(long)]
        json: bool,
        /// How many recordings in a row without a new system call mean it converged.
        #[arg(long, value_name = "N", default_value = "3", value_parser = clap::value_parser!(u32).range(1..))]
        converged_after: u32,
        #[command(flatten)]
        dir: ProfileDir,
    },
    /// Merge profiles of one unit (from several runs or machines): their union, counts added.
    Merge {
        /// The profiles.
        #[arg(required = true, num_args = 2.., value_name = "PROFILE.json")]
        files: Vec<PathBuf>,
        /// Write the merged profile to OUT (atomically) instead of stdout.
        #[arg(short, long, value_name = "OUT")]
        output: Option<PathBuf>,
    },
}

/// `--for`: a systemd time span, more than zero.
fn duration(text: &str) -> Result<Duration, String> {
    let usec = crate::directive::value::duration_usec(text)
        .map_err(|why| format!("`{text}` is not a duration: {why}"))?;
    if usec == 0 {
        return Err(format!("`{text}`: record for more than 0 seconds"));
    }
    if usec == u64::MAX {
        return Err(format!(
            "`{text}`: leave out --for to record until Ctrl-C or the unit stops"
        ));
    }
    Ok(Duration::from_micros(usec))
}

/// Read the profile at `path`.
pub(crate) fn read_profile(path: &Path) -> Result<Profile> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    Profile::from_json(&text).with_context(|| format!("{}", path.display()))
}

/// Read the profile at `path`, or an empty one of `unit` when there is none yet.
fn read_or_empty(path: &Path, unit: &str) -> Result<Profile> {
    if !path.exists() {
        return Ok(Profile::empty(unit));
    }
    let profile = read_profile(path)?;
    if profile.unit != unit {
        bail!(
            "{} is a profile of {}, not of {unit}",
            path.display(),
            profile.unit
        );
    }
    Ok(profile)
}

/// Write `profile` to `path` atomically, making its directory.
fn write_profile(path: &Path, profile: &Profile) -> Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create the profile directory {}", dir.display()))?;
    }
    write_atomically(path, profile.to_json().as_bytes())
}

/// `sandgen learn`.
pub(crate) fn learn(conn: &Manager, args: LearnArgs) -> Result<()> {
    let unit = unit_name(&args.name)?;
    bpf::check_prerequisites(nix::unistd::geteuid().as_raw(), Path::new(bpf::KERNEL_BTF)).map_err(
        |e| {
            anyhow::anyhow!(
                "sandgen learn records with the BPF recorder, and {e}{}",
                match args.tracer {
                    LearnTracer::Auto =>
                        " (learn has no strace fallback: ptrace would slow a \
                                       service under load by 100x or more)",
                    LearnTracer::Bpf => "",
                }
            )
        },
    )?;
    let path = args.dir.file(&unit);
    let before = read_or_empty(&path, &unit)?;

    catch_interrupts();
    let request = LearnRequest {
        unit: unit.clone(),
        duration: args.duration,
        start: args.start,
    };
    let terminal = std::io::stderr().is_terminal();
    let mut shown = false;
    // Progress on a terminal only: one line, rewritten in place.
    let mut progress = |p: &Progress| {
        super::output::err_text(&format!(
            "\r\x1b[K{unit}: {} recorded, {}, {} new",
            human_ms(u64::try_from(p.elapsed.as_millis()).unwrap_or(u64::MAX)),
            plural(p.syscalls, "system call"),
            p.new
        ));
        shown = true;
    };
    let known = |observed: &_| before.new_in(observed).len();
    let mut attached = |target: &bpf::BpfTarget, main_pid: u32| {
        let what = if args.start {
            "arming for its start".to_owned()
        } else {
            format!("main PID {main_pid}")
        };
        let until = match args.duration {
            Some(d) => format!(
                "for {}",
                human_ms(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
            ),
            None => "until Ctrl-C".to_owned(),
        };
        note(&format!(
            "recording {unit} ({what}) with the BPF recorder, by its {}, {until} or until the \
             unit stops",
            target.describe()
        ));
    };
    let learned = record::record(
        conn,
        &request,
        &mut attached,
        &known,
        terminal.then_some(&mut progress as &mut dyn FnMut(&Progress)),
    )?;
    if shown {
        super::output::err_text("\r\x1b[K");
    }

    let new = before.new_in(&learned.observed);
    let this = Profile::of_recording(&unit, learned.recording.clone(), &learned.observed);
    let after = before.merge(&this)?;
    write_profile(&path, &after)?;

    let pid = match (learned.main_pid_before, learned.main_pid_after) {
        (0, 0) => String::new(),
        (0, after) => format!(", main PID {after}"),
        (b, a) if b == a => format!(", main PID {b} unchanged"),
        (b, 0) => format!(", main PID {b} (gone)"),
        (b, a) => format!(", main PID {b}, now {a} (restarted)"),
    };
    let mut out = format!(
        "{unit}: recorded {} ({}){pid}: {}, {} new\n",
        human_ms(learned.recording.duration_ms),
        learned.recording.ended.describe(),
        plural(learned.observed.len(), "system call"),
        new.len()
    );
    if !new.is_empty() {
        let names: Vec<String> = new.iter().map(|(n, abi)| named(n, *abi)).collect();
        let _ = writeln!(out, "new: {}", names.join(", "));
    }
    let _ = writeln!(
        out,
        "profile {}: {} from {}",
        path.display(),
        plural(after.syscalls.len(), "system call"),
        plural(after.recordings.len(), "recording")
    );
    let _ = writeln!(
        out,
        "{}",
        after.convergence().line(args.converged_after as usize)
    );

    if args.suggest || args.write {
        let client = conn.connect()?;
        let host = Host::for_bus(args.target.systemd_version, &client);
        let table = host.syscalls();
        if let Some(reason) = table.source().built_in_reason() {
            note(&format!(
                "syscall groups from {}: {reason}",
                table.source().describe()
            ));
        }
        let suggestion = core::suggest(&after.names(Abi::Native), table);
        out.push('\n');
        out.push_str(&suggestion_text(&after, &suggestion)?);
        if args.write {
            let policy = match &args.policy {
                Some(p) => p.clone(),
                None => unit_policy_path(conn, &unit)?,
            };
            let original = read_policy(&policy)?;
            super::suggest::write_policy(&host, &policy, &original, &suggestion.allow)?;
        }
    }
    super::output::stdout(out.as_bytes())?;
    if learned.recording.ended == Ending::Interrupted {
        note("interrupted: what was recorded until then is in the profile");
    }
    Ok(())
}

/// A call's name, with `(compat)` for a 32-bit one.
fn named(name: &str, abi: Abi) -> String {
    match abi {
        Abi::Native => name.to_owned(),
        Abi::Compat => format!("{name} (compat)"),
    }
}

/// The allow-list of a profile for a terminal: comments with the facts and warnings, the
/// `[seccomp]` table, the unit directive as a comment.
fn suggestion_text(profile: &Profile, s: &core::Suggestion) -> Result<String> {
    let mut out = format!(
        "# The profile of {}: {} from {}.\n",
        profile.unit,
        plural(profile.names(Abi::Native).len(), "system call"),
        plural(profile.recordings.len(), "recording")
    );
    let compat = profile.names(Abi::Compat);
    if !compat.is_empty() {
        let _ = writeln!(
            out,
            "# WARNING: it made 32-bit calls ({}); with architectures = [\"native\"] it is killed.",
            compat.into_iter().collect::<Vec<_>>().join(", ")
        );
    }
    if !s.unlisted.is_empty() {
        let _ = writeln!(
            out,
            "# WARNING: systemd cannot allow {} (unknown to its syscall table): the filter will \
             refuse {}.",
            s.unlisted.join(", "),
            if s.unlisted.len() == 1 { "it" } else { "them" }
        );
    }
    if !s.outside_system_service.is_empty() {
        let _ = writeln!(
            out,
            "# Outside @system-service, allowed because the unit made them: {}.",
            s.outside_system_service.join(", ")
        );
    }
    out.push_str(&s.seccomp_toml());
    let _ = writeln!(
        out,
        "\n# The equivalent unit directive:\n# {}",
        s.system_call_filter()?
    );
    Ok(out)
}

/// The policy file an installed unit was rendered from, as its first line records it.
fn unit_policy_path(conn: &Manager, unit: &str) -> Result<PathBuf> {
    let (file, text) = installed_unit_file(conn, unit)?;
    let recorded = text
        .lines()
        .next()
        .and_then(|l| l.strip_prefix(GENERATED_MARKER))
        .and_then(|l| l.strip_prefix(" from "))
        .and_then(|l| l.rsplit_once("; edit the policy"))
        .map(|(path, _)| PathBuf::from(path));
    match recorded {
        Some(path) if path.is_absolute() && path.is_file() => Ok(path),
        Some(path) => bail!(
            "{unit} ({file}) was rendered from {}, which is not an absolute path to a file here: \
             give --policy FILE",
            path.display()
        ),
        None => bail!("{unit} ({file}) was not rendered by sandgen: give --policy FILE"),
    }
}

/// `sandgen profile`.
pub(crate) fn profile(command: ProfileCommand) -> Result<()> {
    match command {
        ProfileCommand::Show {
            profile,
            json,
            converged_after,
            dir,
        } => {
            let path = if profile.contains('/') || profile.ends_with(".json") {
                PathBuf::from(&profile)
            } else {
                dir.file(&unit_name(&profile)?)
            };
            if !path.exists() {
                bail!(
                    "no profile {} (`sandgen learn {profile}` records one)",
                    path.display()
                );
            }
            let p = read_profile(&path)?;
            if json {
                super::output::stdout(p.to_json().as_bytes())?;
            } else {
                super::output::stdout(show(&p, converged_after as usize).as_bytes())?;
            }
            Ok(())
        }
        ProfileCommand::Merge { files, output } => {
            let mut merged: Option<(Profile, &Path)> = None;
            for file in &files {
                let p = read_profile(file)?;
                merged = Some(match merged {
                    None => (p, file.as_path()),
                    Some((m, first)) => (
                        m.merge(&p).with_context(|| {
                            format!("{} and {}", first.display(), file.display())
                        })?,
                        first,
                    ),
                });
            }
            let Some((merged, _)) = merged else {
                bail!("no profile to merge");
            };
            match output {
                Some(out) => {
                    write_profile(&out, &merged)?;
                    note(&format!(
                        "merged {} into {}: {} from {}",
                        plural(files.len(), "profile"),
                        out.display(),
                        plural(merged.syscalls.len(), "system call"),
                        plural(merged.recordings.len(), "recording")
                    ));
                }
                None => super::output::stdout(merged.to_json().as_bytes())?,
            }
            Ok(())
        }
    }
}

/// A profile for a terminal.
fn show(p: &Profile, converged_after: usize) -> String {
    let mut out = String::new();
    let natives = p.syscalls.iter().filter(|s| s.abi == Abi::Native).count();
    let _ = writeln!(
        out,
        "{}: {} ({natives} native, {} compat) from {}",
        p.unit,
        plural(p.syscalls.len(), "system call"),
        p.syscalls.len() - natives,
        plural(p.recordings.len(), "recording")
    );
    let _ = writeln!(out, "{}", p.convergence().line(converged_after));
    let width = p
        .syscalls
        .iter()
        .map(|s| s.name.len())
        .max()
        .unwrap_or(0)
        .max("system call".len());
    let _ = writeln!(
        out,
        "\n{:width$}  abi     {:>12}  recordings  first seen            last seen",
        "system call", "count"
    );
    for s in &p.syscalls {
        let abi = match s.abi {
            Abi::Native => "native",
            Abi::Compat => "compat",
        };
        let _ = writeln!(
            out,
            "{:width$}  {abi:6}  {:>12}  {:>10}  {}  {}",
            s.name,
            s.count,
            s.recordings,
            utc(s.first_seen_unix_ms),
            utc(s.last_seen_unix_ms)
        );
    }
    let _ = writeln!(
        out,
        "\nrecordings:\nstarted               duration    ended         armed    new  system calls  host"
    );
    for (r, new) in p.recordings.iter().zip(p.new_per_recording()) {
        let ended = match r.ended {
            Ending::TimeUp => "time-up",
            Ending::Interrupted => "interrupted",
            Ending::UnitStopped => "unit-stopped",
        };
        let armed = match r.armed {
            crate::learn::profile::Armed::Running => "running",
            crate::learn::profile::Armed::Start => "start",
        };
        let _ = writeln!(
            out,
            "{}  {:10}  {ended:12}  {armed:7}  {new:>3}  {:>12}  {}",
            utc(r.started_unix_ms),
            human_ms(r.duration_ms),
            r.syscalls,
            r.host
        );
    }
    out
}
