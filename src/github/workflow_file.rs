//! The `workflow_dispatch` inputs a workflow file declares, read from its YAML.
//!
//! GitHub refuses a dispatch that names an input the file (at that ref) does not declare, or
//! leaves out a required one, with 422 "Unexpected inputs provided". So trackit reads the file
//! first and sends only what it declares. Only the part of YAML that workflow files use for
//! `on:` is read: block mappings by indentation, flow lists and plain, quoted or commented
//! scalars. Anything else under `on:` is skipped, never guessed at.

/// One declared input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeclaredInput {
    pub name: String,
    pub required: bool,
    pub has_default: bool,
    /// `string`, `choice`, `boolean`, ... (None when not given: a string).
    pub kind: Option<String>,
    /// The allowed values of a `choice` input.
    pub options: Vec<String>,
    /// The default, when one is given (a plain scalar).
    pub default: Option<String>,
}

/// What the file says about manual dispatch.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DispatchSpec {
    /// False when the workflow cannot be dispatched at all (no `workflow_dispatch` trigger).
    pub dispatchable: bool,
    pub inputs: Vec<DeclaredInput>,
    /// The `run-name:` template, which lets a run be recognised by its inputs.
    pub run_name: Option<String>,
}

impl DispatchSpec {
    pub fn declares(&self, name: &str) -> bool {
        self.inputs.iter().any(|i| i.name == name)
    }

    /// Checks inputs the user typed (`trackit dispatch -f KEY=VALUE`) as GitHub will, so a
    /// mistake gets a clear message instead of a 422: every input declared, every required
    /// one given, a choice among its options, a boolean `true` or `false`.
    pub fn check_inputs(
        &self,
        workflow: &str,
        git_ref: &str,
        given: &std::collections::BTreeMap<String, String>,
    ) -> Result<(), String> {
        if !self.dispatchable {
            return Err(format!(
                "{workflow} at {git_ref} has no workflow_dispatch trigger"
            ));
        }
        let declared: Vec<&str> = self.inputs.iter().map(|i| i.name.as_str()).collect();
        let unknown: Vec<&str> = given
            .keys()
            .map(String::as_str)
            .filter(|k| !declared.contains(k))
            .collect();
        if !unknown.is_empty() {
            let known = if declared.is_empty() {
                "it declares no inputs".to_string()
            } else {
                format!("it declares: {}", declared.join(", "))
            };
            return Err(format!(
                "{workflow} at {git_ref} does not declare the input(s) {} ({known}); GitHub would refuse the dispatch",
                unknown.join(", ")
            ));
        }
        let missing: Vec<&str> = self
            .inputs
            .iter()
            .filter(|i| i.required && !i.has_default && !given.contains_key(&i.name))
            .map(|i| i.name.as_str())
            .collect();
        if !missing.is_empty() {
            return Err(format!(
                "{workflow} at {git_ref} requires the input(s) {}: add -f {}=...",
                missing.join(", "),
                missing[0]
            ));
        }
        for input in &self.inputs {
            let Some(value) = given.get(&input.name) else {
                continue;
            };
            match input.kind.as_deref() {
                Some("choice") if !input.options.is_empty() && !input.options.contains(value) => {
                    return Err(format!(
                        "input {} of {workflow} must be one of {} (not {value:?})",
                        input.name,
                        input.options.join(", ")
                    ))
                }
                Some("boolean") if value != "true" && value != "false" => {
                    return Err(format!(
                        "input {} of {workflow} is a boolean: true or false (not {value:?})",
                        input.name
                    ))
                }
                Some("number") if value.parse::<f64>().is_err() => {
                    return Err(format!(
                        "input {} of {workflow} is a number (not {value:?})",
                        input.name
                    ))
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// The title GitHub gives a run dispatched with `inputs`: `run-name` with its
    /// `${{ inputs.X }}` filled in (defaults for the inputs not sent). None without a
    /// `run-name`, or when it uses anything else (`github.actor`, functions).
    pub fn run_title(&self, inputs: &serde_json::Map<String, serde_json::Value>) -> Option<String> {
        let template = self.run_name.as_deref()?;
        let mut out = String::new();
        let mut rest = template;
        while let Some(start) = rest.find("${{") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 3..];
            let end = after.find("}}")?;
            let expr = after[..end].trim();
            let name = expr
                .strip_prefix("inputs.")
                .or_else(|| expr.strip_prefix("github.event.inputs."))?;
            if !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            {
                return None;
            }
            let value = match inputs.get(name) {
                Some(serde_json::Value::String(s)) => s.clone(),
                Some(v) => v.to_string(),
                None => self
                    .inputs
                    .iter()
                    .find(|i| i.name == name)?
                    .default
                    .clone()
                    .unwrap_or_default(),
            };
            out.push_str(&value);
            rest = &after[end + 2..];
        }
        out.push_str(rest);
        Some(out)
    }
}

struct Line<'a> {
    indent: usize,
    text: &'a str,
}

/// Lines with their indentation, comments and blank lines removed.
fn lines(yaml: &str) -> Vec<Line<'_>> {
    yaml.lines()
        .filter_map(|raw| {
            let text = strip_comment(raw).trim_end();
            let trimmed = text.trim_start();
            if trimmed.is_empty() || trimmed == "---" {
                return None;
            }
            Some(Line {
                indent: text.len() - trimmed.len(),
                text: trimmed,
            })
        })
        .collect()
}

