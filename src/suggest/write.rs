//! Writing a suggested list back into a policy file, leaving everything else as it was.
//!
//! `toml_edit` keeps a document's comments, blank lines, key order and formatting, so only the
//! value of `[seccomp] allow` changes: the comments above the key and after the value stay,
//! and a list written one entry per line stays one entry per line. Comments *inside* the old
//! list belonged to entries that are being replaced, and go with them.

use toml_edit::{Array, DocumentMut, Item, Table, Value};

/// Why a policy could not be rewritten. (Whether the result is a valid policy is for the
/// caller to check with [`crate::policy::parse`], as for any policy.)
#[derive(Debug, Clone, thiserror::Error)]
pub enum WriteError {
    /// The policy is not TOML. (The parser's error is part of the message, not also its
    /// `source()`, which the CLI would print a second time.)
    #[error("the policy is not valid TOML, so it cannot be rewritten: {0}")]
    Toml(toml_edit::TomlError),
    /// `seccomp` is something other than a table.
    #[error(
        "`seccomp` in the policy is {found}, not a table; sandgen writes the list to \
         `[seccomp] allow`"
    )]
    SeccompNotATable {
        /// What it is (`a string`, `an integer`, ...).
        found: String,
    },
    /// A policy table is something other than a table.
    #[error("`{table}` in the policy is {found}, not a table; sandgen writes `[{table}]` keys")]
    NotATable {
        /// The table's name.
        table: String,
        /// What it is (`a string`, `an integer`, ...).
        found: String,
    },
}

/// One key for [`write_settings`]: `[table] key = value`, with `comment` (whole `#` lines)
/// above it when the key is new.
#[derive(Debug, Clone)]
pub struct KeyValue {
    /// The policy table.
    pub table: &'static str,
    /// The key.
    pub key: &'static str,
    /// The value.
    pub value: Value,
    /// `# ...` lines, each ending in a newline.
    pub comment: String,
}

/// `policy_text` with each of `settings` written, every other byte kept: an existing key
/// keeps its comments and layout and gets the new value; a new key goes at the end of its
/// table (made at the end of the policy when missing) under its comment.
///
/// # Errors
///
/// A [`WriteError`] when the text is not TOML or one of the tables is not a table.
pub fn write_settings(policy_text: &str, settings: &[KeyValue]) -> Result<String, WriteError> {
    let mut doc: DocumentMut = policy_text.parse().map_err(WriteError::Toml)?;
    for s in settings {
        if !doc.as_table().contains_key(s.table) {
            let mut table = Table::new();
            if !doc.as_table().is_empty() {
                table.decor_mut().set_prefix("\n");
            }
            doc.as_table_mut().insert(s.table, Item::Table(table));
        }
        let item = doc
            .as_table_mut()
            .get_mut(s.table)
            .ok_or_else(|| WriteError::NotATable {
                table: s.table.to_owned(),
                found: "missing".to_owned(),
            })?;
        let found = with_article(item.type_name());
        let table = item.as_table_like_mut().ok_or(WriteError::NotATable {
            table: s.table.to_owned(),
            found,
        })?;
        match table.get_mut(s.key) {
            Some(Item::Value(old)) => {
                let mut new = match (s.value.as_array(), old.as_array()) {
                    (Some(new), Some(old_array)) => Value::Array(relayout(new.clone(), old_array)),
                    _ => s.value.clone(),
                };
                *new.decor_mut() = old.decor().clone();
                *old = new;
            }
            Some(other) => *other = Item::Value(s.value.clone()),
            None => {
                table.insert(s.key, Item::Value(s.value.clone()));
                if let Some(mut key) = table.key_mut(s.key) {
                    key.leaf_decor_mut().set_prefix(s.comment.clone());
                }
            }
        }
    }
    Ok(doc.to_string())
}

