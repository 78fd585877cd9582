//! `sandgen score`: rate policies or installed units with `systemd-analyze security`
//! ([`crate::score`]), one alone or two compared.

use std::collections::BTreeSet;
use std::path::Path;

use anyhow::{bail, Context as _, Result};

use super::service::{installed_unit_file, unit_name};
use super::{note, TargetArgs};
use crate::host::Host;
use crate::render::Templates;
use crate::score::{self, Comparison, SecurityScore};
use crate::systemd::Manager;
use crate::trace::audit::SyscallNumbers;

/// Arguments of `sandgen score`.
#[derive(Debug, clap::Args)]
pub(crate) struct ScoreArgs {
    /// A policy file (a path, or a name ending in .toml), or an installed unit NAME; with a
    /// second one, the difference from the first to the second.
    #[arg(required = true, num_args = 1..=2, value_name = "POLICY.toml|NAME")]
    targets: Vec<String>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
    /// How many of the largest contributing settings to list.
    #[arg(long, value_name = "N", default_value_t = 10)]
    top: usize,
    #[command(flatten)]
    target: TargetArgs,
}

/// `sandgen score`.
pub(crate) fn score(conn: &Manager, args: ScoreArgs) -> Result<()> {
    let host = Host::new(args.target.systemd_version);
    let scores = args
        .targets
        .iter()
        .map(|t| score_target(conn, &host, t))
        .collect::<Result<Vec<_>>>()?;
    for s in &scores {
        for w in &s.warnings {
            note(&format!("systemd-analyze about {}: {w}", s.unit));
        }
    }
    match scores.as_slice() {
        [one] => {
            if args.json {
                outln!("{}", serde_json::to_string_pretty(one)?)?;
            } else {
                super::output::stdout_fmt(format_args!(
                    "{}",
                    one.to_text_in(args.top, super::output::paint())
                ))?;
            }
        }
        [before, after] => {
            let compared = Comparison::new(before, after);
            if args.json {
                outln!("{}", serde_json::to_string_pretty(&compared)?)?;
            } else {
                super::output::stdout_fmt(format_args!("{}", compared.to_text()))?;
            }
        }
        _ => bail!("score takes one or two policies or units"),
    }
    Ok(())
}

/// The names of the native ABI's system calls (the machine's kernel headers, else sandgen's
/// built-in numbers).
fn native() -> Option<BTreeSet<String>> {
    SyscallNumbers::native(Path::new("/")).map(|t| t.names().map(str::to_owned).collect())
}

/// Rate a policy (rendered for the target systemd) or an installed unit's file.
fn score_target(conn: &Manager, host: &Host, target: &str) -> Result<SecurityScore> {
    let path = Path::new(target);
    if target.ends_with(".toml") || path.is_file() {
        let rendered = super::render_file(host, path, &Templates::built_in()?)?;
        let unit = rendered.policy.unit_name();
        let mut score = score::score_unit_text(&unit, &rendered.text)
            .with_context(|| format!("cannot score {target}"))?;
        score.filter = Some(score::filter_width(
            &rendered.text,
            host.syscalls(),
            native().as_ref(),
        ));
        return Ok(score);
    }
    let unit = unit_name(target)?;
    let (_, text) = installed_unit_file(conn, &unit)?;
    let mut score =
        score::score_unit_text(&unit, &text).with_context(|| format!("cannot score {unit}"))?;
    score.filter = Some(score::filter_width(
        &text,
        host.syscalls(),
        native().as_ref(),
    ));
    Ok(score)
}
