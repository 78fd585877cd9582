//! A unit file reader that models what systemd does with a file, written from systemd's
//! documentation and sources and not from sandgen's escaping code, so that tests can check
//! that a rendered unit means what its policy says.
//!
//! Two layers, as in systemd:
//!
//! * **Lines** (systemd.syntax(7); `config_parse()` and `parse_line()` in
//!   src/shared/conf-parser.c, `read_line()` in src/basic/fileio.c): a line ends at `\n`,
//!   `\r`, `\0` or a combination of them; lines whose first non-blank character is `#` or
//!   `;` are comments, also in the middle of a continuation; a line ending in an odd number
//!   of backslashes is joined to the next one with that backslash replaced by a space;
//!   `[Name]` starts a section; `Key=value` has white space (`" \t\n\r"`) stripped around
//!   the key and the value. [`parse`] returns the logical lines as [`Entry`]s.
//! * **Values**: each directive has its own parser in src/core/load-fragment.c, built from
//!   `extract_first_word()` (src/basic/extract-word.c) with directive specific flags,
//!   specifier expansion (`specifier_printf()` in src/shared/specifier.c, systemd.unit(5)
//!   "Specifiers") and, for command lines, environment substitution at execution time
//!   (`replace_env_argv()` in src/basic/env-util.c, systemd.service(5) "Command lines").
//!   The decoders below follow those parsers one by one and are named after them.
//!
//! Where systemd would only log a warning and carry on (an unknown escape sequence, an
//! unknown specifier, a line without `=`, an invalid path that is then ignored), this
//! reader returns an error instead: a unit sandgen writes must never make systemd warn, and
//! an error here means the unit would not do what the policy says. Two rules are stricter
//! than systemd on purpose: every `%` not written as `%%` is reported as a specifier use
//! (systemd keeps `%` before a non-alphanumeric character), and every `$` not written as
//! `$$` in a command line is reported as a substitution (systemd only substitutes `$NAME`
//! as a whole word and `${NAME}` anywhere). A value that uses neither is read the same by
//! every systemd version.
#![allow(dead_code)]

/// systemd's `WHITESPACE` (src/basic/string-util.h).
const WHITESPACE: &[u8] = b" \t\n\r";
/// systemd's `COMMENTS` (src/basic/string-util.h).
const COMMENTS: &[u8] = b"#;";
/// `NAME_MAX` and `PATH_MAX`, the limits `path_is_valid()` enforces.
const NAME_MAX: usize = 255;
const PATH_MAX: usize = 4096;

/// One `Key=value` assignment, after line joining and white space stripping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The section it is in.
    pub section: String,
    /// The key, stripped.
    pub key: String,
    /// The raw value, stripped, not yet decoded.
    pub value: String,
    /// The number of the physical line the logical line ended on.
    pub line: usize,
}

/// A unit file as systemd's line parser sees it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Unit {
    /// Section headers, in file order.
    pub sections: Vec<String>,
    /// Assignments, in file order.
    pub entries: Vec<Entry>,
}

impl Unit {
    /// `(section, key)` of every assignment, in file order.
    pub fn keys(&self) -> Vec<(String, String)> {
        self.entries
            .iter()
            .map(|e| (e.section.clone(), e.key.clone()))
            .collect()
    }

    /// The raw values of every `key=` in `section`, in file order.
    pub fn values(&self, section: &str, key: &str) -> Vec<&str> {
        self.entries
            .iter()
            .filter(|e| e.section == section && e.key == key)
            .map(|e| e.value.as_str())
            .collect()
    }
}