/// `policy_text` with `[seccomp] allow` set to `allow`, every other byte kept.
///
/// - An existing `allow` keeps its key, the comments around it and its layout (one line, or
///   one entry per line with the same indentation).
/// - A `[seccomp]` table (also inline, or as dotted `seccomp.allow` keys) without `allow` gets
///   the key appended.
/// - A policy without `seccomp` gets a `[seccomp]` table at its end.
///
/// # Errors
///
/// A [`WriteError`] when the text is not TOML or `seccomp` is not a table.
pub fn write_allow(policy_text: &str, allow: &[String]) -> Result<String, WriteError> {
    let mut doc: DocumentMut = policy_text.parse().map_err(WriteError::Toml)?;
    let root = doc.as_table_mut();

    let Some(seccomp) = root.get_mut("seccomp") else {
        // Comments after the last table belong to it: they go before the new table, which
        // gets a blank line of its own.
        let mut prefix = doc.trailing().as_str().unwrap_or("").to_owned();
        doc.set_trailing("");
        if !doc.as_table().is_empty() && !prefix.ends_with("\n\n") {
            prefix.push('\n');
        }
        let mut table = Table::new();
        table.decor_mut().set_prefix(prefix);
        table.insert("allow", toml_edit::value(allow_array(allow)));
        doc.as_table_mut().insert("seccomp", Item::Table(table));
        return Ok(doc.to_string());
    };

    let found = seccomp.type_name();
    let seccomp = seccomp
        .as_table_like_mut()
        .ok_or(WriteError::SeccompNotATable {
            found: with_article(found),
        })?;
    match seccomp.get_mut("allow") {
        Some(Item::Value(old)) => {
            let new = match old.as_array() {
                Some(old_array) => relayout(allow_array(allow), old_array),
                None => allow_array(allow),
            };
            let decor = old.decor().clone();
            let mut new = Value::Array(new);
            *new.decor_mut() = decor;
            *old = new;
        }
        Some(other) => *other = toml_edit::value(allow_array(allow)),
        None => {
            let mut value = Value::Array(allow_array(allow));
            if let Some(Item::Value(Value::InlineTable(inline))) = root.get_mut("seccomp") {
                // `{ a = 1 }`: the space before `}` is the last value's suffix; it moves to
                // the new last value.
                if let Some((_, last)) = inline.iter_mut().last() {
                    let suffix = last.decor().suffix().cloned();
                    last.decor_mut().set_suffix("");
                    if let Some(suffix) = suffix {
                        value.decor_mut().set_suffix(suffix);
                    }
                }
            }
            if let Some(seccomp) = root.get_mut("seccomp").and_then(Item::as_table_like_mut) {
                seccomp.insert("allow", Item::Value(value));
            }
        }
    }
    Ok(doc.to_string())
}

/// `integer` -> `an integer`.
fn with_article(type_name: &str) -> String {
    let article = if type_name.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    format!("{article} {type_name}")
}

/// The list as a one-line TOML array of strings.
pub(crate) fn allow_array(allow: &[String]) -> Array {
    let mut array: Array = allow.iter().map(String::as_str).collect();
    array.fmt();
    array
}

