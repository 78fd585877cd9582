//! Colour on a terminal, the way systemctl uses it: the reports say which words carry a
//! tone (a unit's state, a check's verdict, an exposure level) and [`Paint`] writes the
//! escape sequences, or nothing. Whether to colour is decided once, at the output edge
//! ([`colour_wanted`]), from the environment and whether stdout is a terminal; JSON is never
//! coloured.
//!
//! The sequences are systemd's own (`ANSI_HIGHLIGHT_GREEN`, `ANSI_HIGHLIGHT_RED`,
//! `ANSI_HIGHLIGHT_YELLOW` and `ANSI_NORMAL` of its `terminal-util.h`), so sandgen's
//! `active` is the same bold green as `systemctl status`'s.

/// What a word says, for its colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    /// As it should be (`active`, `PASS`, exposure `OK`): green.
    Good,
    /// Wrong (`failed`, `FAIL`, exposure `UNSAFE`): red.
    Bad,
    /// Worth a look (`NOT CHECKABLE`, `activating`, exposure `MEDIUM`): yellow.
    Notice,
}

impl Tone {
    /// The sequence that starts the tone.
    fn start(self) -> &'static str {
        match self {
            Tone::Good => "\x1b[0;1;32m",
            Tone::Bad => "\x1b[0;1;31m",
            Tone::Notice => "\x1b[0;1;33m",
        }
    }
}

/// The sequence that ends a tone (systemd's `ANSI_NORMAL`).
const NORMAL: &str = "\x1b[0m";

/// Writes words in their tone, or as they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Paint {
    colour: bool,
}

impl Paint {
    /// No colour: text as it is (pipes, files, JSON, tests).
    pub const PLAIN: Paint = Paint { colour: false };
    /// Colour.
    pub const COLOUR: Paint = Paint { colour: true };

    /// `text` in `tone` (unchanged when plain, or when there is no tone).
    pub fn tone(self, text: &str, tone: Option<Tone>) -> String {
        match tone {
            Some(t) if self.colour && !text.is_empty() => format!("{}{text}{NORMAL}", t.start()),
            _ => text.to_owned(),
        }
    }
}

/// Whether to colour, as systemd decides (`colors_enabled()`, systemd(1) "Environment"):
/// `SYSTEMD_COLORS` as a boolean wins (`0`/`no`/`false`/`off` never, `1`/`yes`/`true`/`on`
/// and the colour depths `16`, `256`, `24bit` always); else a non-empty `NO_COLOR`
/// (<https://no-color.org>) or `TERM=dumb` turns colour off; else colour when stdout is a
/// terminal. `var` reads the environment.
pub fn colour_wanted(var: impl Fn(&str) -> Option<String>, stdout_is_terminal: bool) -> bool {
    if let Some(v) = var("SYSTEMD_COLORS") {
        match v.trim().to_ascii_lowercase().as_str() {
            "0" | "no" | "n" | "false" | "f" | "off" => return false,
            "1" | "yes" | "y" | "true" | "t" | "on" | "16" | "256" | "24bit" => return true,
            // Anything else is ignored, as systemd ignores what it cannot parse.
            _ => {}
        }
    }
    if var("NO_COLOR").is_some_and(|v| !v.is_empty()) {
        return false;
    }
    if var("TERM").is_some_and(|t| t == "dumb") {
        return false;
    }
    stdout_is_terminal
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn a_terminal_gets_colour_unless_the_environment_says_no() {
        assert!(colour_wanted(env(&[]), true));
        assert!(!colour_wanted(env(&[]), false));
        assert!(!colour_wanted(env(&[("NO_COLOR", "1")]), true));
        // no-color.org: only a non-empty value counts.
        assert!(colour_wanted(env(&[("NO_COLOR", "")]), true));
        assert!(!colour_wanted(env(&[("TERM", "dumb")]), true));
        assert!(!colour_wanted(env(&[("SYSTEMD_COLORS", "0")]), true));
        assert!(colour_wanted(env(&[("SYSTEMD_COLORS", "1")]), false));
        assert!(colour_wanted(env(&[("SYSTEMD_COLORS", "256")]), false));
        assert!(colour_wanted(
            env(&[("SYSTEMD_COLORS", "yes"), ("NO_COLOR", "1")]),
            false
        ));
        assert!(!colour_wanted(
            env(&[("SYSTEMD_COLORS", "bogus"), ("NO_COLOR", "x")]),
            true
        ));
    }

    #[test]
    fn tones_are_systemds_sequences_and_plain_is_untouched() {
        assert_eq!(
            Paint::COLOUR.tone("active", Some(Tone::Good)),
            "\x1b[0;1;32mactive\x1b[0m"
        );
        assert_eq!(
            Paint::COLOUR.tone("FAIL", Some(Tone::Bad)),
            "\x1b[0;1;31mFAIL\x1b[0m"
        );
        assert_eq!(Paint::COLOUR.tone("x", None), "x");
        assert_eq!(Paint::PLAIN.tone("FAIL", Some(Tone::Bad)), "FAIL");
    }
}
