//! Escaping of directive values, following systemd's own parsers.
//!
//! A unit file is line based (systemd.syntax(7)): a value ends at the newline, a trailing
//! backslash joins the next line, and `#`/`;` only start a comment at the beginning of a
//! line. Inside a value each directive has its own parser, and sandgen escapes for that
//! parser, never generically:
//!
//! * **Specifiers** (systemd.unit(5) "Specifiers"): in directives that expand them, `%`
//!   introduces a specifier and `%%` is a literal `%`. Directives that do not expand them
//!   (CPUQuota=50%) must keep a single `%`.
//! * **Quoted words** (systemd.syntax(7) "Quoting"): list-valued directives split on
//!   whitespace; a word in double quotes keeps its spaces, and inside the quotes `\\` and
//!   `\"` stand for a backslash and a quote. Both forms mean the same whether the directive
//!   also applies C escapes (`EXTRACT_CUNESCAPE`) or not, so they are the only escapes
//!   sandgen ever writes.
//! * **Command lines** (systemd.service(5) "Command lines"): words as above, plus `$` is
//!   environment substitution (`$$` is a literal `$`), and a lone unquoted `;` separates
//!   commands. sandgen quotes every argument, so `;`, a leading `-`/`@`/`+`/`!`, spaces and
//!   quotes all reach the process as written.
//!
//! Some characters cannot be written into a unit file at all: control characters (a
//! newline would start a new directive) and Unicode noncharacters (systemd checks every
//! line with `utf8_is_valid()`, whose `unichar_is_valid()` refuses U+FDD0..U+FDEF and
//! U+nFFFE/U+nFFFF, and ignores the whole line: "String is not UTF-8 clean"). Every function
//! refuses them, and [`line`](super::line) refuses a line longer than [`LINE_MAX`]. Policy
//! validation refuses all of these first, with a located diagnostic; this is the last line
//! of defence.

use std::borrow::Cow;

/// The longest `Key=value` line sandgen writes, in bytes. systemd refuses a unit file with a
/// line over `LONG_LINE_MAX` (1 MiB, "No buffer space available"); 64 KiB is far below
/// that, and below the kernel's 128 KiB limit for one execve() argument (MAX_ARG_STRLEN),
/// so a whole ExecStart= command line always fits in one argument's worth.
pub const LINE_MAX: usize = 64 * 1024;

/// A value that cannot be written into a unit file without changing its meaning.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EscapeError {
    /// A control character (newline, NUL, ...) in a value.
    #[error("control character {0:?} cannot appear in a unit file value")]
    ControlCharacter(char),
    /// A Unicode noncharacter, which makes systemd ignore the whole line.
    #[error("the noncharacter U+{:04X} would make systemd ignore the line (\"String is not UTF-8 clean\")", u32::from(*.0))]
    Noncharacter(char),
    /// Leading or trailing white space, which systemd strips from unquoted values.
    #[error("leading or trailing white space would be stripped by systemd")]
    OuterWhitespace,
    /// A trailing backslash, which systemd reads as a line continuation.
    #[error("a trailing backslash would join the next line of the unit file")]
    TrailingBackslash,
    /// An empty word in a list, which systemd would read as "reset the list".
    #[error("an empty word cannot be written")]
    EmptyWord,
    /// A character that this directive's parser cannot take, quoted or not.
    #[error("{0:?} cannot be written in this directive")]
    Unquotable(char),
    /// The escaped line would be longer than [`LINE_MAX`].
    #[error("the line would be {0} bytes long; sandgen writes lines of at most {LINE_MAX} bytes (systemd refuses a unit file with a line over 1 MiB)")]
    LineTooLong(usize),
}

impl EscapeError {
    /// What to do about it, for diagnostics.
    pub fn help(&self) -> &'static str {
        match self {
            EscapeError::ControlCharacter(_) | EscapeError::Noncharacter(_) => {
                "remove the character"
            }
            EscapeError::OuterWhitespace => "remove the leading or trailing space",
            EscapeError::TrailingBackslash => "remove the trailing backslash",
            EscapeError::EmptyWord => "remove the empty entry",
            EscapeError::Unquotable(_) => "remove the character; this directive cannot quote it",
            EscapeError::LineTooLong(_) => {
                "shorten the value (a list is written on one line: list fewer entries)"
            }
        }
    }
}