/// Physical lines as `read_line()` splits them: the end of line markers are `\n`, `\r`,
/// `\0`, and the combinations `\r\n`, `\n\r`, each optionally followed by `\0`.
fn physical_lines(text: &str) -> Vec<&str> {
    let b = text.as_bytes();
    let mut lines = Vec::new();
    let (mut start, mut i) = (0, 0);
    while i < b.len() {
        let first = b[i];
        if !matches!(first, b'\n' | b'\r' | 0) {
            i += 1;
            continue;
        }
        lines.push(&text[start..i]);
        i += 1;
        if first != 0 {
            if i < b.len() && matches!(b[i], b'\n' | b'\r') && b[i] != first {
                i += 1;
            }
            if i < b.len() && b[i] == 0 {
                i += 1;
            }
        }
        start = i;
    }
    if start < b.len() {
        lines.push(&text[start..]);
    }
    lines
}

/// systemd's `strstrip()`: `WHITESPACE` removed from both ends.
fn strip(s: &str) -> &str {
    s.trim_matches(|c: char| c.is_ascii() && WHITESPACE.contains(&(c as u8)))
}

/// systemd's `string_is_safe()` (src/basic/string-util.c): no control characters, quotes,
/// backslashes or DEL.
pub fn string_is_safe(s: &str) -> bool {
    !s.bytes()
        .any(|b| (1..b' ').contains(&b) || b"\"'\\\x7f".contains(&b))
}

/// Whether the line ends in a backslash that is not itself escaped (the loop over `e` in
/// `config_parse()`).
fn ends_in_continuation(p: &str) -> bool {
    let mut escaped = false;
    for b in p.bytes() {
        if escaped {
            escaped = false;
        } else if b == b'\\' {
            escaped = true;
        }
    }
    escaped
}

/// Read unit file text the way `config_parse()` does.
pub fn parse(text: &str) -> Result<Unit, String> {
    let mut unit = Unit::default();
    let mut section: Option<String> = None;
    let mut continuation: Option<String> = None;
    let mut bom_seen = false;
    let mut last_line = 0;
    for (n, buf) in physical_lines(text).into_iter().enumerate() {
        let line = n + 1;
        last_line = line;
        // A comment line is dropped before anything else, even inside a continuation.
        let lead = buf.trim_start_matches([' ', '\t', '\n', '\r']);
        if lead.bytes().next().is_some_and(|c| COMMENTS.contains(&c)) {
            continue;
        }
        let mut l = buf;
        if !bom_seen {
            if let Some(rest) = buf.strip_prefix('\u{feff}') {
                l = rest;
                bom_seen = true;
            }
        }
        let mut p = match continuation.take() {
            Some(mut c) => {
                c.push_str(l);
                c
            }
            None => l.to_owned(),
        };
        if ends_in_continuation(&p) {
            p.pop();
            p.push(' ');
            continuation = Some(p);
            continue;
        }
        parse_line(&mut unit, &mut section, &p, line)?;
    }
    if let Some(p) = continuation {
        parse_line(&mut unit, &mut section, &p, last_line + 1)?;
    }
    Ok(unit)
}

/// One logical line, as `parse_line()` reads it.
fn parse_line(
    unit: &mut Unit,
    section: &mut Option<String>,
    l: &str,
    line: usize,
) -> Result<(), String> {
    let l = strip(l);
    if l.is_empty() {
        return Ok(());
    }
    if let Some(rest) = l.strip_prefix('[') {
        let Some(name) = rest.strip_suffix(']') else {
            return Err(format!("line {line}: invalid section header {l:?}"));
        };
        if !string_is_safe(name) {
            return Err(format!(
                "line {line}: bad characters in section header {l:?}"
            ));
        }
        unit.sections.push(name.to_owned());
        *section = Some(name.to_owned());
        return Ok(());
    }
    let Some(current) = section.as_ref() else {
        return Err(format!(
            "line {line}: assignment outside of a section: {l:?}"
        ));
    };
    let Some(eq) = l.find('=') else {
        return Err(format!("line {line}: missing '=': {l:?}"));
    };
    if eq == 0 {
        return Err(format!("line {line}: missing key name before '=': {l:?}"));
    }
    unit.entries.push(Entry {
        section: current.clone(),
        key: strip(&l[..eq]).to_owned(),
        value: strip(&l[eq + 1..]).to_owned(),
        line,
    });
    Ok(())
}

