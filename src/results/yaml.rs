//! A reader for the YAML that experiment tools write for their settings: Hydra's
//! `.hydra/config.yaml` and `overrides.yaml` (OmegaConf), Lightning's `hparams.yaml` and W&B's
//! `config.yaml` (PyYAML). They are block mappings and sequences of scalars, with the odd flow
//! list (`[64, 64]`), quoted string, block scalar (`|`) or Python tag
//! (`!!python/tuple`). That subset is read here; hyperparameters are only shown, so anything
//! stranger (anchors, multi-document streams) is kept as text rather than refused. A full YAML
//! crate would add a dependency for a display-only need.

/// A YAML value.
#[derive(Debug, Clone, PartialEq)]
pub enum Yaml {
    Null,
    /// A scalar, unquoted and unescaped, as text.
    Scalar(String),
    Seq(Vec<Yaml>),
    Map(Vec<(String, Yaml)>),
}

struct Line<'a> {
    indent: usize,
    text: &'a str,
}

/// Parses `text`; never fails (what cannot be read becomes a scalar).
pub fn parse(text: &str) -> Yaml {
    let lines: Vec<Line> = text
        .lines()
        .filter_map(|raw| {
            let trimmed = raw.trim_start_matches(' ');
            let body = strip_comment(trimmed).trim_end();
            if body.is_empty() || body == "---" || body == "..." || body.starts_with("%YAML") {
                return None;
            }
            Some(Line {
                indent: raw.len() - trimmed.len(),
                text: body,
            })
        })
        .collect();
    if lines.is_empty() {
        return Yaml::Null;
    }
    let mut p = Parser { lines, at: 0 };
    let indent = p.lines[0].indent;
    p.block(indent)
}

struct Parser<'a> {
    lines: Vec<Line<'a>>,
    at: usize,
}

impl<'a> Parser<'a> {
    fn block(&mut self, indent: usize) -> Yaml {
        match self.lines.get(self.at) {
            Some(l) if is_item(l.text) => self.seq(l.indent),
            Some(l) if split_key(l.text).is_some() => self.map(l.indent.max(indent)),
            Some(l) => {
                let v = scalar_or_flow(l.text);
                self.at += 1;
                v
            }
            None => Yaml::Null,
        }
    }

    fn map(&mut self, indent: usize) -> Yaml {
        let mut out = Vec::new();
        while let Some(line) = self.lines.get(self.at) {
            if line.indent != indent || is_item(line.text) {
                break;
            }
            let Some((key, rest)) = split_key(line.text) else {
                break;
            };
            self.at += 1;
            let rest = strip_tag(rest);
            let value = if rest.is_empty() {
                match self.lines.get(self.at) {
                    Some(next)
                        if next.indent > indent
                            || (next.indent == indent && is_item(next.text)) =>
                    {
                        self.block(next.indent)
                    }
                    _ => Yaml::Null,
                }
            } else if rest.starts_with('|') || rest.starts_with('>') {
                self.block_scalar(indent, rest.starts_with('>'))
            } else {
                scalar_or_flow(rest)
            };
            out.push((key, value));
        }
        Yaml::Map(out)
    }

    fn seq(&mut self, indent: usize) -> Yaml {
        let mut out = Vec::new();
        while let Some(line) = self.lines.get(self.at) {
            if line.indent != indent || !is_item(line.text) {
                break;
            }
            let rest = strip_tag(line.text[1..].trim_start());
            if rest.is_empty() {
                self.at += 1;
                match self.lines.get(self.at) {
                    Some(next) if next.indent > indent => out.push(self.block(next.indent)),
                    _ => out.push(Yaml::Null),
                }
            } else if split_key(rest).is_some() && !rest.starts_with(['[', '{', '"', '\'']) {
                // `- key: value` starts a mapping whose keys sit at the column of `key`.
                let column = indent + (line.text.len() - rest.len());
                self.lines[self.at] = Line {
                    indent: column,
                    text: rest,
                };
                out.push(self.map(column));
            } else {
                self.at += 1;
                out.push(scalar_or_flow(rest));
            }
        }
        Yaml::Seq(out)
    }

    fn block_scalar(&mut self, indent: usize, folded: bool) -> Yaml {
        let mut parts = Vec::new();
        while let Some(line) = self.lines.get(self.at) {
            if line.indent <= indent {
                break;
            }
            parts.push(line.text.trim());
            self.at += 1;
        }
        Yaml::Scalar(parts.join(if folded { " " } else { "\n" }))
    }
}

fn is_item(text: &str) -> bool {
    text == "-" || text.starts_with("- ")
}

/// `key: rest` (the key unquoted), or None when the line is no mapping entry.
fn split_key(text: &str) -> Option<(String, &str)> {
    let (key, rest) = if let Some(q @ ('"' | '\'')) = text.chars().next() {
        let end = text[1..].find(q)? + 1;
        let after = text[end + 1..].trim_start();
        let rest = after.strip_prefix(':')?;
        (unquote(&text[..=end]), rest)
    } else {
        let mut found = None;
        for (i, c) in text.char_indices() {
            if c == ':' && text[i + 1..].chars().next().is_none_or(|n| n == ' ') {
                found = Some(i);
                break;
            }
            if matches!(c, '[' | '{') && i == 0 {
                return None;
            }
        }
        let i = found?;
        (text[..i].trim().to_string(), &text[i + 1..])
    };
    if key.is_empty() {
        return None;
    }
    Some((key, rest.trim()))
}

