//! `sandgen run`: a policy as a transient unit, started over D-Bus with the unit's
//! directives as properties ([`crate::systemd::properties`]): no file written, no reload.

use std::path::PathBuf;

use anyhow::Result;

use super::service::{report_start, unit_name, with_journal, StartWait};
use super::{note, TargetArgs};
use crate::host::Host;
use crate::systemd::bus::{BusError, Systemd};
use crate::systemd::properties::transient_properties;
use crate::systemd::Manager;

/// Arguments of `sandgen run`.
#[derive(Debug, clap::Args)]
pub(crate) struct RunArgs {
    /// The policy file.
    #[arg(value_name = "POLICY.toml")]
    policy: PathBuf,
    /// Unit name [default: the policy's name].
    #[arg(long, value_name = "NAME")]
    unit: Option<String>,
    #[command(flatten)]
    target: TargetArgs,
    #[command(flatten)]
    wait: StartWait,
}

/// `sandgen run`: the policy as a transient unit, no file written.
pub(crate) fn run(conn: &Manager, args: RunArgs) -> Result<()> {
    let client = conn.connect()?;
    let loaded = super::load(
        &Host::for_manager(args.target.systemd_version, &client, conn),
        &args.policy,
    )?;
    let unit = match args.unit {
        Some(u) => unit_name(&u)?,
        None => loaded.policy.unit_name(),
    };
    let (properties, skipped) = transient_properties(&loaded.directives);
    for s in &skipped {
        note(&format!("not applied to the transient unit: {s}"));
    }
    client.reset_failed(&unit)?;
    let outcome = client
        .start_transient(&unit, &properties, !args.wait.no_block)
        .map_err(|e| match e {
            BusError::Call { action, message } if message.contains("nknown") || message.contains("Cannot set property") => {
                anyhow::anyhow!("{action}: {message}\nthis systemd has no transient property for one of the policy's directives; install the unit instead (sandgen start)")
            }
            other => with_journal(conn, &unit, other.into()),
        })?;
    report_start(conn, &client, &unit, outcome, &args.wait)
}