/// The `ExtractFlags` of `extract_first_word()` that unit file parsers use.
#[derive(Debug, Clone, Copy, Default)]
pub struct Flags {
    /// `EXTRACT_UNQUOTE`: `'...'` and `"..."` group and are removed.
    pub unquote: bool,
    /// `EXTRACT_CUNESCAPE`: `\n`, `\x41`, `\u00e9`... are decoded, unknown escapes refused.
    pub cunescape: bool,
    /// `EXTRACT_RETAIN_ESCAPE`: a backslash is an ordinary character.
    pub retain_escape: bool,
    /// `EXTRACT_DONT_COALESCE_SEPARATORS`: every separator ends a word, even an empty one.
    pub dont_coalesce: bool,
}

const UNQUOTE: Flags = Flags {
    unquote: true,
    cunescape: false,
    retain_escape: false,
    dont_coalesce: false,
};

/// One C escape after a backslash, as `cunescape_one()` (src/basic/escape.c) decodes it
/// with NUL refused: the bytes it stands for and how many input bytes it used.
fn cunescape_one(p: &[u8]) -> Option<(Vec<u8>, usize)> {
    let hex = |i: usize| p.get(i).and_then(|c| (*c as char).to_digit(16));
    let unichar = |len: usize| -> Option<(Vec<u8>, usize)> {
        let mut v = 0u32;
        for i in 1..=len {
            v = (v << 4) | hex(i)?;
        }
        // NUL is refused; a value that is not a Unicode scalar cannot be carried by a
        // Rust string (systemd refuses it for \U and would write invalid UTF-8 for \u).
        let c = char::from_u32(v).filter(|_| v != 0)?;
        Some((c.to_string().into_bytes(), len + 1))
    };
    let one = |b: u8| Some((vec![b], 1));
    match *p.first()? {
        b'a' => one(0x07),
        b'b' => one(0x08),
        b'f' => one(0x0c),
        b'n' => one(b'\n'),
        b'r' => one(b'\r'),
        b't' => one(b'\t'),
        b'v' => one(0x0b),
        b'\\' => one(b'\\'),
        b'"' => one(b'"'),
        b'\'' => one(b'\''),
        b's' => one(b' '),
        b'x' => {
            let v = (hex(1)? << 4) | hex(2)?;
            (v != 0).then(|| (vec![v as u8], 3))
        }
        b'u' => unichar(4),
        b'U' => unichar(8),
        b'0'..=b'7' => {
            let oct = |i: usize| p.get(i).and_then(|c| (*c as char).to_digit(8));
            let v = (oct(0)? << 6) | (oct(1)? << 3) | oct(2)?;
            (v != 0 && v <= 255).then(|| (vec![v as u8], 3))
        }
        _ => None,
    }
}