/// Drops a `# comment` that is not inside quotes.
fn strip_comment(line: &str) -> &str {
    let mut quote: Option<char> = None;
    let mut prev = ' ';
    for (i, c) in line.char_indices() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '\'' || c == '"' => quote = Some(c),
            None if c == '#' && (prev == ' ' || prev == '\t' || i == 0) => return &line[..i],
            None => {}
        }
        prev = c;
    }
    line
}

fn unquote(s: &str) -> &str {
    let s = s.trim();
    for q in ['"', '\''] {
        if s.len() >= 2 && s.starts_with(q) && s.ends_with(q) {
            return &s[1..s.len() - 1];
        }
    }
    s
}

/// `key: rest` → (key, rest); a quoted key is unquoted.
fn key_value(text: &str) -> Option<(&str, &str)> {
    let (k, v) = if let Some(rest) = text.strip_prefix('"') {
        let end = rest.find('"')?;
        (
            &rest[..end],
            rest[end + 1..].trim_start().strip_prefix(':')?,
        )
    } else if let Some(rest) = text.strip_prefix('\'') {
        let end = rest.find('\'')?;
        (
            &rest[..end],
            rest[end + 1..].trim_start().strip_prefix(':')?,
        )
    } else {
        let at = text
            .find(": ")
            .or_else(|| text.ends_with(':').then(|| text.len() - 1))?;
        (&text[..at], &text[at + 1..])
    };
    Some((k.trim(), v.trim()))
}

/// The index just past the block of lines more indented than `lines[at]`.
fn block_end(lines: &[Line], at: usize) -> usize {
    let base = lines[at].indent;
    let mut i = at + 1;
    while i < lines.len() && lines[i].indent > base {
        i += 1;
    }
    i
}

/// The direct children (key, value, index) of the block `start..end`, at its first indentation.
fn children<'a>(lines: &'a [Line<'a>], start: usize, end: usize) -> Vec<(&'a str, &'a str, usize)> {
    let Some(first) = lines.get(start).filter(|_| start < end) else {
        return Vec::new();
    };
    let indent = first.indent;
    (start..end)
        .filter(|&i| lines[i].indent == indent)
        .filter_map(|i| key_value(lines[i].text).map(|(k, v)| (k, v, i)))
        .collect()
}

