//! `sandgen suggest` and `sandgen score`.

use anyhow::{bail, Result};

use super::service::Connection;

/// Arguments of `sandgen suggest`.
#[derive(Debug, clap::Args)]
pub struct SuggestArgs {
    /// The command to trace.
    #[arg(last = true)]
    pub command: Vec<String>,
}

/// Arguments of `sandgen score`.
#[derive(Debug, clap::Args)]
pub struct ScoreArgs {
    /// Policy files or installed unit names.
    pub targets: Vec<String>,
}

/// `sandgen suggest`.
pub fn suggest(_conn: &Connection, _args: SuggestArgs) -> Result<()> {
    bail!("suggest: not implemented yet")
}

/// `sandgen score`.
pub fn score(_conn: &Connection, _args: ScoreArgs) -> Result<()> {
    bail!("score: not implemented yet")
}