/// `extract_first_word()`: the next word of `input` from `*pos`, or `None` when there is
/// none. `*pos` becomes `None` where systemd sets its cursor to NULL (the input is used
/// up), and otherwise points just past the separator that ended the word (so
/// `input[pos - 1]` is that separator, as `config_parse_bind_paths()` relies on).
pub fn extract_first_word(
    input: &[u8],
    pos: &mut Option<usize>,
    separators: &[u8],
    flags: Flags,
) -> Result<Option<Vec<u8>>, String> {
    let Some(mut i) = *pos else {
        return Ok(None);
    };
    // C strings end at the first NUL.
    let at = |i: usize| input.get(i).copied().unwrap_or(0);
    let is_sep = |c: u8| c != 0 && separators.contains(&c);

    // Skip leading separators (or, without coalescing, return an empty word for one).
    loop {
        let c = at(i);
        if c == 0 {
            *pos = None;
            return Ok(flags.dont_coalesce.then(Vec::new));
        }
        if !is_sep(c) {
            break;
        }
        i += 1;
        if flags.dont_coalesce {
            *pos = Some(i);
            return Ok(Some(Vec::new()));
        }
    }

    let mut s = Vec::new();
    let mut quote = 0u8;
    let mut backslash = false;
    loop {
        let c = at(i);
        if backslash {
            if c == 0 {
                return Err("a backslash ends the value".to_owned());
            }
            if flags.cunescape {
                let Some((bytes, used)) = cunescape_one(&input[i..]) else {
                    return Err(format!(
                        "unknown escape sequence \\{} (systemd warns and keeps it verbatim)",
                        String::from_utf8_lossy(&input[i..(i + 1).min(input.len())])
                    ));
                };
                s.extend_from_slice(&bytes);
                i += used - 1;
            } else {
                s.push(c);
            }
            backslash = false;
        } else if quote != 0 {
            loop {
                let c = at(i);
                if c == 0 {
                    return Err("unbalanced quoting".to_owned());
                } else if c == quote {
                    quote = 0;
                    break;
                } else if c == b'\\' && !flags.retain_escape {
                    backslash = true;
                    break;
                }
                s.push(c);
                i += 1;
            }
        } else {
            loop {
                let c = at(i);
                if c == 0 {
                    *pos = None;
                    return Ok(Some(s));
                } else if (c == b'\'' || c == b'"') && flags.unquote {
                    quote = c;
                    break;
                } else if c == b'\\' && !flags.retain_escape {
                    backslash = true;
                    break;
                } else if is_sep(c) {
                    if flags.dont_coalesce {
                        *pos = Some(i + 1);
                        return Ok(Some(s));
                    }
                    while is_sep(at(i)) {
                        i += 1;
                    }
                    *pos = if at(i) == 0 { None } else { Some(i) };
                    return Ok(Some(s));
                }
                s.push(c);
                i += 1;
            }
        }
        i += 1;
    }
}

fn utf8(bytes: Vec<u8>) -> Result<String, String> {
    String::from_utf8(bytes).map_err(|e| format!("decoded value is not UTF-8: {e}"))
}

/// Every word of `raw`, split on white space with `flags`.
fn split(raw: &str, separators: &[u8], flags: Flags) -> Result<Vec<String>, String> {
    let mut pos = Some(0);
    let mut out = Vec::new();
    while let Some(word) = extract_first_word(raw.as_bytes(), &mut pos, separators, flags)? {
        out.push(utf8(word)?);
    }
    Ok(out)
}

/// Specifier expansion (systemd.unit(5) "Specifiers", `specifier_printf()`): `%%` is a
/// literal `%`. Any other `%` is reported, because it would be (or, before a character
/// that is not a letter or digit, might in some version be) replaced by something else.
pub fn specifiers(s: &str) -> Result<String, String> {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('%') => out.push('%'),
            Some(x) => return Err(format!("specifier %{x} in {s:?}")),
            None => return Err(format!("a lone % ends {s:?}")),
        }
    }
    Ok(out)
}

/// Environment substitution in one command line argument (systemd.service(5) "Command
/// lines", `replace_env_argv()`): `$$` is a literal `$`. Any other `$` is reported as a
/// substitution (`$NAME` as a whole word is split into words, `${NAME}` is replaced).
pub fn env_substitution(s: &str) -> Result<String, String> {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '$' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('$') => out.push('$'),
            Some(x) => return Err(format!("environment substitution ${x}... in {s:?}")),
            None => return Err(format!("a lone $ ends {s:?}")),
        }
    }
    Ok(out)
}

/// Words of a list value: split on white space with quotes removed (`EXTRACT_UNQUOTE`),
/// C escapes decoded when `cunescape` (`EXTRACT_CUNESCAPE`), specifiers expanded when
/// `specifiers`.
pub fn words(raw: &str, cunescape: bool, specifiers: bool) -> Result<Vec<String>, String> {
    let flags = Flags {
        cunescape,
        ..UNQUOTE
    };
    split(raw, WHITESPACE, flags)?
        .into_iter()
        .map(|w| {
            if specifiers {
                self::specifiers(&w)
            } else {
                Ok(w)
            }
        })
        .collect()
}