/// Reads the dispatch trigger and its inputs from a workflow file.
pub fn parse(yaml: &str) -> DispatchSpec {
    let lines = lines(yaml);
    let mut spec = DispatchSpec::default();
    let top = children(&lines, 0, lines.len());
    for (key, value, i) in &top {
        if *key == "run-name" && !value.is_empty() {
            spec.run_name = Some(unquote(value).to_string());
        }
        // YAML 1.1 reads a bare `on` as true; GitHub means the trigger either way.
        if !matches!(*key, "on" | "true") {
            continue;
        }
        if !value.is_empty() {
            let v = value.trim_start_matches('[').trim_end_matches(']');
            spec.dispatchable |= v.split(',').any(|e| unquote(e) == "workflow_dispatch");
            continue;
        }
        let end = block_end(&lines, *i);
        // `on:` followed by a block list (`- push`) or a mapping.
        for j in i + 1..end {
            if let Some(item) = lines[j].text.strip_prefix("- ") {
                spec.dispatchable |= unquote(item) == "workflow_dispatch";
            }
        }
        for (event, _, k) in children(&lines, i + 1, end) {
            if event != "workflow_dispatch" {
                continue;
            }
            spec.dispatchable = true;
            let ev_end = block_end(&lines, k);
            for (field, _, m) in children(&lines, k + 1, ev_end) {
                if field != "inputs" {
                    continue;
                }
                let in_end = block_end(&lines, m);
                for (name, _, n) in children(&lines, m + 1, in_end) {
                    let mut input = DeclaredInput {
                        name: unquote(name).to_string(),
                        required: false,
                        has_default: false,
                        kind: None,
                        options: Vec::new(),
                        default: None,
                    };
                    let attr_end = block_end(&lines, n);
                    for (attr, v, a) in children(&lines, n + 1, attr_end) {
                        match attr {
                            "required" => input.required = unquote(v) == "true",
                            "default" => {
                                input.has_default = true;
                                input.default = Some(unquote(v).to_string());
                            }
                            "type" => input.kind = Some(unquote(v).to_string()),
                            "options" if !v.is_empty() => {
                                let list = v.trim_start_matches('[').trim_end_matches(']');
                                input.options = list
                                    .split(',')
                                    .map(|o| unquote(o).to_string())
                                    .filter(|o| !o.is_empty())
                                    .collect();
                            }
                            "options" => {
                                // A block list, indented or (as YAML allows) not.
                                let at = lines[a].indent;
                                let items = lines[a + 1..attr_end].iter().take_while(|l| {
                                    l.indent > at || (l.indent == at && l.text.starts_with("- "))
                                });
                                for line in items {
                                    if let Some(item) = line.text.strip_prefix("- ") {
                                        input.options.push(unquote(item).to_string());
                                    }
                                }
                            }
                            _ => {}
                        }
                    }
                    spec.inputs.push(input);
                }
            }
        }
    }
    spec
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inputs_with_attributes() {
        let y = r#"
name: sherlock dispatch
run-name: "trackit ${{ inputs.wandb_run }}"
on:
  push:
    branches: [main]
  workflow_dispatch:
    inputs:
      script:   # the batch script
        description: "Batch script, relative to the repo"
        required: true
        type: string
      wandb_run:
        required: false
        default: ''
      'args':
        description: 'sbatch options # not a comment'
jobs:
  submit:
    runs-on: [self-hosted, sherlock]
    steps:
      - run: echo "${{ inputs.script }}"
"#;
        let s = parse(y);
        assert!(s.dispatchable);
        let names: Vec<&str> = s.inputs.iter().map(|i| i.name.as_str()).collect();
        assert_eq!(names, ["script", "wandb_run", "args"]);
        assert!(s.inputs[0].required && !s.inputs[1].required && s.inputs[1].has_default);
        assert_eq!(s.inputs[0].kind.as_deref(), Some("string"));
        assert_eq!(
            s.run_name.as_deref(),
            Some("trackit ${{ inputs.wandb_run }}")
        );
    }

    #[test]
    fn typed_inputs_are_checked_and_titles_rendered() {
        let y = "run-name: \"trackit ${{ inputs.wandb_run }} on ${{ inputs.part }}\"\non:\n  workflow_dispatch:\n    inputs:\n      script:\n        required: true\n      part:\n        type: choice\n        default: normal\n        options:\n        - normal\n        - gpu\n      dry:\n        type: boolean\n        options: [ignored]\n      wandb_run:\n        default: ''\n";
        let s = parse(y);
        assert_eq!(s.inputs[1].options, ["normal", "gpu"]);
        let given = |pairs: &[(&str, &str)]| -> std::collections::BTreeMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        assert!(s
            .check_inputs("w.yml", "main", &given(&[("script", "a.sh")]))
            .is_ok());
        let e = s
            .check_inputs(
                "w.yml",
                "main",
                &given(&[("script", "a.sh"), ("mem", "1G")]),
            )
            .unwrap_err();
        assert!(
            e.contains(
                "does not declare the input(s) mem (it declares: script, part, dry, wandb_run)"
            ),
            "{e}"
        );
        let e = s
            .check_inputs("w.yml", "main", &given(&[("part", "gpu")]))
            .unwrap_err();
        assert!(e.contains("requires the input(s) script"), "{e}");
        let e = s
            .check_inputs(
                "w.yml",
                "main",
                &given(&[("script", "a"), ("part", "bigmem")]),
            )
            .unwrap_err();
        assert!(e.contains("one of normal, gpu"), "{e}");
        let e = s
            .check_inputs("w.yml", "main", &given(&[("script", "a"), ("dry", "yes")]))
            .unwrap_err();
        assert!(e.contains("boolean"), "{e}");
        let inputs: serde_json::Map<String, serde_json::Value> =
            [("wandb_run".to_string(), serde_json::json!("t-a1"))]
                .into_iter()
                .collect();
        assert_eq!(
            s.run_title(&inputs).as_deref(),
            Some("trackit t-a1 on normal")
        );
        assert_eq!(
            parse("run-name: ${{ github.actor }}\non: workflow_dispatch\n").run_title(&inputs),
            None
        );
    }

    #[test]
    fn trigger_shapes() {
        assert!(parse("on: workflow_dispatch\njobs: {}\n").dispatchable);
        assert!(parse("on: [push, workflow_dispatch]\n").dispatchable);
        assert!(parse("\"on\":\n  - push\n  - workflow_dispatch\n").dispatchable);
        assert!(!parse("on:\n  push:\n    branches: [main]\n").dispatchable);
        let s = parse("on:\n  workflow_dispatch:\njobs:\n  a:\n    steps: []\n");
        assert!(s.dispatchable && s.inputs.is_empty());
        // Inputs of another event are not dispatch inputs.
        let s = parse("on:\n  workflow_call:\n    inputs:\n      x:\n        type: string\n  workflow_dispatch:\n");
        assert!(s.dispatchable && s.inputs.is_empty());
    }
}