/// Whether systemd's `unichar_is_valid()` (src/basic/utf8.c) refuses `c`: the noncharacters
/// U+FDD0..U+FDEF and the last two code points of every plane (U+FFFE, U+FFFF, U+1FFFE,
/// ... U+10FFFF). Surrogates, which it also refuses, cannot occur in a Rust string.
pub(crate) fn is_noncharacter(c: char) -> bool {
    let c = u32::from(c);
    (0xFDD0..=0xFDEF).contains(&c) || c & 0xFFFE == 0xFFFE
}

/// Refuse characters that no escape can carry through a unit file: control characters and
/// noncharacters.
pub(crate) fn check_control(s: &str) -> Result<(), EscapeError> {
    for c in s.chars() {
        if c.is_control() {
            return Err(EscapeError::ControlCharacter(c));
        }
        if is_noncharacter(c) {
            return Err(EscapeError::Noncharacter(c));
        }
    }
    Ok(())
}

/// Double every `%` so that systemd's specifier expansion yields `s` unchanged.
pub(crate) fn specifiers(s: &str) -> Cow<'_, str> {
    if s.contains('%') {
        Cow::Owned(s.replace('%', "%%"))
    } else {
        Cow::Borrowed(s)
    }
}

/// A single free-text value (Description=, WorkingDirectory=): written unquoted, so it may
/// not start or end with white space nor end in a backslash.
pub(crate) fn text(s: &str, expands_specifiers: bool) -> Result<String, EscapeError> {
    check_control(s)?;
    if s.trim_matches(' ') != s {
        return Err(EscapeError::OuterWhitespace);
    }
    if s.ends_with('\\') {
        return Err(EscapeError::TrailingBackslash);
    }
    Ok(if expands_specifiers {
        specifiers(s).into_owned()
    } else {
        s.to_owned()
    })
}

/// Characters that make a word need quotes in a whitespace-separated list.
fn needs_quotes(s: &str) -> bool {
    s.is_empty()
        || s.chars()
            .any(|c| c.is_whitespace() || matches!(c, '"' | '\'' | '\\'))
}