/// A free-text value taken as is (`config_parse_unit_string_printf()`, Description=):
/// no quoting, no escapes, specifiers expanded when `specifiers`.
pub fn text(raw: &str, specifiers: bool) -> Result<String, String> {
    if specifiers {
        self::specifiers(raw)
    } else {
        Ok(raw.to_owned())
    }
}

/// `env_name_is_valid()` (src/basic/env-util.c): ASCII letters, digits and `_`, not
/// starting with a digit.
pub fn env_name_is_valid(name: &str) -> bool {
    name.bytes().next().is_some_and(|c| !c.is_ascii_digit())
        && name.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_')
}

/// `Environment=` (systemd.exec(5), `config_parse_environ()`): words with quotes removed
/// and C escapes decoded, specifiers expanded, each a `NAME=value` assignment. `$` has no
/// meaning here.
pub fn environment(raw: &str) -> Result<Vec<(String, String)>, String> {
    let flags = Flags {
        cunescape: true,
        ..UNQUOTE
    };
    split(raw, WHITESPACE, flags)?
        .into_iter()
        .map(|word| {
            let resolved = specifiers(&word)?;
            match resolved.split_once('=') {
                Some((name, value)) if env_name_is_valid(name) => {
                    Ok((name.to_owned(), value.to_owned()))
                }
                _ => Err(format!(
                    "invalid environment assignment {resolved:?} (systemd ignores it)"
                )),
            }
        })
        .collect()
}

/// `path_simplify()` (src/basic/path-util.c): repeated slashes, `.` components and a
/// trailing slash removed; `..` kept.
pub fn path_simplify(path: &str) -> String {
    let parts: Vec<&str> = path
        .split('/')
        .filter(|c| !c.is_empty() && *c != ".")
        .collect();
    let joined = parts.join("/");
    if path.starts_with('/') {
        format!("/{joined}")
    } else if joined.is_empty() {
        ".".to_owned()
    } else {
        joined
    }
}

/// `path_is_valid()`: not empty, shorter than `PATH_MAX`, no component longer than
/// `NAME_MAX`.
fn path_is_valid(path: &str) -> bool {
    !path.is_empty() && path.len() < PATH_MAX && path.split('/').all(|c| c.len() <= NAME_MAX)
}

/// `path_simplify_and_warn()` with `PATH_CHECK_ABSOLUTE`: the path must be absolute,
/// valid and, once simplified, normalised (no `..`).
fn path_simplify_and_warn(path: &str) -> Result<String, String> {
    if !path.starts_with('/') {
        return Err(format!(
            "path {path:?} is not absolute (systemd ignores it)"
        ));
    }
    let simple = path_simplify(path);
    if !path_is_valid(&simple) {
        return Err(format!("path {path:?} has an invalid length"));
    }
    if simple.split('/').any(|c| c == "..") {
        return Err(format!("path {path:?} is not normalized"));
    }
    Ok(simple)
}

/// IOReadBandwidthMax= and kin (`config_parse_io_limit()` of systemd 252): the first word,
/// quotes removed, is the path (specifiers expanded, simplified); the rest, after white
/// space, is the limit. Returns both.
pub fn io_limit(raw: &str) -> Result<(String, String), String> {
    let mut pos = Some(0);
    let path = extract_first_word(raw.as_bytes(), &mut pos, WHITESPACE, UNQUOTE)?
        .ok_or_else(|| "no device path".to_owned())?;
    let rest = pos.map_or("", |p| &raw[p.min(raw.len())..]);
    let limit = rest.trim_start_matches([' ', '\t', '\n', '\r']);
    if limit.is_empty() {
        return Err("no limit after the device path".to_owned());
    }
    let path = path_simplify_and_warn(&specifiers(&utf8(path)?)?)?;
    Ok((path, limit.to_owned()))
}

