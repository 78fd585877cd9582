//! sandgen: a TOML sandbox policy in, a systemd service out, and proof that the sandbox
//! is in force.
//!
//! The pipeline is one-way: [`policy`] (TOML -> validated model, lowered to typed
//! directives for one systemd version, in the vocabulary of [`directive`]) -> [`render`] /
//! [`mod@unit`] (directives -> unit file text). Side effects live at the edges: [`systemd`] asks the host for facts, [`cli`]
//! reads and writes files.

pub mod cli;
pub mod data;
pub mod diagnostic;
pub mod directive;
pub mod inspect;
pub mod policy;
pub mod render;
pub mod score;
pub mod suggest;
pub mod systemd;
pub mod trace;
pub mod unit;
pub mod verify;

use diagnostic::{Diagnostics, Source};

/// Why a policy could not be turned into a unit.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The policy is invalid, or the target systemd cannot express it.
    #[error("{0}")]
    Policy(#[from] Diagnostics),
    /// The unit could not be rendered.
    #[error(transparent)]
    Render(#[from] render::RenderError),
}

/// Validate policy text and lower it to the directives of systemd `target`, with the
/// built-in system call table: what `sandgen check` does. `name` is the path shown in
/// diagnostics.
pub fn check_policy_text(
    name: &str,
    text: &str,
    target: u32,
) -> Result<(policy::Policy, Vec<directive::Directive>), Error> {
    // Parsed once: it is a constant, and parsing it is most of the time a small policy takes.
    static SYSCALLS: std::sync::OnceLock<data::syscalls::SyscallTable> = std::sync::OnceLock::new();
    let syscalls = SYSCALLS.get_or_init(data::syscalls::SyscallTable::built_in);
    let cx = policy::Context {
        syscalls: &|| syscalls,
        find_program: &|_| None,
    };
    let policy = policy::parse(Source::new(name, text), &cx)?;
    let directives = policy::lower(&policy, target)?;
    Ok((policy, directives))
}

/// Validate policy text and render its unit file for systemd `target`, with the built-in
/// template and system call table. `name` is the path shown in diagnostics and in the
/// unit's header. This is the whole pure pipeline in one call.
pub fn render_policy_text(name: &str, text: &str, target: u32) -> Result<String, Error> {
    let (policy, directives) = check_policy_text(name, text, target)?;
    Ok(render::Templates::built_in()?.render_unit(
        &policy.source,
        &policy.unit_name(),
        &directives,
    )?)
}