/// Drops a `!!python/tuple`-style tag in front of a value.
fn strip_tag(text: &str) -> &str {
    if text.starts_with('!') {
        text.split_once(' ')
            .map_or("", |(_, rest)| rest.trim_start())
    } else {
        text
    }
}

fn strip_comment(text: &str) -> &str {
    if text.starts_with('#') {
        return "";
    }
    let mut quote: Option<char> = None;
    let mut prev = ' ';
    for (i, c) in text.char_indices() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if (c == '"' || c == '\'') && (prev == ' ' || prev == ':' || i == 0) => {
                quote = Some(c)
            }
            None if c == '#' && prev == ' ' => return &text[..i],
            None => {}
        }
        prev = c;
    }
    text
}

fn scalar_or_flow(text: &str) -> Yaml {
    let t = text.trim();
    if (t.starts_with('[') && t.ends_with(']')) || (t.starts_with('{') && t.ends_with('}')) {
        let inner = &t[1..t.len() - 1];
        let items = split_flow(inner);
        if t.starts_with('[') {
            return Yaml::Seq(items.iter().map(|i| scalar_or_flow(i)).collect());
        }
        return Yaml::Map(
            items
                .iter()
                .filter_map(|i| split_key(i).map(|(k, v)| (k, scalar_or_flow(v))))
                .collect(),
        );
    }
    match t {
        "" | "~" | "null" | "Null" | "NULL" => Yaml::Null,
        _ => Yaml::Scalar(unquote(t)),
    }
}

/// Splits flow items at top-level commas.
fn split_flow(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut depth, mut quote, mut start) = (0i32, None::<char>, 0usize);
    for (i, c) in text.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '[' | '{') => depth += 1,
            (None, ']' | '}') => depth -= 1,
            (None, ',') if depth == 0 => {
                out.push(text[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    let last = text[start..].trim();
    if !last.is_empty() {
        out.push(last);
    }
    out
}

fn unquote(t: &str) -> String {
    if t.len() >= 2 && t.starts_with('\'') && t.ends_with('\'') {
        return t[1..t.len() - 1].replace("''", "'");
    }
    if t.len() >= 2 && t.starts_with('"') && t.ends_with('"') {
        let inner = &t[1..t.len() - 1];
        let mut out = String::with_capacity(inner.len());
        let mut chars = inner.chars();
        while let Some(c) = chars.next() {
            if c == '\\' {
                match chars.next() {
                    Some('n') => out.push('\n'),
                    Some('t') => out.push('\t'),
                    Some(o) => out.push(o),
                    None => {}
                }
            } else {
                out.push(c);
            }
        }
        return out;
    }
    t.to_string()
}

impl Yaml {
    /// The value at a key of a mapping.
    pub fn get(&self, key: &str) -> Option<&Yaml> {
        match self {
            Yaml::Map(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// Text for a table cell: scalars as written, lists of scalars as `[a, b]`.
    pub fn display(&self) -> String {
        match self {
            Yaml::Null => "null".into(),
            Yaml::Scalar(s) => s.clone(),
            Yaml::Seq(items) => format!(
                "[{}]",
                items
                    .iter()
                    .map(Yaml::display)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Yaml::Map(entries) => format!(
                "{{{}}}",
                entries
                    .iter()
                    .map(|(k, v)| format!("{k}: {}", v.display()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }

    /// Leaves as `a.b.c` → text: nested mappings are walked, lists of scalars stay whole,
    /// lists of mappings are numbered (`layers.0.size`).
    pub fn flatten(&self, prefix: &str, out: &mut Vec<(String, String)>) {
        let join = |k: &str| {
            if prefix.is_empty() {
                k.to_string()
            } else {
                format!("{prefix}.{k}")
            }
        };
        match self {
            Yaml::Map(entries) => {
                for (k, v) in entries {
                    v.flatten(&join(k), out);
                }
            }
            Yaml::Seq(items) if items.iter().any(|i| matches!(i, Yaml::Map(_))) => {
                for (i, v) in items.iter().enumerate() {
                    v.flatten(&join(&i.to_string()), out);
                }
            }
            other => out.push((prefix.to_string(), other.display())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_flow_quotes_and_tags() {
        let y = parse(
            "# c\nmodel:\n  name: resnet  # inline\n  layers: [64, 128]\n  act: 'it''s'\noptim:\n  lr: 0.001\n\
             sizes: !!python/tuple\n- 1\n- 2\nitems:\n  - name: a\n    w: 1\n  - name: b\n    w: 2\nnote: |\n  two\n  lines\nempty:\n",
        );
        let mut flat = Vec::new();
        y.flatten("", &mut flat);
        let get = |k: &str| flat.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("model.name"), Some("resnet"));
        assert_eq!(get("model.layers"), Some("[64, 128]"));
        assert_eq!(get("model.act"), Some("it's"));
        assert_eq!(get("optim.lr"), Some("0.001"));
        assert_eq!(get("sizes"), Some("[1, 2]"));
        assert_eq!(get("items.1.w"), Some("2"));
        assert_eq!(get("note"), Some("two\nlines"));
        assert_eq!(get("empty"), Some("null"));
        let seq = parse("- lr=0.1\n- +trainer.max_epochs=3\n");
        assert_eq!(
            seq,
            Yaml::Seq(vec![
                Yaml::Scalar("lr=0.1".into()),
                Yaml::Scalar("+trainer.max_epochs=3".into())
            ])
        );
    }
}