/// Wrap `s` in double quotes, escaping `\` and `"` (and `$`/`%` when asked).
fn quote(s: &str, dollar: bool, percent: bool) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '$' if dollar => out.push_str("$$"),
            '%' if percent => out.push_str("%%"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// One word of a whitespace-separated list (paths, unit names): bare when that is
/// unambiguous, double-quoted otherwise.
pub(crate) fn word(s: &str, expands_specifiers: bool) -> Result<String, EscapeError> {
    check_control(s)?;
    if s.is_empty() {
        return Err(EscapeError::EmptyWord);
    }
    Ok(if needs_quotes(s) {
        quote(s, false, expands_specifiers)
    } else if expands_specifiers {
        specifiers(s).into_owned()
    } else {
        s.to_owned()
    })
}

/// A unit name in a dependency list (After=, WantedBy=): always bare. systemd does not
/// unquote these, and validated unit names contain nothing that needs quoting; a `\` there
/// is systemd's own unit name escaping (`\x2d`) and must stay as it is.
pub(crate) fn unit_name(s: &str) -> Result<String, EscapeError> {
    check_control(s)?;
    if s.is_empty() {
        return Err(EscapeError::EmptyWord);
    }
    if let Some(c) = s
        .chars()
        .find(|c| c.is_whitespace() || matches!(c, '"' | '\''))
    {
        return Err(EscapeError::Unquotable(c));
    }
    Ok(s.to_owned())
}

/// One `SOURCE[:DESTINATION[:OPTIONS]]` entry of BindPaths=: systemd splits it at `:` and
/// unquotes each field on its own (`config_parse_bind_paths`), so each field is quoted on
/// its own; a quote around the whole entry would make the `:` part of one path.
pub(crate) fn bind_entry(s: &str, expands_specifiers: bool) -> Result<String, EscapeError> {
    check_control(s)?;
    let mut fields = Vec::new();
    for (i, field) in s.splitn(3, ':').enumerate() {
        fields.push(if i == 2 {
            field.to_owned()
        } else {
            word(field, expands_specifiers)?
        });
    }
    Ok(fields.join(":"))
}

/// A whole command line for `ExecStart=`: every argument double-quoted, `$` and `%` doubled.
///
/// Quoting every argument (not only those that need it) keeps a lone `;`, a leading
/// `-`/`@`/`+`/`:`/`!` on argv\[0\], and an empty argument from being read as syntax.
pub(crate) fn command_line(argv: &[String]) -> Result<String, EscapeError> {
    let mut words = Vec::with_capacity(argv.len());
    for arg in argv {
        check_control(arg)?;
        words.push(quote(arg, true, true));
    }
    Ok(words.join(" "))
}

/// One `Environment=` assignment `NAME=value`, quoted as a single word with specifiers
/// doubled (systemd.exec(5): Environment= unquotes, applies C escapes and expands
/// specifiers, but gives `$` no meaning).
pub(crate) fn environment(name: &str, value: &str) -> Result<String, EscapeError> {
    check_control(name)?;
    check_control(value)?;
    Ok(quote(&format!("{name}={value}"), false, true))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(a: &[&str]) -> Vec<String> {
        a.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn command_line_quotes_and_doubles_per_systemd_service_5() {
        assert_eq!(
            command_line(&argv(&["/bin/echo", "$HOME", "${X}", "50%", ";", "a\\"])).unwrap(),
            r#""/bin/echo" "$$HOME" "$${X}" "50%%" ";" "a\\""#
        );
        assert_eq!(
            command_line(&argv(&["/bin/true", ""])).unwrap(),
            r#""/bin/true" """#
        );
    }

    #[test]
    fn words_are_bare_when_safe_and_quoted_otherwise() {
        assert_eq!(word("/var/lib/x", true).unwrap(), "/var/lib/x");
        assert_eq!(word("/srv/my dir", false).unwrap(), "\"/srv/my dir\"");
        assert_eq!(word("/a\"b", false).unwrap(), r#""/a\"b""#);
        assert_eq!(word("/a%b", true).unwrap(), "/a%%b");
        assert_eq!(word("/a%b", false).unwrap(), "/a%b");
        assert_eq!(word("", false), Err(EscapeError::EmptyWord));
    }

    #[test]
    fn text_refuses_what_systemd_would_change() {
        assert_eq!(
            text("CPU heater at 25%", true).unwrap(),
            "CPU heater at 25%%"
        );
        assert_eq!(text(" x", true), Err(EscapeError::OuterWhitespace));
        assert_eq!(text("x\\", true), Err(EscapeError::TrailingBackslash));
        assert_eq!(
            text("a\nExecStartPre=/bin/sh", true),
            Err(EscapeError::ControlCharacter('\n'))
        );
    }

    #[test]
    fn unit_names_stay_bare_and_bind_fields_are_quoted_one_by_one() {
        assert_eq!(
            unit_name("dev-disk-by\\x2dlabel-data.device").unwrap(),
            "dev-disk-by\\x2dlabel-data.device"
        );
        assert_eq!(unit_name("a b.service"), Err(EscapeError::Unquotable(' ')));
        assert_eq!(
            bind_entry("/srv/my dir:/data", false).unwrap(),
            "\"/srv/my dir\":/data"
        );
        assert_eq!(bind_entry("/a:/b:rbind", false).unwrap(), "/a:/b:rbind");
        assert_eq!(bind_entry("-/a%x", true).unwrap(), "-/a%%x");
    }

    #[test]
    fn noncharacters_of_every_plane_are_refused_like_systemd_utf8_c() {
        for c in [
            '\u{fdd0}',
            '\u{fdef}',
            '\u{fffe}',
            '\u{ffff}',
            '\u{1fffe}',
            '\u{10ffff}',
        ] {
            assert!(is_noncharacter(c), "{c:?}");
            assert_eq!(
                word(&format!("/a{c}"), true),
                Err(EscapeError::Noncharacter(c))
            );
        }
        for c in [
            '\u{fdcf}',
            '\u{fdf0}',
            '\u{fffd}',
            '\u{feff}',
            '\u{1fffd}',
            '\u{20000}',
            'é',
        ] {
            assert!(!is_noncharacter(c), "{c:?}");
        }
    }

    #[test]
    fn environment_is_one_quoted_word() {
        assert_eq!(
            environment("GREETING", "hello \"world\" 100% $HOME").unwrap(),
            r#""GREETING=hello \"world\" 100%% $HOME""#
        );
    }
}
