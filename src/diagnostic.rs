//! Located diagnostics for policy files: `file:line:col`, the offending line with a caret
//! under the span, and an optional suggestion, in the style of rustc and just.

use std::fmt;
use std::ops::Range;

/// A policy file's text and the name it is reported under (the path as the user gave it).
#[derive(Debug, Clone)]
pub struct Source {
    /// The name shown in diagnostics.
    pub name: String,
    /// The file's contents.
    pub text: String,
}

impl Source {
    /// A source named `name` with contents `text`.
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Self {
        Source {
            name: name.into(),
            text: text.into(),
        }
    }

    /// 1-based line and column (in characters) of byte offset `at`.
    pub fn line_col(&self, at: usize) -> (usize, usize) {
        let at = floor_char_boundary(&self.text, at.min(self.text.len()));
        let before = &self.text[..at];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let col = self.text[line_start..at].chars().count() + 1;
        (line, col)
    }
}

fn floor_char_boundary(s: &str, mut at: usize) -> usize {
    while !s.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// How serious a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// The policy is refused.
    Error,
    /// The policy is accepted, but sandgen wrote something other than it says (a mode the
    /// target systemd lacks, written as an older form that is as strict).
    Warning,
}

/// One error (or warning) in a policy file, located by a byte span.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// The file it is about.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub col: usize,
    /// What is wrong.
    pub message: String,
    /// What to do about it, where sandgen can tell.
    pub help: Option<String>,
    /// The source line the span starts on.
    source_line: String,
    /// How many characters of that line the caret covers (at least 1).
    width: usize,
}

impl Diagnostic {
    /// An error about `span` of `source`.
    pub fn new(source: &Source, span: Range<usize>, message: impl Into<String>) -> Self {
        let (line, col) = source.line_col(span.start);
        let source_line = source.text.lines().nth(line - 1).unwrap_or("").to_owned();
        let end = floor_char_boundary(&source.text, span.end.min(source.text.len()));
        let start = floor_char_boundary(&source.text, span.start.min(end));
        let on_line = source.text[start..end].split('\n').next().unwrap_or("");
        Diagnostic {
            severity: Severity::Error,
            file: source.name.clone(),
            line,
            col,
            message: message.into(),
            help: None,
            source_line,
            width: on_line.chars().count().max(1),
        }
    }

    /// The same diagnostic as a warning.
    pub fn as_warning(mut self) -> Self {
        self.severity = Severity::Warning;
        self
    }

    /// The same diagnostic with a suggestion.
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// The same diagnostic with a suggestion, if there is one.
    pub fn with_optional_help(mut self, help: Option<String>) -> Self {
        self.help = help;
        self
    }
}

/// Characters of a long source line shown before the caret and under it: a value of
/// thousands of characters is shown by its start, not printed whole (twice).
const SHOWN_BEFORE: usize = 60;
const SHOWN_UNDER: usize = 80;

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let gutter = " ".repeat(self.line.to_string().len());
        let label = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        writeln!(f, "{label}: {}", self.message)?;
        writeln!(f, "{gutter}--> {}:{}:{}", self.file, self.line, self.col)?;
        writeln!(f, "{gutter} |")?;
        let chars: Vec<char> = self.source_line.chars().collect();
        let start = (self.col - 1).saturating_sub(SHOWN_BEFORE);
        let width = self.width.min(SHOWN_UNDER);
        let end = (self.col - 1 + width)
            .max(SHOWN_BEFORE + SHOWN_UNDER)
            .min(chars.len());
        let (lead, shown) = if start > 0 { ("…", start) } else { ("", 0) };
        let tail = if end < chars.len() { "…" } else { "" };
        let text: String = chars[shown..end.max(shown)].iter().collect();
        writeln!(f, "{} | {lead}{text}{tail}", self.line)?;
        let pad: String = lead
            .chars()
            .map(|_| ' ')
            .chain(
                chars
                    .iter()
                    .skip(shown)
                    .take((self.col - 1).saturating_sub(shown))
                    .map(|c| if *c == '\t' { '\t' } else { ' ' }),
            )
            .collect();
        write!(f, "{gutter} | {pad}{}", "^".repeat(width))?;
        if let Some(help) = &self.help {
            write!(f, "\n{gutter} = help: {help}")?;
        }
        Ok(())
    }
}

/// Every error found in one policy file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            writeln!(f, "{d}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}

/// The candidate closest to `wrong` by edit distance, if it is close enough to be a typo.
pub fn closest<'a>(wrong: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (wrong.chars().count() / 3).max(2);
    candidates
        .into_iter()
        .map(|c| (strsim::levenshtein(wrong, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, c)| (*d, *c))
        .map(|(_, c)| c)
}

/// Display a user string inside an error message: control characters escaped.
pub fn shown(s: &str) -> String {
    s.escape_debug().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_file_line_col_and_caret() {
        let src = Source::new("p.toml", "[resources]\nmemory_maximum = \"1G\"\n");
        let d = Diagnostic::new(&src, 12..26, "unknown key `memory_maximum`")
            .with_help("did you mean `memory_max`?");
        assert_eq!(
            d.to_string(),
            "error: unknown key `memory_maximum`\n --> p.toml:2:1\n  |\n2 | memory_maximum = \"1G\"\n  | ^^^^^^^^^^^^^^\n  = help: did you mean `memory_max`?"
        );
    }

    #[test]
    fn a_long_line_is_shown_by_its_start_and_the_caret_stays_under_the_value() {
        let text = format!("x = 1\nkey = \"{}\"\n", "a".repeat(5000));
        let src = Source::new("p.toml", text.as_str());
        let d = Diagnostic::new(&src, 12..5014, "too long");
        let shown = d.to_string();
        assert!(shown.len() < 400, "{shown}");
        assert!(
            shown.contains(&format!("2 | key = \"{}…\n", "a".repeat(133))),
            "{shown}"
        );
        assert!(
            shown.ends_with(&format!("  |       {}", "^".repeat(80))),
            "{shown}"
        );
        let far = format!("{} = 1\n", "k".repeat(300));
        let src = Source::new("p.toml", far.as_str());
        let d = Diagnostic::new(&src, 303..304, "late");
        assert_eq!(
            d.to_string(),
            format!(
                "error: late\n --> p.toml:1:304\n  |\n1 | …{} = 1\n  | {}^",
                "k".repeat(57),
                " ".repeat(61)
            )
        );
    }

    #[test]
    fn columns_count_characters_not_bytes() {
        let src = Source::new("p.toml", "d = \"é\" x");
        assert_eq!(src.line_col(9), (1, 9));
    }

    #[test]
    fn closest_only_suggests_near_misses() {
        let keys = ["memory_max", "memory_high", "cpu_weight"];
        assert_eq!(closest("memory_maximum", keys), Some("memory_max"));
        assert_eq!(closest("cpu_wieght", keys), Some("cpu_weight"));
        assert_eq!(closest("frobnicate", keys), None);
    }
}
