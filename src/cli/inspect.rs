//! `sandgen inspect` and `sandgen verify`: a running unit seen from the kernel's side.

use anyhow::{bail, Result};

use super::service::Connection;

/// Arguments of `sandgen inspect`.
#[derive(Debug, clap::Args)]
pub struct InspectArgs {
    /// The unit (NAME or NAME.service).
    pub name: String,
}

/// Arguments of `sandgen verify`.
#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// The unit (NAME or NAME.service).
    pub name: String,
}

/// `sandgen inspect`.
pub fn inspect(_conn: &Connection, args: InspectArgs) -> Result<()> {
    bail!("inspect {}: not implemented yet", args.name)
}

/// `sandgen verify`.
pub fn verify(_conn: &Connection, args: VerifyArgs) -> Result<()> {
    bail!("verify {}: not implemented yet", args.name)
}