/// `new` laid out like `old`: one entry per line with `old`'s indentation and trailing comma
/// when `old` spanned lines, else on one line.
fn relayout(mut new: Array, old: &Array) -> Array {
    let prefix_of = |v: &Value| {
        v.decor()
            .prefix()
            .and_then(|p| p.as_str())
            .unwrap_or("")
            .to_owned()
    };
    let first_prefix = old.iter().next().map(prefix_of).unwrap_or_default();
    let trailing = old.trailing().as_str().unwrap_or("").to_owned();
    let multiline = first_prefix.contains('\n') || trailing.contains('\n');
    if !multiline {
        return new;
    }
    // Indentation: what follows the last newline before the first entry.
    let indent = match first_prefix.rfind('\n') {
        Some(at) => first_prefix[at + 1..].to_owned(),
        None => "    ".to_owned(),
    };
    let indent = if indent.trim().is_empty() {
        indent
    } else {
        // The prefix held a comment: keep only its whitespace.
        indent.chars().take_while(|c| c.is_whitespace()).collect()
    };
    for value in new.iter_mut() {
        value.decor_mut().set_prefix(format!("\n{indent}"));
        value.decor_mut().set_suffix("");
    }
    new.set_trailing_comma(true);
    let closing = match trailing.rfind('\n') {
        Some(at) if trailing[at + 1..].trim().is_empty() => trailing[at..].to_owned(),
        _ => "\n".to_owned(),
    };
    new.set_trailing(closing);
    new
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn replaces_a_one_line_list_and_keeps_comments_around_it() {
        let text = "[service]\nexec = [\"/bin/true\"]\n\n[seccomp]\n# why\nallow = [\"@system-service\"]  # trailing\narchitectures = [\"native\"]\n";
        let out = write_allow(text, &list(&["@default", "read"])).unwrap();
        assert_eq!(
            out,
            "[service]\nexec = [\"/bin/true\"]\n\n[seccomp]\n# why\nallow = [\"@default\", \"read\"]  # trailing\narchitectures = [\"native\"]\n"
        );
    }

    #[test]
    fn keeps_a_multi_line_layout() {
        let text = "[seccomp]\nallow = [\n  \"@system-service\", # old comment\n  \"x\",\n]\n";
        let out = write_allow(text, &list(&["@default", "read"])).unwrap();
        assert_eq!(
            out,
            "[seccomp]\nallow = [\n  \"@default\",\n  \"read\",\n]\n"
        );
    }

    #[test]
    fn adds_allow_to_an_existing_table_inline_or_dotted() {
        let text = "[seccomp]\narchitectures = [\"native\"]\n";
        assert_eq!(
            write_allow(text, &list(&["read"])).unwrap(),
            "[seccomp]\narchitectures = [\"native\"]\nallow = [\"read\"]\n"
        );
        let inline = "seccomp = { architectures = [\"native\"] }\n";
        assert_eq!(
            write_allow(inline, &list(&["read"])).unwrap(),
            "seccomp = { architectures = [\"native\"], allow = [\"read\"] }\n"
        );
        let dotted = "seccomp.allow = [\"write\"] # keep\n";
        assert_eq!(
            write_allow(dotted, &list(&["read"])).unwrap(),
            "seccomp.allow = [\"read\"] # keep\n"
        );
    }

    #[test]
    fn creates_the_table_at_the_end() {
        assert_eq!(
            write_allow("[service]\nexec = [\"/bin/true\"]\n", &list(&["read"])).unwrap(),
            "[service]\nexec = [\"/bin/true\"]\n\n[seccomp]\nallow = [\"read\"]\n"
        );
        assert_eq!(
            write_allow("[service]\nexec = [\"/bin/true\"]", &list(&["read"])).unwrap(),
            "[service]\nexec = [\"/bin/true\"]\n\n[seccomp]\nallow = [\"read\"]\n"
        );
        assert_eq!(
            write_allow("", &list(&["read"])).unwrap(),
            "[seccomp]\nallow = [\"read\"]\n"
        );
    }

    #[test]
    fn settings_replace_values_and_new_keys_come_with_their_comment() {
        let text = "# mine\n[service]\nexec = [\"/bin/true\"]\n\n[filesystem]\n# keep\nprotect_system = \"full\" # was\nread_write_paths = [\n  \"/srv\",\n]\n";
        let kv = |table, key, value: Value, comment: &str| KeyValue {
            table,
            key,
            value,
            comment: comment.to_owned(),
        };
        let paths: Array = ["/var/lib/x"].into_iter().collect();
        let out = write_settings(
            text,
            &[
                kv(
                    "filesystem",
                    "protect_system",
                    "strict".into(),
                    "# ignored\n",
                ),
                kv("filesystem", "read_write_paths", Value::Array(paths), ""),
                kv(
                    "filesystem",
                    "private_tmp",
                    true.into(),
                    "# no /tmp of others\n",
                ),
                kv("network", "private_network", true.into(), "# no socket\n"),
            ],
        )
        .unwrap();
        assert_eq!(
            out,
            "# mine\n[service]\nexec = [\"/bin/true\"]\n\n[filesystem]\n# keep\nprotect_system = \"strict\" # was\nread_write_paths = [\n  \"/var/lib/x\",\n]\n# no /tmp of others\nprivate_tmp = true\n\n[network]\n# no socket\nprivate_network = true\n"
        );
        assert_eq!(
            write_settings("filesystem = 3\n", &[kv("filesystem", "private_tmp", true.into(), "")])
                .unwrap_err()
                .to_string(),
            "`filesystem` in the policy is an integer, not a table; sandgen writes `[filesystem]` keys"
        );
    }

    #[test]
    fn refuses_what_it_cannot_rewrite() {
        assert_eq!(
            write_allow("seccomp = 1\n", &list(&["read"]))
                .unwrap_err()
                .to_string(),
            "`seccomp` in the policy is an integer, not a table; sandgen writes the list to \
             `[seccomp] allow`"
        );
        assert!(matches!(
            write_allow("[seccomp\n", &list(&["read"])),
            Err(WriteError::Toml(_))
        ));
    }
}
