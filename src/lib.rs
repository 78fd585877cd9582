//! sandgen: a TOML sandbox policy in, a systemd service out, and proof that the sandbox
//! is in force.
//!
//! The pipeline is one-way: [`policy`] (TOML -> validated model, lowered to typed
//! directives for one systemd version, in the vocabulary of [`directive`]) -> `render` /
//! [`mod@unit`] (directives -> unit file text); [`load_policy`] runs the first two stages for every command. Side effects live
//! at the edges: [`systemd`] and `host` ask the host for facts, [`inspect`] and [`trace`]
//! read the kernel's, [`cli`] reads and writes files and prints; the decisions on those facts
//! (`verify`, [`suggest::closed_loop`], [`systemd::status`]) and the reports are pure.

pub mod cli;
pub mod data;
pub mod diagnostic;
pub mod directive;
pub(crate) mod host;
pub mod inspect;
pub mod learn;
pub mod paint;
pub mod policy;
pub(crate) mod render;
pub mod score;
pub mod seccomp;
pub mod suggest;
pub mod systemd;
pub(crate) mod text;
pub mod trace;
pub mod unit;
pub(crate) mod verify;

use diagnostic::{Diagnostics, Source};
use directive::Directive;
use policy::Policy;
use render::{RenderError, Templates};

/// Why a policy could not be turned into a unit.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The policy is invalid, or the target systemd cannot express it.
    #[error("{0}")]
    Policy(#[from] Diagnostics),
    /// The unit could not be rendered.
    #[error(transparent)]
    Render(#[from] RenderError),
}

/// A validated policy and its directives for one systemd version.
pub struct Loaded {
    /// The policy as validated.
    pub policy: Policy,
    /// Its directives, in the order of the directive table.
    pub directives: Vec<Directive>,
    /// Where the directives say something other than the policy for this systemd (a mode
    /// written as an older one that is as strict): to show the user, never an error.
    pub warnings: Vec<diagnostic::Diagnostic>,
}

impl Loaded {
    /// The unit file text, through `templates`.
    ///
    /// # Errors
    ///
    /// When a value cannot be written or the template fails.
    pub fn render(&self, templates: &Templates) -> Result<String, RenderError> {
        templates.render_unit(
            &self.policy.source,
            &self.policy.unit_name(),
            &self.directives,
        )
    }
}

/// Validate policy `text` against the host facts in `cx` and lower it for systemd `target`:
/// the pipeline every policy goes through, whether it comes from a file, a unit file's
/// record or a rewrite. `name` is the path shown in diagnostics and in the unit's header.
///
/// # Errors
///
/// Every problem of the policy, located; or a directive `target` does not have.
pub fn load_policy(
    name: &str,
    text: String,
    cx: &policy::Context<'_>,
    target: u32,
) -> Result<Loaded, Diagnostics> {
    let policy = policy::parse(Source::new(name, text), cx)?;
    let lowered = policy::lower(&policy, target)?;
    Ok(Loaded {
        policy,
        directives: lowered.directives,
        warnings: lowered.warnings,
    })
}

/// [`load_policy`] with facts that need no host: the built-in system call table of systemd
/// 252, and no program lookup.
///
/// # Errors
///
/// As [`load_policy`].
pub fn load_policy_text(name: &str, text: &str, target: u32) -> Result<Loaded, Diagnostics> {
    // Parsed once: it is a constant, and parsing it is most of the time a small policy takes.
    static SYSCALLS: std::sync::OnceLock<data::syscalls::SyscallTable> = std::sync::OnceLock::new();
    let syscalls = SYSCALLS.get_or_init(data::syscalls::SyscallTable::built_in);
    let cx = policy::Context {
        syscalls: &|| syscalls,
        find_program: &|_| None,
    };
    load_policy(name, text.to_owned(), &cx, target)
}

/// Validate policy text and lower it to the directives of systemd `target`, with the
/// built-in system call table: what `sandgen check` does ([`load_policy_text`]).
///
/// # Errors
///
/// When the policy is invalid.
pub fn check_policy_text(
    name: &str,
    text: &str,
    target: u32,
) -> Result<(Policy, Vec<Directive>), Error> {
    let loaded = load_policy_text(name, text, target)?;
    Ok((loaded.policy, loaded.directives))
}

/// Validate policy text and render its unit file for systemd `target`, with the built-in
/// template and system call table ([`load_policy_text`]). This is the whole pure pipeline in
/// one call.
///
/// # Errors
///
/// When the policy is invalid or the unit cannot be rendered.
pub fn render_policy_text(name: &str, text: &str, target: u32) -> Result<String, Error> {
    Ok(load_policy_text(name, text, target)?.render(&Templates::built_in()?)?)
}
