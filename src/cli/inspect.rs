//! `sandgen inspect`: a running unit seen from the kernel's side.
//!
//! It pins the unit's main process ([`crate::inspect::pin`]), reads the kernel's state of it
//! ([`crate::inspect`]), confirms that what was read was the unit's main process all along,
//! and prints the report ([`crate::inspect::report`]) or the JSON.

use std::path::PathBuf;

use anyhow::{bail, Result};
use serde::Serialize;

use super::service::unit_name;
use crate::inspect::namespace::DirEntry;
use crate::inspect::pin::pin;
use crate::inspect::report::{report, Sections};
use crate::inspect::Inspection;
use crate::seccomp::report::{read_report, FilterReport};
use crate::systemd::Manager;

/// Arguments of `sandgen inspect`.
#[derive(Debug, clap::Args)]
pub(crate) struct InspectArgs {
    /// The unit (NAME or NAME.service).
    name: String,
    /// The mount table of the unit's namespace as a tree, marking what differs from the service manager's.
    #[arg(long)]
    mounts: bool,
    /// List PATH as the unit sees it, from inside its mount namespace (repeatable).
    #[arg(long = "ls", value_name = "PATH")]
    ls: Vec<PathBuf>,
    /// Capability sets by name, NoNewPrivs, securebits.
    #[arg(long)]
    caps: bool,
    /// Seccomp mode, and what the filters do per architecture: the default action, the
    /// system calls allowed and refused, the address families and namespace types allowed.
    #[arg(long)]
    seccomp: bool,
    /// With --seccomp: do not read the filters (which stops the process for a moment with
    /// ptrace); show only the mode and the number of filters.
    #[arg(long)]
    no_ptrace: bool,
    /// The unit's cgroup: limits and usage, OOM kills.
    #[arg(long)]
    cgroup: bool,
    /// The processes of the unit's cgroup and the PID namespace they see.
    #[arg(long)]
    pids: bool,
    /// Everything as one JSON object (stable keys).
    #[arg(long)]
    json: bool,
}

/// Refuse to run `sandgen COMMAND` without root, saying why it needs it.
pub(crate) fn require_root(command: &str) -> Result<()> {
    if nix::unistd::geteuid().is_root() {
        return Ok(());
    }
    bail!(
        "sandgen {command} needs root: it reads the /proc files of the unit's processes and \
         enters their mount namespace (run it with sudo)"
    )
}

/// `sandgen inspect`.
pub(crate) fn inspect(conn: &Manager, args: InspectArgs) -> Result<()> {
    require_root("inspect")?;
    let unit = unit_name(&args.name)?;
    let client = conn.connect()?;
    let pinned = pin(&client, conn.namespace_holder(), &unit)?;
    let mut listings = Vec::new();
    if !args.ls.is_empty() {
        let namespace = pinned.mount_namespace()?;
        for path in &args.ls {
            listings.push((path.clone(), namespace.list(path)?));
        }
    }
    let inspection = pinned.inspect()?;
    let filters = (args.seccomp && !args.no_ptrace)
        .then(|| read_report(&pinned.roots.proc, &pinned.handle).map_err(|e| e.to_string()));
    pinned.confirm(&client, &inspection.cgroup.path)?;

    if args.json {
        let view = InspectView {
            inspection: &inspection,
            ls: listings
                .iter()
                .map(|(path, l)| LsView {
                    path: path.display().to_string(),
                    entry: &l.path,
                    entries: &l.entries,
                })
                .collect(),
            seccomp_filters: filters.as_ref().map(|f| match f {
                Ok(report) => FiltersView::Read(report),
                Err(error) => FiltersView::NotRead { error },
            }),
        };
        outln!("{}", serde_json::to_string_pretty(&view)?)?;
        return Ok(());
    }
    let sections = Sections {
        mounts: args.mounts,
        caps: args.caps,
        seccomp: args.seccomp,
        cgroup: args.cgroup,
        pids: args.pids,
    };
    let own_pid_namespace = std::fs::read_link("/proc/self/ns/pid")
        .map(|l| l.to_string_lossy().into_owned())
        .unwrap_or_default();
    let filters_text = filters.as_ref().map(|f| match f {
        Ok(report) => crate::seccomp::report::render(report),
        Err(error) => format!("  filters not read: {error}\n"),
    });
    let text = report(
        &inspection,
        &pinned.status,
        &sections,
        &listings,
        &own_pid_namespace,
        filters_text.as_deref(),
        super::output::paint(),
    );
    super::output::stdout(text.as_bytes())?;
    Ok(())
}

/// `sandgen inspect --json`: the [`Inspection`], and the listings of `--ls`.
#[derive(Serialize)]
struct InspectView<'a> {
    #[serde(flatten)]
    inspection: &'a Inspection,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    ls: Vec<LsView<'a>>,
    /// `--seccomp`: the filters, evaluated, or why they were not read.
    #[serde(skip_serializing_if = "Option::is_none")]
    seccomp_filters: Option<FiltersView<'a>>,
}

#[derive(Serialize)]
#[serde(untagged)]
enum FiltersView<'a> {
    Read(&'a FilterReport),
    NotRead { error: &'a str },
}

#[derive(Serialize)]
struct LsView<'a> {
    path: String,
    entry: &'a DirEntry,
    entries: &'a [DirEntry],
}
