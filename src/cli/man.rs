//! `sandgen man`: the manual pages, generated rather than written. sandgen(1) and a page per
//! subcommand (sandgen-start(1), sandgen-profile-show(1), ...) come from the clap
//! definitions of this command line (clap_mangen), sandgen.toml(5) from the directive table
//! that also generates docs/policy.md. `docs/man/` holds them, and a test fails when they
//! drift (tests/examples.rs).

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::CommandFactory;

use super::{output, Cli};
use crate::directive;

/// Arguments of `sandgen man`.
#[derive(Debug, clap::Args)]
pub(crate) struct ManArgs {
    /// Write the pages into DIR (created if missing), one file per page.
    #[arg(long, value_name = "DIR")]
    out_dir: PathBuf,
}

/// One manual page: its file name (`sandgen-start.1`) and its roff source.
#[derive(Debug)]
pub(crate) struct Page {
    /// The file name, with the section as its extension.
    pub(crate) file: String,
    /// The page in roff (man(7) macros).
    pub(crate) text: String,
}

/// Every manual page of sandgen: sandgen(1), one per visible subcommand, sandgen.toml(5).
pub(crate) fn pages() -> Result<Vec<Page>> {
    let mut top = Cli::command().disable_help_subcommand(true);
    // Building fills in the subcommands' display names (`sandgen-start`) and their usage.
    top.build();
    let mut commands = Vec::new();
    collect(&top, &mut commands);
    let names: Vec<String> = commands.iter().map(page_name).collect();
    let mut pages = Vec::new();
    for (i, cmd) in commands.into_iter().enumerate() {
        let name = page_name(&cmd);
        let see_also: Vec<&str> = if i == 0 {
            // sandgen(1) points at every subcommand's page.
            names[1..].iter().map(String::as_str).collect()
        } else {
            vec!["sandgen"]
        };
        // clap_mangen would print the examples of `--help` as one block of text under
        // EXTRA, wrapped into a jumble: they get an EXAMPLES section of their own.
        let examples = cmd
            .get_after_help()
            .map(|h| examples_section(&h.to_string()));
        let mut text = Vec::new();
        clap_mangen::Man::new(cmd.after_help(None::<&str>))
            .render(&mut text)
            .with_context(|| format!("cannot render the manual page of {name}"))?;
        let text = String::from_utf8(text)
            .with_context(|| format!("the manual page of {name} is not UTF-8"))?;
        let mut page = String::from(
            ".\\\" Generated from the command line definitions (src/cli) by `sandgen man`; do not edit.\n",
        );
        for line in text.lines() {
            if line.starts_with(".TH ") {
                // clap_mangen leaves an empty date unquoted, which shifts the source into
                // the date's place: the title line is written here.
                page.push_str(&title_line(&name, "1"));
            } else {
                page.push_str(line);
                page.push('\n');
            }
        }
        if let Some(examples) = examples {
            page.push_str(&examples.to_roff());
        }
        page.push_str(&see_also_section(&see_also).to_roff());
        pages.push(Page {
            file: format!("{name}.1"),
            text: page,
        });
    }
    pages.push(Page {
        file: "sandgen.toml.5".to_owned(),
        text: directive::table::reference_roff(),
    });
    Ok(pages)
}

/// The `.TH` line of a page: its name in capitals, its section, no date (a date would make
/// the checked-in pages stale every day), and sandgen's version as the source.
fn title_line(name: &str, section: &str) -> String {
    format!(
        ".TH {} {section} \"\" \"sandgen {}\" \"\"\n",
        name.to_uppercase(),
        env!("CARGO_PKG_VERSION")
    )
}

/// EXAMPLES from the examples of `--help` (`Examples:`, then lines of a command, two or
/// more spaces, and what it does): each command in bold with its meaning below it.
fn examples_section(help: &str) -> roff::Roff {
    let mut section = roff::Roff::new();
    section.control("SH", ["EXAMPLES"]);
    for line in help.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if line.ends_with(':') {
            continue;
        }
        let (command, meaning) = match line.split_once("  ") {
            Some((command, meaning)) => (command, meaning.trim()),
            None => (line, ""),
        };
        section.control("TP", []).text([roff::bold(command)]);
        if !meaning.is_empty() {
            section.text([roff::roman(meaning)]);
        }
    }
    section
}

/// `cmd` and, depth first, every subcommand a user can see.
fn collect(cmd: &clap::Command, into: &mut Vec<clap::Command>) {
    into.push(cmd.clone());
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        collect(sub, into);
    }
}

/// The page's name: `sandgen`, `sandgen-start`, `sandgen-profile-show`.
fn page_name(cmd: &clap::Command) -> String {
    cmd.get_display_name()
        .unwrap_or_else(|| cmd.get_name())
        .to_owned()
}

/// SEE ALSO: the given sandgen pages (section 1), then the policy's page and systemd's.
fn see_also_section(pages: &[&str]) -> roff::Roff {
    let mut refs: Vec<(&str, &str)> = pages.iter().map(|p| (*p, "1")).collect();
    refs.extend([("sandgen.toml", "5"), ("systemd.exec", "5")]);
    let mut inlines = Vec::new();
    for (i, (page, section)) in refs.iter().enumerate() {
        inlines.push(roff::bold(*page));
        let sep = if i + 1 < refs.len() { ", " } else { "" };
        inlines.push(roff::roman(format!("({section}){sep}")));
    }
    let mut section = roff::Roff::new();
    section.control("SH", ["SEE ALSO"]).text(inlines);
    section
}

/// `sandgen man --out-dir DIR`: write every page into DIR.
pub(crate) fn man(args: &ManArgs) -> Result<()> {
    std::fs::create_dir_all(&args.out_dir)
        .with_context(|| format!("cannot create {}", args.out_dir.display()))?;
    let files: Vec<(PathBuf, String)> = pages()?
        .into_iter()
        .map(|page| (args.out_dir.join(page.file), page.text))
        .collect();
    output::write_all_atomically(&files)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(file: &str) -> String {
        let pages = pages().expect("pages render");
        let found = pages.iter().find(|p| p.file == file);
        found.map(|p| p.text.clone()).unwrap_or_default()
    }

    #[test]
    fn every_page_has_one_title_line_with_an_empty_date() {
        for p in pages().expect("pages render") {
            let titles: Vec<&str> = p.text.lines().filter(|l| l.starts_with(".TH ")).collect();
            let name = p.file.rsplit_once('.').map(|(n, _)| n).unwrap_or_default();
            assert_eq!(titles.len(), 1, "{}", p.file);
            assert!(
                titles[0].starts_with(&format!(".TH {} ", name.to_uppercase()))
                    && titles[0].ends_with(&format!(
                        " \"\" \"sandgen {}\" \"\"",
                        env!("CARGO_PKG_VERSION")
                    )),
                "{}: {}",
                p.file,
                titles[0]
            );
        }
    }

    #[test]
    fn help_examples_become_an_examples_section() {
        let top = page("sandgen.1");
        assert!(!top.contains(".SH EXTRA"), "{top}");
        assert!(
            top.contains(
                ".SH EXAMPLES\n.TP\n\\fBsandgen render policies/heat.toml\\fR\nprint the unit for a policy\n"
            ),
            "{top}"
        );
        assert!(top.contains("\\fBsandgen\\-start\\fR(1), "), "{top}");
        let start = page("sandgen-start.1");
        assert!(
            start.ends_with(
                ".SH \"SEE ALSO\"\n\\fBsandgen\\fR(1), \\fBsandgen.toml\\fR(5), \\fBsystemd.exec\\fR(5)\n"
            ),
            "{start}"
        );
    }
}