/// ReadOnlyPaths=, ReadWritePaths=, InaccessiblePaths= (`config_parse_namespace_path_strv()`):
/// words with quotes removed but no C escapes, each optionally prefixed `-` (ignore if
/// missing) then `+` (relative to RootDirectory=), specifiers expanded, path simplified.
/// Each word is returned as systemd stores it: prefixes, then the simplified path.
pub fn namespace_paths(raw: &str) -> Result<Vec<String>, String> {
    split(raw, WHITESPACE, UNQUOTE)?
        .into_iter()
        .map(|word| {
            let mut w = word.as_str();
            let mut prefix = String::new();
            if let Some(rest) = w.strip_prefix('-') {
                prefix.push('-');
                w = rest;
            }
            if let Some(rest) = w.strip_prefix('+') {
                prefix.push('+');
                w = rest;
            }
            let resolved = path_simplify_and_warn(&specifiers(w)?)?;
            Ok(format!("{prefix}{resolved}"))
        })
        .collect()
}

/// One BindPaths= or BindReadOnlyPaths= entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BindPath {
    /// The source, simplified.
    pub source: String,
    /// `-`: a missing source is ignored.
    pub ignore_enoent: bool,
    /// The destination, when one is given (otherwise it is the source).
    pub destination: Option<String>,
    /// The option field, when one is given (`rbind`, `norbind` or empty).
    pub options: Option<String>,
}

/// BindPaths=, BindReadOnlyPaths= (systemd.exec(5), `config_parse_bind_paths()`): fields
/// separated by `:` or white space, every separator significant
/// (`EXTRACT_DONT_COALESCE_SEPARATORS`), quotes removed, no C escapes. A `:` inside quotes
/// is part of the path, not a separator.
pub fn bind_paths(raw: &str) -> Result<Vec<BindPath>, String> {
    let b = raw.as_bytes();
    let seps: &[u8] = b": \t\n\r";
    let flags = Flags {
        dont_coalesce: true,
        ..UNQUOTE
    };
    let after_colon = |pos: Option<usize>| pos.is_some_and(|p| p > 0 && b[p - 1] == b':');
    let mut pos = Some(0);
    let mut out = Vec::new();
    while let Some(source) = extract_first_word(b, &mut pos, seps, flags)? {
        let resolved = specifiers(&utf8(source)?)?;
        let (ignore_enoent, s) = match resolved.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, resolved.as_str()),
        };
        let source = path_simplify_and_warn(s)?;
        let mut destination = None;
        let mut options = None;
        if after_colon(pos) {
            let Some(d) = extract_first_word(b, &mut pos, seps, flags)? else {
                return Err(format!("missing argument after ':' in {raw:?}"));
            };
            destination = Some(path_simplify_and_warn(&specifiers(&utf8(d)?)?)?);
            if after_colon(pos) {
                let o = extract_first_word(b, &mut pos, WHITESPACE, UNQUOTE)?;
                let o = utf8(o.unwrap_or_default())?;
                if !matches!(o.as_str(), "" | "rbind" | "norbind") {
                    return Err(format!("invalid bind option {o:?}"));
                }
                options = Some(o);
            }
        }
        out.push(BindPath {
            source,
            ignore_enoent,
            destination,
            options,
        });
    }
    Ok(out)
}

/// WorkingDirectory= (`config_parse_working_directory()`): the raw value, no quoting, an
/// optional `-` prefix, `~` for the home directory, otherwise an absolute path with
/// specifiers expanded. Returned as `[-]PATH` or `[-]~`.
pub fn working_directory(raw: &str) -> Result<String, String> {
    if raw.is_empty() {
        return Err("an empty WorkingDirectory= resets it".to_owned());
    }
    let (prefix, rest) = match raw.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", raw),
    };
    if rest == "~" {
        return Ok(format!("{prefix}~"));
    }
    Ok(format!(
        "{prefix}{}",
        path_simplify_and_warn(&specifiers(rest)?)?
    ))
}

