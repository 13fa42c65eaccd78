//! A pipeline: named steps, each an sbatch job or a local command, run after the steps it
//! names. The file is Lua (so a loop makes a sweep); what it returns is checked here, in
//! plain Rust: unique names, one way to run each step, known predecessors, no cycle.

use serde::Deserialize;

/// What a pipeline file returns.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PipelineSpec {
    /// The experiment's name (default: the file's stem).
    #[serde(default)]
    pub name: Option<String>,
    pub steps: Vec<StepSpec>,
}

/// One step.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepSpec {
    pub name: String,
    /// sbatch's arguments, as typed after `trackit sbatch` (options, script, its arguments).
    #[serde(default)]
    pub sbatch: Option<Vec<String>>,
    /// A local command and its arguments.
    #[serde(default)]
    pub run: Option<Vec<String>>,
    /// Steps that must succeed first.
    #[serde(default)]
    pub after: Vec<String>,
    /// Where this step's result files are (file, folder or glob).
    #[serde(default)]
    pub results: Option<String>,
    /// The metrics to report for this step.
    #[serde(default)]
    pub metrics: Vec<String>,
}

impl StepSpec {
    pub fn is_slurm(&self) -> bool {
        self.sbatch.is_some()
    }
}

/// A problem with the file, located when it can be.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{location}: {message}")]
pub struct PipelineError {
    /// `file:line`, or `file: steps[3]` when no line can be named.
    pub location: String,
    pub message: String,
}

/// Checks the steps and returns them in an order where every step comes after the steps it
/// waits for. `file` and `source` locate errors.
pub fn validate(
    spec: PipelineSpec,
    file: &str,
    source: &str,
) -> Result<PipelineSpec, PipelineError> {
    let err = |i: usize, name: &str, message: String| PipelineError {
        location: locate(file, source, i, name),
        message,
    };
    if spec.steps.is_empty() {
        return Err(PipelineError {
            location: file.to_string(),
            message: "the pipeline has no steps (return { steps = { { name = ..., sbatch = {...} }, ... } })".into(),
        });
    }
    let names: Vec<&str> = spec.steps.iter().map(|s| s.name.as_str()).collect();
    for (i, s) in spec.steps.iter().enumerate() {
        if s.name.is_empty()
            || !s
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            || s.name.starts_with('.')
        {
            return Err(err(i, &s.name, format!(
                "step name {:?}: use letters, digits, '-', '_' and '.' (it names a folder and a table row)",
                s.name
            )));
        }
        if names[..i].contains(&s.name.as_str()) {
            return Err(err(i, &s.name, format!("two steps are named {:?}", s.name)));
        }
        match (&s.sbatch, &s.run) {
            (Some(a), None) | (None, Some(a)) if !a.is_empty() => {}
            (Some(_), Some(_)) => {
                return Err(err(
                    i,
                    &s.name,
                    format!("step {}: give sbatch or run, not both", s.name),
                ))
            }
            _ => {
                return Err(err(
                    i,
                    &s.name,
                    format!(
                        "step {}: give sbatch = {{ ARGS... }} or run = {{ CMD, ARGS... }}",
                        s.name
                    ),
                ))
            }
        }
        for a in &s.after {
            if !names.contains(&a.as_str()) {
                let hint = crate::settings::did_you_mean(a, names.iter().copied())
                    .map(|n| format!(" (did you mean {n:?}?)"))
                    .unwrap_or_default();
                return Err(err(
                    i,
                    &s.name,
                    format!(
                        "step {} runs after {a:?}, which is not a step{hint}",
                        s.name
                    ),
                ));
            }
            if a == &s.name {
                return Err(err(
                    i,
                    &s.name,
                    format!("step {} runs after itself", s.name),
                ));
            }
        }
    }
    // Kahn's algorithm, keeping the file's order among ready steps.
    let mut done: Vec<bool> = vec![false; spec.steps.len()];
    let mut order = Vec::with_capacity(spec.steps.len());
    while order.len() < spec.steps.len() {
        let next = (0..spec.steps.len()).find(|&i| {
            !done[i]
                && spec.steps[i]
                    .after
                    .iter()
                    .all(|a| names.iter().position(|n| n == a).is_some_and(|j| done[j]))
        });
        let Some(i) = next else {
            let stuck: Vec<&str> = (0..spec.steps.len())
                .filter(|&i| !done[i])
                .map(|i| names[i])
                .collect();
            return Err(PipelineError {
                location: locate(
                    file,
                    source,
                    (0..done.len()).find(|&i| !done[i]).unwrap_or(0),
                    stuck[0],
                ),
                message: format!(
                    "the steps {} wait for each other (a cycle)",
                    stuck.join(", ")
                ),
            });
        };
        done[i] = true;
        order.push(spec.steps[i].clone());
    }
    Ok(PipelineSpec {
        name: spec.name,
        steps: order,
    })
}

/// `file:line` of the step named `name` when the source spells it out (`name = "train"`),
/// else `file: steps[i]` (a name built in a loop).
fn locate(file: &str, source: &str, i: usize, name: &str) -> String {
    if !name.is_empty() {
        for quote in ['"', '\''] {
            let needle = format!("{quote}{name}{quote}");
            if let Some((n, _)) = source
                .lines()
                .enumerate()
                .find(|(_, l)| l.contains("name") && l.contains(&needle))
            {
                return format!("{file}:{}", n + 1);
            }
        }
    }
    format!("{file}: steps[{}]", i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(name: &str, after: &[&str]) -> StepSpec {
        StepSpec {
            name: name.into(),
            sbatch: Some(vec![format!("{name}.sh")]),
            run: None,
            after: after.iter().map(|s| s.to_string()).collect(),
            results: None,
            metrics: Vec::new(),
        }
    }

    #[test]
    fn orders_steps_after_their_predecessors() {
        let spec = PipelineSpec {
            name: None,
            steps: vec![
                step("eval", &["train"]),
                step("prepare", &[]),
                step("train", &["prepare"]),
            ],
        };
        let v = validate(spec, "p.lua", "").unwrap();
        let names: Vec<&str> = v.steps.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["prepare", "train", "eval"]);
    }

    #[test]
    fn errors_name_the_line() {
        let src = "return { steps = {\n  { name = \"prep\", sbatch = {\"p.sh\"} },\n  { name = \"train\", sbatch = {\"t.sh\"}, after = {\"prpe\"} },\n} }\n";
        let spec = PipelineSpec {
            name: None,
            steps: vec![step("prep", &[]), step("train", &["prpe"])],
        };
        let e = validate(spec, "p.lua", src).unwrap_err();
        assert_eq!(e.location, "p.lua:3");
        assert!(e.message.contains("did you mean \"prep\""), "{e}");
        let cyc = PipelineSpec {
            name: None,
            steps: vec![step("a", &["b"]), step("b", &["a"])],
        };
        assert!(validate(cyc, "p.lua", "")
            .unwrap_err()
            .message
            .contains("cycle"));
        let mut both = step("x", &[]);
        both.run = Some(vec!["true".into()]);
        let e = validate(
            PipelineSpec {
                name: None,
                steps: vec![both],
            },
            "p.lua",
            "",
        )
        .unwrap_err();
        assert_eq!(e.location, "p.lua: steps[1]");
    }
}
