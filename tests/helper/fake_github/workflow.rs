//! A workflow file as GitHub reads it, parsed with a real YAML parser (yaml-rust2, never
//! trackit's own reader, so a bug there cannot be mirrored here): the dispatch trigger and its
//! declared inputs, `run-name`, and the jobs and steps the fake runner executes.
//!
//! The runner supports a small part of GitHub Actions; anything outside it is an error, so a
//! workflow the fake cannot run faithfully fails the test instead of passing by accident.

use std::collections::BTreeMap;
use yaml_rust2::{Yaml, YamlLoader};

#[derive(Debug, Clone)]
pub struct Input {
    pub name: String,
    pub required: bool,
    pub default: Option<String>,
    /// `string` (also when not given), `choice`, `boolean`, `number`, `environment`.
    pub kind: String,
    pub options: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Step {
    pub name: Option<String>,
    pub uses: Option<String>,
    pub run: Option<String>,
    pub with: BTreeMap<String, String>,
    pub env: BTreeMap<String, String>,
    pub shell: Option<String>,
    pub condition: Option<String>,
    pub working_directory: Option<String>,
    pub continue_on_error: bool,
}

#[derive(Debug, Clone)]
pub struct Job {
    pub id: String,
    pub name: String,
    pub env: BTreeMap<String, String>,
    pub steps: Vec<Step>,
}

#[derive(Debug, Clone)]
pub struct Workflow {
    pub name: Option<String>,
    pub run_name: Option<String>,
    /// None: no `workflow_dispatch` trigger.
    pub dispatch_inputs: Option<Vec<Input>>,
    pub env: BTreeMap<String, String>,
    pub jobs: Vec<Job>,
}

fn scalar(y: &Yaml) -> Option<String> {
    match y {
        Yaml::String(s) | Yaml::Real(s) => Some(s.clone()),
        Yaml::Integer(i) => Some(i.to_string()),
        Yaml::Boolean(b) => Some(b.to_string()),
        Yaml::Null => Some(String::new()),
        _ => None,
    }
}

fn key_str(k: &Yaml) -> Result<String, String> {
    scalar(k).ok_or_else(|| format!("a key that is not a scalar: {k:?}"))
}

fn map(y: &Yaml, what: &str) -> Result<Vec<(String, Yaml)>, String> {
    match y {
        Yaml::Hash(h) => h
            .iter()
            .map(|(k, v)| Ok((key_str(k)?, v.clone())))
            .collect(),
        Yaml::Null | Yaml::BadValue => Ok(Vec::new()),
        other => Err(format!("{what} is not a mapping: {other:?}")),
    }
}

fn string_map(y: &Yaml, what: &str) -> Result<BTreeMap<String, String>, String> {
    map(y, what)?
        .into_iter()
        .map(|(k, v)| {
            scalar(&v)
                .map(|s| (k.clone(), s))
                .ok_or_else(|| format!("{what}.{k} is not a scalar"))
        })
        .collect()
}

fn only_keys(entries: &[(String, Yaml)], allowed: &[&str], what: &str) -> Result<(), String> {
    for (k, _) in entries {
        if !allowed.contains(&k.as_str()) {
            return Err(format!(
                "{what}: `{k}` is not supported by the fake runner (supported: {})",
                allowed.join(", ")
            ));
        }
    }
    Ok(())
}

fn dispatch_inputs(on: &Yaml) -> Result<Option<Vec<Input>>, String> {
    let has = |name: &str| match on {
        Yaml::String(s) => s == name,
        Yaml::Array(a) => a.iter().any(|e| e.as_str() == Some(name)),
        _ => false,
    };
    if has("workflow_dispatch") {
        return Ok(Some(Vec::new()));
    }
    let events = match on {
        Yaml::Hash(_) => map(on, "on")?,
        _ => return Ok(None),
    };
    let Some((_, trigger)) = events.into_iter().find(|(k, _)| k == "workflow_dispatch") else {
        return Ok(None);
    };
    let mut inputs = Vec::new();
    for (name, spec) in map(&trigger["inputs"], "workflow_dispatch.inputs")? {
        let fields = map(&spec, &format!("input {name}"))?;
        only_keys(
            &fields,
            &[
                "description",
                "required",
                "default",
                "type",
                "options",
                "deprecationMessage",
            ],
            &format!("input {name}"),
        )?;
        let kind = spec["type"].as_str().unwrap_or("string").to_string();
        if !["string", "choice", "boolean", "number", "environment"].contains(&kind.as_str()) {
            return Err(format!("input {name}: unknown type {kind}"));
        }
        let required = match &spec["required"] {
            Yaml::Boolean(b) => *b,
            Yaml::BadValue | Yaml::Null => false,
            other => {
                return Err(format!(
                    "input {name}: required is not a boolean: {other:?}"
                ))
            }
        };
        let options = match &spec["options"] {
            Yaml::Array(a) => a.iter().filter_map(scalar).collect(),
            _ => Vec::new(),
        };
        inputs.push(Input {
            name,
            required,
            default: match &spec["default"] {
                Yaml::BadValue => None,
                d => scalar(d),
            },
            kind,
            options,
        });
    }
    Ok(Some(inputs))
}

/// Parses a workflow file; an error says what the fake cannot read or run.
pub fn parse(text: &str) -> Result<Workflow, String> {
    let docs = YamlLoader::load_from_str(text).map_err(|e| format!("invalid YAML: {e}"))?;
    let doc = docs.first().ok_or("an empty workflow file")?;
    let top = map(doc, "the workflow")?;
    only_keys(
        &top,
        &[
            "name",
            "run-name",
            "on",
            "jobs",
            "env",
            "permissions",
            "concurrency",
            "defaults",
        ],
        "the workflow",
    )?;
    let dispatch_inputs = dispatch_inputs(&doc["on"])?;
    let mut jobs = Vec::new();
    for (id, job) in map(&doc["jobs"], "jobs")? {
        let fields = map(&job, &format!("job {id}"))?;
        only_keys(
            &fields,
            &[
                "name",
                "runs-on",
                "env",
                "steps",
                "timeout-minutes",
                "permissions",
            ],
            &format!("job {id}"),
        )?;
        let mut steps = Vec::new();
        for (i, step) in job["steps"]
            .as_vec()
            .cloned()
            .unwrap_or_default()
            .iter()
            .enumerate()
        {
            let what = format!("job {id} step {}", i + 1);
            let fields = map(step, &what)?;
            only_keys(
                &fields,
                &[
                    "name",
                    "id",
                    "uses",
                    "run",
                    "with",
                    "env",
                    "shell",
                    "if",
                    "working-directory",
                    "continue-on-error",
                    "timeout-minutes",
                ],
                &what,
            )?;
            let s = Step {
                name: step["name"].as_str().map(str::to_string),
                uses: step["uses"].as_str().map(str::to_string),
                run: step["run"].as_str().map(str::to_string),
                with: string_map(&step["with"], &format!("{what}.with"))?,
                env: string_map(&step["env"], &format!("{what}.env"))?,
                shell: step["shell"].as_str().map(str::to_string),
                condition: scalar(&step["if"]).filter(|c| !c.is_empty()),
                working_directory: step["working-directory"].as_str().map(str::to_string),
                continue_on_error: step["continue-on-error"].as_bool().unwrap_or(false),
            };
            if s.uses.is_some() == s.run.is_some() {
                return Err(format!("{what}: exactly one of `uses` and `run`"));
            }
            steps.push(s);
        }
        jobs.push(Job {
            name: job["name"].as_str().unwrap_or(&id).to_string(),
            env: string_map(&job["env"], &format!("job {id}.env"))?,
            id,
            steps,
        });
    }
    if jobs.is_empty() {
        return Err("no jobs".into());
    }
    Ok(Workflow {
        name: doc["name"].as_str().map(str::to_string),
        run_name: doc["run-name"].as_str().map(str::to_string),
        dispatch_inputs,
        env: string_map(&doc["env"], "env")?,
        jobs,
    })
}

/// Checks a dispatch's inputs as GitHub does and returns every declared input's value
/// (defaults filled in). Err: the 422 message.
pub fn check_inputs(
    declared: &[Input],
    given: &serde_json::Map<String, serde_json::Value>,
) -> Result<BTreeMap<String, String>, String> {
    let unexpected: Vec<&String> = given
        .keys()
        .filter(|k| !declared.iter().any(|i| &i.name == *k))
        .collect();
    if !unexpected.is_empty() {
        return Err(format!("Unexpected inputs provided: {unexpected:?}"));
    }
    let mut values = BTreeMap::new();
    for input in declared {
        let value = match given.get(&input.name) {
            Some(serde_json::Value::String(s)) => Some(s.clone()),
            Some(serde_json::Value::Bool(b)) if input.kind == "boolean" => Some(b.to_string()),
            Some(serde_json::Value::Number(n)) if input.kind == "number" => Some(n.to_string()),
            Some(other) => {
                return Err(format!(
                    "Invalid value for input '{}': {other} is not a string",
                    input.name
                ))
            }
            None => None,
        };
        if value.is_none() && input.required && input.default.is_none() {
            return Err(format!("Required input '{}' not provided", input.name));
        }
        let value = value.or_else(|| input.default.clone()).unwrap_or_else(|| {
            if input.kind == "boolean" {
                "false".into()
            } else {
                String::new()
            }
        });
        match input.kind.as_str() {
            "choice" if !input.options.contains(&value) => {
                return Err(format!(
                    "Provided value '{value}' for input '{}' not in the list of allowed values",
                    input.name
                ))
            }
            "boolean" if value != "true" && value != "false" => {
                return Err(format!(
                    "Provided value '{value}' for input '{}' is not a boolean",
                    input.name
                ))
            }
            "number" if value.parse::<f64>().is_err() => {
                return Err(format!(
                    "Provided value '{value}' for input '{}' is not a number",
                    input.name
                ))
            }
            _ => {}
        }
        values.insert(input.name.clone(), value);
    }
    Ok(values)
}

/// The values `${{ ... }}` may name in the fake runner.
#[derive(Debug, Clone, Default)]
pub struct Context {
    pub inputs: BTreeMap<String, String>,
    /// `github.run_id`, `github.sha`, `github.ref_name`, `github.workspace`, ...
    pub github: BTreeMap<String, String>,
    /// `runner.temp`, `runner.os`.
    pub runner: BTreeMap<String, String>,
}

/// Replaces every `${{ expr }}` in `text`; an expression the fake does not know is an error.
pub fn expand(text: &str, ctx: &Context) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("${{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 3..];
        let end = after
            .find("}}")
            .ok_or_else(|| format!("unterminated expression in {text:?}"))?;
        let expr = after[..end].trim();
        let value = lookup(expr, ctx)?;
        out.push_str(&value);
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

fn lookup(expr: &str, ctx: &Context) -> Result<String, String> {
    let (scope, name) = expr
        .split_once('.')
        .ok_or_else(|| format!("unsupported expression `{expr}`"))?;
    let table = match scope {
        "inputs" => &ctx.inputs,
        "github" => &ctx.github,
        "runner" => &ctx.runner,
        _ => return Err(format!("unsupported expression `{expr}`")),
    };
    let name = name.strip_prefix("event.inputs.").unwrap_or(name);
    table
        .get(name)
        .cloned()
        .ok_or_else(|| format!("unsupported expression `{expr}`"))
}

/// Whether a step runs, from its `if:` and how the job went so far.
pub fn should_run(condition: Option<&str>, failed: bool, cancelled: bool) -> Result<bool, String> {
    let c = condition
        .map(|c| {
            c.trim()
                .trim_start_matches("${{")
                .trim_end_matches("}}")
                .trim()
        })
        .unwrap_or("success()");
    Ok(match c {
        "success()" => !failed && !cancelled,
        "always()" => true,
        "failure()" => failed && !cancelled,
        "cancelled()" => cancelled,
        "!cancelled()" => !cancelled,
        other => return Err(format!("unsupported `if: {other}`")),
    })
}