/// `unit_name_is_valid()` for plain names and instances (systemd.unit(5)): a prefix of
/// ASCII letters, digits, `:`, `-`, `_`, `.`, `\`, at most one `@` (and only in a type
/// that has instances), a known type suffix, at most 255 characters.
pub fn unit_name_is_valid(name: &str) -> bool {
    const TYPES: &[&str] = &[
        "service",
        "socket",
        "device",
        "mount",
        "automount",
        "swap",
        "target",
        "path",
        "timer",
        "slice",
        "scope",
    ];
    // `unit_type_may_template()`: only these types have instances; systemd refuses a
    // dependency on `x@y.mount` ("Failed to add dependency ... Invalid argument").
    const TEMPLATE_TYPES: &[&str] = &["service", "socket", "target", "timer", "path"];
    let Some((prefix, suffix)) = name.rsplit_once('.') else {
        return false;
    };
    name.len() <= 255
        && TYPES.contains(&suffix)
        && !prefix.is_empty()
        && !prefix.starts_with('@')
        && prefix.matches('@').count() <= 1
        && (!prefix.contains('@') || TEMPLATE_TYPES.contains(&suffix))
        && prefix
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || b":-_.\\@".contains(&c))
}

fn unit_names(words: Vec<String>) -> Result<Vec<String>, String> {
    words
        .into_iter()
        .map(|w| {
            let name = specifiers(&w)?;
            if unit_name_is_valid(&name) {
                Ok(name)
            } else {
                Err(format!("invalid unit name {name:?} (systemd ignores it)"))
            }
        })
        .collect()
}

/// After=, Before=, Wants=, Requires=... (`config_parse_unit_deps()`): words split on
/// white space with `EXTRACT_RETAIN_ESCAPE` only, so quotes and backslashes are ordinary
/// characters; specifiers expanded; each must be a valid unit name.
pub fn unit_deps(raw: &str) -> Result<Vec<String>, String> {
    let flags = Flags {
        retain_escape: true,
        ..Flags::default()
    };
    unit_names(split(raw, WHITESPACE, flags)?)
}

/// WantedBy=, RequiredBy= in `[Install]`, read by `systemctl enable` (src/shared/install.c
/// uses `config_parse_strv()`: `EXTRACT_UNQUOTE|EXTRACT_RETAIN_ESCAPE`, so quotes are
/// removed but a backslash stays a backslash, also inside quotes); specifiers expanded;
/// each must be a valid unit name.
pub fn install_units(raw: &str) -> Result<Vec<String>, String> {
    let flags = Flags {
        retain_escape: true,
        ..UNQUOTE
    };
    unit_names(split(raw, WHITESPACE, flags)?)
}

/// One command of an ExecStart= line, as `config_parse_exec()` stores it and as it is
/// executed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    /// The special prefixes of the first word, in order (`-`, `@`, `:`, `+`, `!`, `!!`).
    pub prefixes: String,
    /// The file executed: the first word without prefixes, specifiers expanded,
    /// simplified. systemd does not substitute environment variables in it
    /// (systemd.service(5): "the first argument (i.e. the program to execute) may not be a
    /// variable"; `exec_invoke()` executes `command->path`, only `argv` goes through
    /// `replace_env_argv()`; see also systemd/systemd#1274).
    pub path: String,
    /// The argument vector the process receives, after specifier expansion and (unless
    /// the `:` prefix is given) environment substitution.
    pub argv: Vec<String>,
}

