//! `sandgen new NAME --from EXAMPLE`: start a policy from one of the examples built into
//! sandgen ([`crate::policy::examples`]) or from another policy file, with its service name
//! changed and its comments kept.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, Result};
use clap::CommandFactory;

use super::output;
use crate::diagnostic::{closest, shown};
use crate::policy::check_service_name;
use crate::policy::examples::{with_service_name, Example, EXAMPLES};

/// Arguments of `sandgen new`.
#[derive(Debug, clap::Args)]
pub(crate) struct NewArgs {
    /// The new service's name (the unit is NAME.service; the file NAME.toml).
    #[arg(required_unless_present = "list", value_name = "NAME")]
    name: Option<String>,
    /// The example to copy (see --list), or a policy file (PATH.toml).
    #[arg(long, required_unless_present = "list", value_name = "EXAMPLE|PATH")]
    from: Option<String>,
    /// Write to PATH instead of ./NAME.toml (never over an existing file).
    #[arg(short, long, value_name = "PATH")]
    output: Option<PathBuf>,
    /// List the built-in examples with what each is.
    #[arg(long, conflicts_with_all = ["name", "from", "output"])]
    list: bool,
}

/// `sandgen new`.
pub(crate) fn new(args: NewArgs) -> Result<()> {
    if args.list {
        let width = EXAMPLES.iter().map(|e| e.name.len()).max().unwrap_or(0);
        for e in EXAMPLES {
            outln!("{:width$}  {}", e.name, e.description())?;
        }
        return Ok(());
    }
    // clap requires both unless --list.
    let (Some(name), Some(from)) = (args.name, args.from) else {
        return Err(anyhow!("sandgen new needs NAME and --from EXAMPLE"));
    };
    if let Some(stem) = name.strip_suffix(".service") {
        return Err(anyhow!(
            "NAME is the service's name without \".service\": give `{}`",
            shown(stem)
        ));
    }
    check_service_name(&name).map_err(|(message, help)| {
        let message = message.replace("`service.name`", "NAME");
        match help {
            Some(h) => anyhow!("{message} ({h})"),
            None => anyhow!("{message}"),
        }
    })?;
    let (source_name, text) = source(&from)?;
    let renamed = with_service_name(&text, &source_name, &name)?;
    let path = args
        .output
        .unwrap_or_else(|| PathBuf::from(format!("{name}.toml")));
    output::write_new(&path, renamed.as_bytes()).map_err(|e| {
        if e.downcast_ref::<output::Exists>().is_some() {
            anyhow!(
                "{} already exists; sandgen new never overwrites a policy (remove it, or write elsewhere with -o PATH)",
                path.display()
            )
        } else {
            e
        }
    })?;
    outln!(
        "{}: policy for {name}.service from {source_name}; edit it, then `sandgen check {}`",
        path.display(),
        path.display()
    )?;
    Ok(())
}

/// The text to copy: a policy file when `from` looks like a path, else a built-in example.
/// An unknown example is a usage error (exit 2) listing the examples.
fn source(from: &str) -> Result<(String, String)> {
    if from.ends_with(".toml") || from.contains('/') {
        let text = output::read_policy(Path::new(from))?;
        return Ok((from.to_owned(), text));
    }
    if let Some(e) = Example::named(from) {
        return Ok((format!("example {}", e.name), e.text.to_owned()));
    }
    let names: Vec<&str> = EXAMPLES.iter().map(|e| e.name).collect();
    let hint = closest(from, names.iter().copied())
        .map(|c| format!("did you mean `{c}`? "))
        .unwrap_or_default();
    let mut cli = super::Cli::command();
    // Built, so that the subcommand's usage line says `sandgen new`.
    cli.build();
    let mut new = cli
        .find_subcommand_mut("new")
        .cloned()
        .unwrap_or_else(super::Cli::command);
    new.error(
            clap::error::ErrorKind::InvalidValue,
            format!(
                "unknown example `{}` for --from; {hint}the examples are: {} (`sandgen new --list` says what each is; a policy file is given as PATH.toml)",
                shown(from),
                names.join(", ")
            ),
        )
        .exit()
}
