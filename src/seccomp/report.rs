//! What a unit's seccomp filters do, for `inspect --seccomp` and `verify`: read and
//! evaluated per ABI ([`FilterReport`]), or why they were not.

use std::fmt::Write as _;
use std::path::Path;

use serde::Serialize;

use super::read::{read_pinned, ReadFiltersError};
use super::table::{abis, evaluate, ArchFilter};
use crate::inspect::ProcessHandle;

/// The filters of a process, evaluated for every ABI of the machine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FilterReport {
    /// How many filters are attached.
    pub filters: usize,
    /// Their instructions, in all.
    pub instructions: usize,
    /// Per ABI, the native one first.
    pub arches: Vec<ArchFilter>,
}

impl FilterReport {
    /// The ABI sandgen runs as (`x86-64`, `arm64`).
    pub fn native(&self) -> Option<&ArchFilter> {
        self.arches.first()
    }
}

/// Read the filters of `main` and evaluate them, with the syscall numbers of the headers
/// under `/` or sandgen's own.
///
/// # Errors
///
/// When they cannot be read ([`ReadFiltersError`]).
pub fn read_report(
    proc_root: &Path,
    main: &ProcessHandle,
) -> Result<FilterReport, ReadFiltersError> {
    let filters = read_pinned(proc_root, main)?;
    let arches = abis(Path::new("/"))
        .into_iter()
        .map(|(name, arch, numbers)| evaluate(&filters, name, arch, &numbers))
        .collect();
    Ok(FilterReport {
        filters: filters.0.len(),
        instructions: filters.0.iter().map(super::bpf::Program::len).sum(),
        arches,
    })
}

/// Names as one line, wrapped to `width` columns with `indent`.
fn wrapped(out: &mut String, names: &[String], indent: &str, width: usize) {
    let mut line = String::new();
    for n in names {
        if !line.is_empty() && line.len() + n.len() + 1 > width {
            let _ = writeln!(out, "{indent}{line}");
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(n);
    }
    if !line.is_empty() {
        let _ = writeln!(out, "{indent}{line}");
    }
}

/// `inspect --seccomp`'s text of `report`: per ABI, the default action, the calls that run
/// (`*`: only with some arguments), the ones refused grouped by action, the address
/// families and namespace types allowed.
pub fn render(report: &FilterReport) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "  {} filter{}, {} instructions, read with PTRACE_SECCOMP_GET_FILTER",
        report.filters,
        if report.filters == 1 { "" } else { "s" },
        report.instructions
    );
    for a in &report.arches {
        let _ = writeln!(out, "  {} (default: {}):", a.arch, a.default.describe());
        let runs: Vec<String> = a
            .calls
            .iter()
            .filter(|(_, v)| v.action.runs() || v.conditional)
            .map(|(n, v)| {
                if v.conditional {
                    format!("{n}*")
                } else {
                    n.clone()
                }
            })
            .chain(
                a.unnamed
                    .iter()
                    .filter(|(_, v)| v.action.runs())
                    .map(|(nr, _)| format!("#{nr}")),
            )
            .collect();
        if runs.is_empty() {
            let _ = writeln!(out, "    allowed: none");
        } else {
            let _ = writeln!(
                out,
                "    allowed ({}, * only with some arguments):",
                runs.len()
            );
            wrapped(&mut out, &runs, "      ", 96);
        }
        let mut refused: std::collections::BTreeMap<String, Vec<String>> = Default::default();
        for (name, v) in &a.calls {
            if !v.action.runs() && !v.conditional && v.action != a.default {
                refused
                    .entry(v.action.describe())
                    .or_default()
                    .push(name.clone());
            }
        }
        for (action, names) in &refused {
            let _ = writeln!(out, "    {action} ({}):", names.len());
            wrapped(&mut out, names, "      ", 96);
        }
        if let Some(f) = &a.families {
            let _ = writeln!(out, "    address families: {}", list_or_none(f));
        }
        if let Some(n) = &a.namespaces {
            let _ = writeln!(out, "    namespaces: {}", list_or_none(n));
        }
    }
    out
}

fn list_or_none(items: &[&str]) -> String {
    if items.is_empty() {
        "none".to_owned()
    } else {
        items.join(" ")
    }
}