/// ExecStart= and friends (systemd.service(5) "Command lines", `config_parse_exec()`):
/// words with quotes removed and C escapes decoded; a lone unquoted `;` separates commands
/// and `\;` is a literal `;` argument; prefixes on the first word; specifiers expanded in
/// every word; `$` substituted at execution time.
pub fn exec_commands(raw: &str) -> Result<Vec<Command>, String> {
    let b = raw.as_bytes();
    let at = |i: usize| b.get(i).copied().unwrap_or(0);
    let is_ws = |c: u8| c != 0 && WHITESPACE.contains(&c);
    let flags = Flags {
        cunescape: true,
        ..UNQUOTE
    };
    let mut out = Vec::new();
    let mut pos = Some(0);
    loop {
        let Some(first) = extract_first_word(b, &mut pos, WHITESPACE, flags)? else {
            return Ok(out);
        };
        if first == b";" {
            continue;
        }
        let first = utf8(first)?;
        let mut prefixes = String::new();
        let (mut ignore, mut argv0, mut no_env) = (false, false, false);
        let (mut privileged, mut no_setuid, mut ambient) = (false, false, false);
        let mut f = first.as_str();
        loop {
            match f.as_bytes().first() {
                Some(b'-') if !ignore => ignore = true,
                Some(b'@') if !argv0 => argv0 = true,
                Some(b':') if !no_env => no_env = true,
                Some(b'+') if !(privileged || no_setuid || ambient) => privileged = true,
                Some(b'!') if !(privileged || no_setuid || ambient) => no_setuid = true,
                Some(b'!') if !(privileged || ambient) => {
                    no_setuid = false;
                    ambient = true;
                }
                _ => break,
            }
            prefixes.push_str(&f[..1]);
            f = &f[1..];
        }
        let path = specifiers(f)?;
        if path.is_empty() {
            return Err(format!("empty path in command line {raw:?}"));
        }
        if !string_is_safe(&path) {
            return Err(format!(
                "executable name contains special characters: {path:?}"
            ));
        }
        if path.ends_with('/') {
            return Err(format!("executable path specifies a directory: {path:?}"));
        }
        let valid = if path.starts_with('/') {
            path_is_valid(&path)
        } else {
            !path.contains('/') && path != "." && path != ".." && path.len() <= NAME_MAX
        };
        if !valid {
            return Err(format!(
                "neither a valid executable name nor an absolute path: {path:?}"
            ));
        }
        let mut argv = Vec::new();
        if !argv0 {
            argv.push(path.clone());
        }
        let path = path_simplify(&path);
        let mut semicolon = false;
        while let Some(p) = pos.filter(|p| at(*p) != 0) {
            if at(p) == b';' && (at(p + 1) == 0 || is_ws(at(p + 1))) {
                let mut q = p + 1;
                while is_ws(at(q)) {
                    q += 1;
                }
                pos = Some(q);
                semicolon = true;
                break;
            }
            if at(p) == b'\\' && at(p + 1) == b';' && (at(p + 2) == 0 || is_ws(at(p + 2))) {
                let mut q = p + 2;
                while is_ws(at(q)) {
                    q += 1;
                }
                pos = Some(q);
                argv.push(";".to_owned());
                continue;
            }
            let Some(word) = extract_first_word(b, &mut pos, WHITESPACE, flags)? else {
                break;
            };
            argv.push(specifiers(&utf8(word)?)?);
        }
        if argv.is_empty() {
            return Err(format!(
                "empty executable name or zeroeth argument: {raw:?}"
            ));
        }
        let argv = if no_env {
            argv
        } else {
            argv.iter()
                .map(|a| env_substitution(a))
                .collect::<Result<_, _>>()?
        };
        out.push(Command {
            prefixes,
            path,
            argv,
        });
        if !semicolon {
            return Ok(out);
        }
    }
}

/// The argument vector of an ExecStart= line that must hold exactly one command, with no
/// prefix, whose executed file is its argv[0]. Anything else is an error.
pub fn exec_argv(raw: &str) -> Result<Vec<String>, String> {
    let commands = exec_commands(raw)?;
    let [command] = commands.as_slice() else {
        return Err(format!("{} commands in {raw:?}", commands.len()));
    };
    if !command.prefixes.is_empty() {
        return Err(format!("prefix {:?} in {raw:?}", command.prefixes));
    }
    if command.path != path_simplify(&command.argv[0]) {
        return Err(format!(
            "executes {:?} but argv[0] is {:?}",
            command.path, command.argv[0]
        ));
    }
    Ok(command.argv.clone())
}
